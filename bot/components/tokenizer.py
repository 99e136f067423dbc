"""Rasa's tokens for Chinese and English in one pipeline.

Rasa scores entities (`rasa test nlu`) and checks training annotations on
its own tokens, so an entity must start and end on a token boundary. Here a
token is a Han character, a run of letters (with inner apostrophes:
"don't"), a number ("4.5"), or one other visible character ("-", "!",
"，"). So any span falls on boundaries: inside unspaced Chinese
(`推荐一部[九十年代](year)的[喜剧](genre)电影`), against punctuation
(`[E.T.](title)`, `[Apollo 13](title)?看过了`), and between numbers and
letters (`[Terminator 2](title)PK`). A word segmenter (jieba) would glue
spans to their neighbours ("打4分", "年代的"); Rasa's WhitespaceTokenizer
keeps "13?看过了" as one word and drops Chinese words after a space as
emoji (its pattern spans all of CJK). The BERT component reads the text
with its encoder's own word-pieces; these tokens are only for Rasa.
"""

from __future__ import annotations

import regex
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

LETTERS = r"(?:(?!\p{Han})\p{L})+"  # letters of spaced scripts
TOKEN = regex.compile(rf"\p{{Han}}|{LETTERS}(?:['’]{LETTERS})*|\p{{N}}+(?:[.,]\p{{N}}+)*|[^\s\p{{L}}\p{{N}}]")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class WhitespaceHanTokenizer(WhitespaceTokenizer):
    """Letters, numbers, Han characters and other characters as tokens (WhitespaceTokenizer's
    options, for intents split into tokens and a token pattern, still apply)."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute) or ""
        tokens = [Token(found.group(), found.start()) for found in TOKEN.finditer(text)]
        return self._apply_token_pattern(tokens or [Token(text, 0)])

"""Rasa's tokens for Chinese and English in one pipeline.

Rasa scores entities (`rasa test nlu`) and checks training annotations on
its own tokens, so an entity must start and end on a token boundary. Spaced
text splits on whitespace as in Rasa's WhitespaceTokenizer; in unspaced
Chinese every Han character is a token of its own, so any annotated span
(`推荐一部[九十年代](year)的[喜剧](genre)电影`) falls on boundaries. A word
segmenter (jieba) would glue spans to their neighbours ("打4分" or
"九十年代的" as one word) and misalign them. The BERT component reads the
text with its own word-pieces; these tokens are only for Rasa.
"""

from __future__ import annotations

from typing import List, Text

import regex
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

HAN = regex.compile(r"\p{Han}")
HAN_OR_RUN = regex.compile(r"\p{Han}|[^\p{Han}]+")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class WhitespaceHanTokenizer(WhitespaceTokenizer):
    """WhitespaceTokenizer, with each Han character a token of its own."""

    def remove_emoji(self, text: Text) -> Text:
        """Rasa's emoji pattern spans U+24C2-U+1F251, all of CJK with it: a Chinese word after
        a space or comma ("好笑" in "电影, 好笑") would be dropped as an emoji."""
        return text if HAN.search(text) else super().remove_emoji(text)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        tokens = []
        for word in super().tokenize(message, attribute):
            for part in HAN_OR_RUN.finditer(word.text):
                tokens.append(Token(part.group(), word.start + part.start()))
        return tokens

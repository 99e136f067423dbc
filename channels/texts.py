"""What the adapters themselves say (the bot's replies come from the bot), in the person's
language: the message's own, else the platform's guess (Telegram's `language_code`); and how
an item of a reply reads ("2. Fargo (1996) — Crime, Drama"), from its fields."""

from __future__ import annotations

from collections.abc import Callable

from chatrec.contracts import ReplyItem
from chatrec.language import Language

TEXTS = {
    Language.ENGLISH: {
        "apology": "Sorry, I can't think right now. Please try again in a minute.",
        "text_only": "I read text messages only: tell me what you'd like, or say \"help\".",
        "button_expired": "This button has expired; ask me again.",
        "already_noted": "Already noted.",
        "back": "« {count} items",
        "genres": ", ",  # between genre names
        "note": ". ",  # between an item and its note
    },
    Language.CHINESE: {
        "apology": "抱歉，我现在没法思考，请过一分钟再试。",
        "text_only": "我只看得懂文字消息：告诉我你想要什么，或者说“帮助”。",
        "button_expired": "这个按钮已过期，请重新问我。",
        "already_noted": "已经记下了。",
        "back": "« 全部{count}个",
        "genres": "、",
        "note": "。",
    },
}


def text(language: Language | str | None, key: str, **values: object) -> str:
    try:
        found = TEXTS[Language(language)] if language else TEXTS[Language.ENGLISH]
    except ValueError:
        found = TEXTS[Language.ENGLISH]
    return found[key].format(**values)


def same(words: str) -> str:
    return words


def item_line(item: ReplyItem, language: Language | str | None, escape: Callable[[str], str] = same,
              strong: Callable[[str], str] = same) -> str:
    """"2. Fargo (1996) — Crime, Drama. Rated 4.1/5 by 30 people." in the channel's markup:
    `escape` makes text safe in it, `strong` emphasises the (escaped) title."""
    number = f"{item.position}. " if item.position is not None else ""
    year = f" ({item.year})" if item.year is not None else ""
    genres = text(language, "genres").join(item.genres)
    line = number + strong(escape(item.title)) + escape(year + (f" — {genres}" if genres else ""))
    return line + (escape(text(language, "note") + item.note) if item.note else "")

"""What the adapters themselves say (the bot's replies come from the bot), in the person's
language: the message's own, else the platform's guess (Telegram's `language_code`)."""

from __future__ import annotations

from chatrec.language import Language

TEXTS = {
    Language.ENGLISH: {
        "apology": "Sorry, I can't think right now. Please try again in a minute.",
        "text_only": "I read text messages only: tell me what you'd like, or say \"help\".",
        "button_expired": "This button has expired; ask me again.",
        "list_expired": "This list has expired; ask me again.",
        "already_noted": "Already noted.",
        "back": "« {count} items",
    },
    Language.CHINESE: {
        "apology": "抱歉，我现在没法思考，请过一分钟再试。",
        "text_only": "我只看得懂文字消息：告诉我你想要什么，或者说“帮助”。",
        "button_expired": "这个按钮已过期，请重新问我。",
        "list_expired": "这个列表已过期，请重新问我。",
        "already_noted": "已经记下了。",
        "back": "« 全部{count}个",
    },
}


def text(language: Language | str | None, key: str, **values: object) -> str:
    try:
        found = TEXTS[Language(language)] if language else TEXTS[Language.ENGLISH]
    except ValueError:
        found = TEXTS[Language.ENGLISH]
    return found[key].format(**values)

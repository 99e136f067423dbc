"""The languages the bot speaks, which one a message is written in, and Chinese numbers.

Every process needs the same answer (the actions pick reply texts by it,
the channel adapters label their own messages by it), so it lives here, at
the bottom of the tree.
"""

from __future__ import annotations

import re
from enum import Enum


class Language(str, Enum):
    ENGLISH = "en"
    CHINESE = "zh"


DEFAULT = Language.ENGLISH
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
BUTTON_PAYLOAD = re.compile(r"^/\w+")  # "/affirm", "/feedback_positive{...}": no language in it


def detect(text: str) -> Language | None:
    """The language a message is written in, or None when it shows none (emoji, numbers, a
    button's payload). Chinese when it has at least as many Han characters as Latin words, so
    that an English title in a Chinese sentence ("类似Fargo的电影") keeps it Chinese."""
    if not text or BUTTON_PAYLOAD.match(text.strip()):
        return None
    han, latin = len(HAN.findall(text)), len(LATIN_WORD.findall(text))
    if han and han >= latin:
        return Language.CHINESE
    if latin:
        return Language.ENGLISH
    return None


def from_code(code: str | None) -> Language | None:
    """A platform's language code ("zh-hans", "en-GB", Telegram's `language_code`) as ours."""
    head = (code or "").lower().split("-")[0].split("_")[0]
    return next((language for language in Language if language.value == head), None)


def of_message(text: str, hint: str | None = None, previous: str | None = None) -> Language:
    """What to answer in: the message's own language, else the language of the conversation so
    far, else the platform's guess (Telegram's `language_code`), else English."""
    return detect(text) or from_code(previous) or from_code(hint) or DEFAULT


_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
CHINESE_NUMBER = re.compile(r"[零〇一二两兩三四五六七八九十]+")


def chinese_number(text: str) -> int | None:
    """A number written in Chinese characters, up to 99: "四" 4, "十五" 15, "九十" 90, "两" 2."""
    if not text or not CHINESE_NUMBER.fullmatch(text):
        return None
    if "十" not in text:
        value = 0
        for character in text:  # "九五" (95, read digit by digit)
            value = value * 10 + _DIGITS[character]
        return value
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)

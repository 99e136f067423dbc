"""Entity values people write, turned into what the recommender needs.

Ordinals become positions in the last list shown ("the second one" -> 2,
"#3" -> 3, "the last one" -> -1) and ratings become stars. Years depend on
the catalog (what "recent" means, which century "'05" is in): the actions
resolve them (actions/years.py). Genres are mapped by Rasa's
EntitySynonymMapper (synonyms in bot/data) and titles by the recommender's
fuzzy title lookup, which the actions reach through the Celery tasks.
"""

from __future__ import annotations

import re

from chatrec.language import CHINESE_NUMBER, chinese_number

_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                  "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "one": 1, "two": 2, "three": 3,
                  "four": 4, "five": 5}
_LAST = {"last", "final", "bottom"}
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


_CHINESE_ORDINAL = re.compile(r"(倒数)?第?\s*(\d+|[零〇一二两兩三四五六七八九十]+)"
                              r"\s*(?:个|部|本|件|条|款|项|名|号)?")
_CHINESE_LAST = re.compile(r"最后|末尾|最末")


def _chinese_ordinal(text: str) -> int | None:
    """"第二部" 2, "第3个" 3, "最后一个" -1, "倒数第二个" -2."""
    if _CHINESE_LAST.search(text):
        return -1
    found = _CHINESE_ORDINAL.search(text)
    if not found or not (found.group(0).startswith(("第", "倒数")) or found.group(0) != found.group(2)):
        return None
    number = int(found.group(2)) if found.group(2).isdigit() else chinese_number(found.group(2))
    if not number:
        return None
    return -number if found.group(1) else number


def ordinal_position(text: str) -> int | None:
    """1-based position in the last list, -1 for "the last one" (-2 the one before it), None if
    not an ordinal. Chinese too: "第二部", "最后一个", "倒数第二个"."""
    if re.search(r"[\u4e00-\u9fff]", text):
        return _chinese_ordinal(text)
    lowered = text.lower()
    words = re.findall(r"[a-z]+", lowered)
    if any(w in _LAST for w in words):
        return -1
    number = re.search(r"(\d+)", lowered)
    if number:
        return int(number.group(1)) or None
    for word in words:
        if word in _ORDINAL_WORDS and word not in ("one",):
            return _ORDINAL_WORDS[word]
    return 1 if words == ["one"] else None


def rating_value(text: str) -> float | None:
    """Stars from "4", "four", "4 out of 5", "3/5", "4.5", "四", "两"; None outside 0-5."""
    lowered = text.lower()
    number = re.search(r"\d+(?:\.\d+)?", lowered)
    chinese = CHINESE_NUMBER.search(lowered)
    value: float | None
    if number:
        value = float(number.group())
    elif chinese:
        value = float(chinese_number(chinese.group()) or 0)
    else:
        value = next((float(v) for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered)), None)
    out_of = re.search(r"(?:out of|/)\s*(\d+)", lowered)
    if value is not None and out_of and int(out_of.group(1)) not in (0, 5):
        value = value * 5 / int(out_of.group(1))
    return value if value is not None and 0 <= value <= 5 else None

"""Entity values people write, turned into what the recommender needs.

Year expressions become inclusive ranges ("the 90s" -> 1990-1999,
"eighties" -> 1980-1989, "recent" -> the last five catalog years), and
ordinals become positions in the last list shown ("the second one" -> 2,
"#3" -> 3, "the last one" -> -1). Genres are mapped by Rasa's
EntitySynonymMapper (synonyms in bot/data) and titles by the recommender's
fuzzy title lookup, which the actions reach through the Celery tasks.
"""

from __future__ import annotations

import re

LATEST_YEAR = 1998  # the newest films in MovieLens 100K
RECENT_YEARS = 5

_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950,
                 "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}
_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                  "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "one": 1, "two": 2, "three": 3,
                  "four": 4, "five": 5}
_LAST = {"last", "final", "bottom"}
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def year_range(text: str) -> tuple[int, int] | None:
    """(first, last) year meant by a year expression; None when it names no year."""
    lowered = text.lower().strip()
    if re.search(r"\b(recent|new|newer|newest|latest|modern)\b", lowered):
        return LATEST_YEAR - RECENT_YEARS + 1, LATEST_YEAR
    for word, decade in _DECADE_WORDS.items():
        if word in lowered:
            return decade, decade + 9
    between = re.search(r"(\d{4})\D+(\d{4})", lowered)
    if between:
        first, last = sorted((int(between.group(1)), int(between.group(2))))
        return first, last
    full = re.search(r"\b(1[89]\d\d|20\d\d)(?:'?s)?\b", lowered)
    if full:
        year = int(full.group(1))
        decade = bool(re.search(r"\b\d{4}'?s\b", lowered))
        bound = _bound(lowered)
        if decade:
            return year, year + 9
        if bound == "after":
            return year + 1, max(year + 1, LATEST_YEAR)
        if bound == "before":
            return 1900, year - 1
        return year, year
    short = re.search(r"(?:^|\s|')(\d)0'?s\b", lowered) or re.search(r"'(\d)0s?\b", lowered)
    if short:
        decade = 1900 + int(short.group(1)) * 10
        return decade, decade + 9
    two_digit = re.search(r"'(\d\d)\b", lowered)
    if two_digit:
        year = 1900 + int(two_digit.group(1))
        return year, year
    if re.search(r"\b(old|older|classic|classics)\b", lowered):
        return 1900, 1969
    return None


def _bound(text: str) -> str | None:
    """"after 1990" / "before 1980": an open-ended range."""
    if re.search(r"\b(after|since|newer than|later than)\b", text):
        return "after"
    if re.search(r"\b(before|until|older than|earlier than|pre)\b", text):
        return "before"
    return None


def ordinal_position(text: str) -> int | None:
    """1-based position in the last list, -1 for "the last one", None if not an ordinal."""
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
    """Stars from "4", "four", "4 out of 5", "3/5", "4.5"; None outside 0-5."""
    lowered = text.lower()
    number = re.search(r"\d+(?:\.\d+)?", lowered)
    value = float(number.group()) if number else next(
        (float(v) for w, v in _NUMBER_WORDS.items() if re.search(rf"\b{w}\b", lowered)), None)
    out_of = re.search(r"(?:out of|/)\s*(\d+)", lowered)
    if value is not None and out_of and int(out_of.group(1)) not in (0, 5):
        value = value * 5 / int(out_of.group(1))
    return value if value is not None and 0 <= value <= 5 else None

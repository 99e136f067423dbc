"""Year expressions, resolved against the catalog's own years.

    since 1990, 1990 onwards      1990 .. newest      (inclusive)
    after / newer than 1990       1991 .. newest
    before / older than 1990      oldest .. 1989
    until / up to 1990            oldest .. 1990
    between 1995 and 1990         1990 .. 1995        (either order; also "1990 to 1995", "1990-1995")
    the 80s, '80s, eighties, 1980s   1980 .. 1989
    1995, '95                     that year
    recent, latest, new           the catalog's newest five years
    old, classic                  the catalog's oldest third

Two-digit years and decades ("'05", "the 20s") take the century that puts
them in or nearest to the catalog's span. Chinese expressions are read as
their English counterparts: 九十年代 / 90年代 the 90s, 八十年代初 early 80s,
1995年 / 95年 that year, 2000年以后 after 2000, 1990年以来 since 1990,
1980年以前 before 1980, 1990到1995年 1990 to 1995, 最近 / 最新 / 近几年
recent, 老 / 经典 old.
"""

from __future__ import annotations

import re

from chatrec.language import HAN, chinese_number

RECENT_YEARS = 5
DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                "eighties": 80, "nineties": 90, "noughties": 0, "tens": 10}
YEAR = r"(?:(?:1[89]|20)\d\d|'\d\d)"  # 1995, 2005, '95
# words around a single year that make it a bound
LOWER_INCLUSIVE = re.compile(r"\b(since|starting|as of|onwards?"
                             r"|or (later|newer|after)|and (later|newer|after))\b"
                             r"|\bfrom\b.*\b(on|onwards?)\b")
LOWER_EXCLUSIVE = re.compile(r"\b(after|newer than|later than|more recent than|younger than)\b")
UPPER_EXCLUSIVE = re.compile(r"\b(before|older than|earlier than|pre)\b")
UPPER_INCLUSIVE = re.compile(r"\b(until|till|up to|through|no later than|or (earlier|before|older))\b")


def _year(token: str, first: int, last: int) -> int:
    """A four-digit year, or a two-digit one in the century nearest the catalog's span."""
    if not token.startswith("'"):
        return int(token)
    return _nearest([1900 + int(token[1:]), 2000 + int(token[1:])], first, last)


def _nearest(candidates: list[int], first: int, last: int, width: int = 0) -> int:
    def distance(start: int) -> int:
        end = start + width
        return 0 if end >= first and start <= last else min(abs(start - last), abs(end - first))
    return min(candidates, key=lambda start: (distance(start), -start))


def _decade(text: str, first: int, last: int) -> int | None:
    for word, decade in DECADE_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return _nearest([1900 + decade, 2000 + decade], first, last, 9)
    full = re.search(r"\b(1[89]|20)(\d)0'?s\b", text)
    if full:
        return int(full.group(1) + full.group(2) + "0")
    short = re.search(r"(?:^|[\s'])(\d)0'?s\b", text)
    if short:
        decade = int(short.group(1)) * 10
        return _nearest([1900 + decade, 2000 + decade], first, last, 9)
    return None


_CHINESE_DECADE = re.compile(r"(?:上世纪|上个世纪|20世纪|二十世纪)?([零〇一二三四五六七八九十\d]+)年代"
                             r"([初末中]|早期|晚期|后期)?")
_CHINESE_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)年?|(?<!\d)(\d{2})年")
_CHINESE_WORDS = [  # longest first
    ("以后", " after "), ("之后", " after "), ("以来", " since "), ("开始", " since "), ("起", " since "),
    ("以前", " before "), ("之前", " before "), ("到", " to "), ("至", " to "), ("近几年", " recent "),
    ("近年", " recent "), ("最近", " recent "), ("最新", " recent "), ("新", " new "), ("经典", " classic "),
    ("老", " old "),
]
_DECADE_PART = {"初": "early", "早期": "early", "末": "late", "晚期": "late", "后期": "late", "中": ""}


def _from_chinese(text: str) -> str:
    """A Chinese year expression in the English words year_range reads."""
    def decade(match: re.Match) -> str:
        number = match.group(1)
        value = int(number) if number.isdigit() else chinese_number(number)
        part = _DECADE_PART.get(match.group(2) or "", "")
        return f" {part} {value % 100:02d}s " if value is not None else " "
    text = _CHINESE_DECADE.sub(decade, text)
    text = _CHINESE_YEAR.sub(lambda m: f" {m.group(1) or chr(39) + m.group(2)} ", text)
    for word, english in _CHINESE_WORDS:
        text = text.replace(word, english)
    return text


def year_range(text: str, first: int, last: int) -> tuple[int, int] | None:
    """(from, to), inclusive, for a year expression in a catalog whose years run first..last."""
    if HAN.search(text):
        text = _from_chinese(text)
    text = " " + text.lower().replace("’", "'").strip() + " "
    years = [_year(token, first, last) for token in re.findall(rf"(?<![\d]){YEAR}(?![\d])", text)]
    if len(years) >= 2 and not re.search(r"\b\d0'?s\b", text):
        return min(years[:2]), max(years[:2])
    if years and not re.search(r"\d0'?s\b", text):
        year = years[0]
        if LOWER_EXCLUSIVE.search(text):
            return year + 1, max(year + 1, last)
        if UPPER_EXCLUSIVE.search(text):
            return min(first, year - 1), year - 1
        if UPPER_INCLUSIVE.search(text):
            return min(first, year), year
        if LOWER_INCLUSIVE.search(text):
            return year, max(year, last)
        return year, year
    decade = _decade(text, first, last)
    if decade is not None:
        if re.search(r"\b(early)\b", text):
            return decade, decade + 3
        if re.search(r"\b(late)\b", text):
            return decade + 6, decade + 9
        return decade, decade + 9
    if re.search(r"\b(recent|new|newer|newest|latest|modern)\b", text):
        return max(first, last - RECENT_YEARS + 1), last
    if re.search(r"\b(old|older|oldest|classic|classics|vintage)\b", text):
        return first, first + max(RECENT_YEARS, (last - first) // 3)
    return None


def outside(found: tuple[int, int], first: int, last: int) -> str | None:
    """Why a range misses the catalog entirely ("newest" / "oldest"), or None when it overlaps."""
    if found[0] > last:
        return "newest"
    if found[1] < first:
        return "oldest"
    return None

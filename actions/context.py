"""What the conversation so far says: entities of the latest message, the
request built up over turns, and which item "it", "that one" or "the
second one" means."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.years import year_range
from chatrec.language import HAN, Language
from recommender.domain.titles import genre_key

EMPTY_REQUEST: dict[str, Any] = {"genres": [], "exclude_genres": [], "year_from": None, "year_to": None,
                                 "similar_to": [], "critiques": []}
KEEP_WORDS = ("also", "too", "and", "as well", "plus", "both")
CHINESE_KEEP_WORDS = ("也", "还要", "再加", "加上", "同时", "都要")
CHINESE_BOUNDS = ("以后", "之后", "以来", "以前", "之前")


def language(tracker: Tracker) -> str:
    """The language to answer in (slot `language`, set from each message by action_detect_language)."""
    return tracker.get_slot("language") or Language.ENGLISH.value


def entities(tracker: Tracker, name: str) -> list[dict]:
    return [e for e in tracker.latest_message.get("entities", []) if e.get("entity") == name]


def values(tracker: Tracker, name: str) -> list[str]:
    return list(dict.fromkeys(str(e["value"]) for e in entities(tracker, name)
                              if str(e.get("value", "")).strip()))


def message_id(tracker: Tracker) -> str:
    """A stable id for the latest user message (the same when a delivery is retried)."""
    latest = tracker.latest_message
    if latest.get("message_id"):
        return str(latest["message_id"])
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return f"{tracker.sender_id}@{event.get('timestamp')}"
    return tracker.sender_id


def message_time(tracker: Tracker) -> float:
    """When the person sent the latest message (unix seconds): what their writes carry, so
    that a write replayed after they asked to be forgotten is refused."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and event.get("timestamp"):
            return float(event["timestamp"])
    return time.time()


def request(tracker: Tracker) -> dict:
    """The request so far (slot `constraints`), as the recommender's Constraints fields."""
    return {**EMPTY_REQUEST, **(tracker.get_slot("constraints") or {})}


def year_texts(tracker: Tracker) -> list[str]:
    """Each year entity with the words just before it ("newer than" + "1995"), or in Chinese
    just after it ("1995年" + "以后"): the NLU may leave a bound outside the entity."""
    text = str(tracker.latest_message.get("text") or "")
    found = []
    for entity in entities(tracker, "year"):
        start, end = entity.get("start"), entity.get("end")
        if start is None or end is None:
            found.append(str(entity.get("value", "")))
            continue
        if HAN.search(text):  # Chinese bounds follow the year: "1995年[以后]"
            after = next((word for word in CHINESE_BOUNDS if text[end:].startswith(word)), "")
            found.append(text[start:end] + ("" if text[start:end].endswith(after) else after))
            continue
        before = " ".join(text[:start].split()[-3:])
        found.append(f"{before} {text[start:end]}")
    return found


def requested_years(tracker: Tracker, vocabulary: dict) -> tuple[int, int] | None:
    """The year range the latest message asks for, in the catalog's terms (actions/years.py)."""
    first, last = vocabulary.get("first_year"), vocabulary.get("last_year")
    if first is None or last is None:
        return None
    ranges = [found for found in (year_range(text, first, last) for text in year_texts(tracker)) if found]
    return (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None


def genre_values(tracker: Tracker, vocabulary: dict) -> list[str]:
    """Genre entities, each widened by a word next to it when that makes a genre the catalog
    knows and the entity alone is not one ("a film noir": the NLU may tag only "film")."""
    text = str(tracker.latest_message.get("text") or "")
    known = {genre_key(phrase) for phrase in vocabulary.get("genre_phrases") or []}
    found = []
    for entity in entities(tracker, "genre"):
        value, start, end = str(entity.get("value", "")).strip(), entity.get("start"), entity.get("end")
        if known and start is not None and end is not None and genre_key(value) not in known:
            before, after = text[:start].split()[-1:], text[end:].split()[:1]
            wider = [" ".join(before + [text[start:end]]), " ".join([text[start:end]] + after)]
            value = next((w for w in wider if genre_key(w) in known), value)
        if value:
            found.append(value)
    return list(dict.fromkeys(found + mentioned_genres(tracker, vocabulary)))


def mentioned_genres(tracker: Tracker, vocabulary: dict) -> list[str]:
    """The catalog's genre words said anywhere in the message outside the entities the NLU found
    ("something for the kitchen", "kitchen stuff", "any recent books?", "厨房用品"): singular or
    plural, any case; a Chinese word anywhere in unspaced text. Longer words first."""
    text = str(tracker.latest_message.get("text") or "").lower()
    taken = [(e["start"], e["end"]) for e in tracker.latest_message.get("entities", [])
             if e.get("start") is not None and e.get("end") is not None]
    found = []
    for phrase in sorted(vocabulary.get("genre_phrases") or [], key=len, reverse=True):
        pattern = (re.escape(phrase) if HAN.search(phrase)
                   else rf"(?<![\w-]){re.escape(phrase)}(?:s|es)?(?![\w-])")
        for match in re.finditer(pattern, text):
            if not any(start < match.end() and match.start() < end for start, end in taken):
                taken.append(match.span())
                found.append(phrase)
    return found


def negated_genres(tracker: Tracker) -> list[str]:
    """Genre entities said with a negation just before them ("a comedy but not a romance",
    "no horror", "不要恐怖片"): what the request excludes."""
    text = str(tracker.latest_message.get("text") or "")
    found = []
    for entity in entities(tracker, "genre"):
        start = entity.get("start")
        if start is None:
            continue
        before = text[:start]
        english = " ".join(before.lower().split()[-3:])
        if NEGATED_GENRE.search(english) or CHINESE_NEGATED_GENRE.search(before.rstrip()):
            found.append(str(entity.get("value", "")).strip())
    return [genre for genre in found if genre]


def updated_request(tracker: Tracker, vocabulary: dict) -> dict:
    """The request so far, refined by the latest message: new kinds of constraint are added
    ("a comedy" -> "from the 90s"), a new genre replaces the old ones unless the message
    adds to them ("also romantic"), a new year range or "like X" replaces the old one. A new
    genre (not an added one) or "like X" is a new direction: the critiques of the old one are
    dropped."""
    current = request(tracker)
    text = str(tracker.latest_message.get("text") or "").lower()
    excluded = negated_genres(tracker)
    genres = [genre for genre in genre_values(tracker, vocabulary) if genre not in excluded]
    if excluded:
        current["exclude_genres"] = list(dict.fromkeys(current["exclude_genres"] + excluded))
        current["genres"] = [genre for genre in current["genres"] if genre not in excluded]
    keep = (any(f" {word} " in f" {text} " for word in KEEP_WORDS)
            or any(word in text for word in CHINESE_KEEP_WORDS))
    if genres:
        current["genres"] = list(dict.fromkeys((current["genres"] if keep else []) + genres))
    years = requested_years(tracker, vocabulary)
    if years:
        current["year_from"], current["year_to"] = years
    titles = values(tracker, "title")
    if titles:
        current["similar_to"] = titles
    if (genres and not keep) or titles:
        current["critiques"] = []
    return current


@dataclass(frozen=True)
class ItemReference:
    """An item the person pointed at: `reference` is an id or a title for the recommender."""
    reference: str
    label: str


def ordinal_position(tracker: Tracker) -> int | None:
    for entity in entities(tracker, "ordinal"):
        position = (entity.get("normalised") or {}).get("position")
        if position:
            return int(position)
    return None


def shown_at(shown: list[dict], position: int | None) -> dict | None:
    """The item at a 1-based position of the last list (-1: the last one, -2: the one before)."""
    if not position:
        return None
    index = len(shown) + position if position < 0 else position - 1
    return shown[index] if 0 <= index < len(shown) else None


def item_reference(tracker: Tracker) -> ItemReference | None:
    """The item the latest message is about: a button's item id, a named title,
    a position in the last list, or the last item talked about."""
    ids = values(tracker, "item_id")
    if ids:
        return ItemReference(ids[0], _title_of(tracker, ids[0]) or ids[0])
    titles = values(tracker, "title")
    if titles:
        return ItemReference(titles[0], titles[0])
    position = ordinal_position(tracker)
    shown = tracker.get_slot("last_list") or []
    if position is not None:
        item = shown_at(shown, position)
        return ItemReference(item["id"], item["title"]) if item else None
    last = tracker.get_slot("last_item")
    if last:
        return ItemReference(last["id"], last["title"])
    if len(shown) == 1:
        return ItemReference(shown[0]["id"], shown[0]["title"])
    return None


def _title_of(tracker: Tracker, item_id: str) -> str | None:
    for item in (tracker.get_slot("last_list") or []) + [tracker.get_slot("last_item") or {}]:
        if item.get("id") == item_id:
            return item.get("title")
    return None


def item_pair(tracker: Tracker) -> tuple[str, str] | None:
    """Two items to compare: named titles, ids, or positions in the last list."""
    found = values(tracker, "item_id") + values(tracker, "title")
    shown = tracker.get_slot("last_list") or []
    for entity in entities(tracker, "ordinal"):
        item = shown_at(shown, (entity.get("normalised") or {}).get("position"))
        if item is not None:
            found.append(item["id"])
    if len(found) == 1 and tracker.get_slot("last_item"):
        found.insert(0, tracker.get_slot("last_item")["id"])
    return (found[0], found[1]) if len(found) >= 2 else None


NEGATIVE_WORDS = re.compile(r"\b(don'?t|do not|doesn'?t|not|never|no more|hate|dislike|can'?t stand|"
                            r"avoid|without|except|sick of|tired of)\b")


NEGATED_GENRE = re.compile(r"\b(?:not|no|without|except|but not|nothing|none of|avoid)\b(?: an?| the| any)?$")
CHINESE_NEGATED_GENRE = re.compile(r"(?:不要|不想要|不想看|不看|别给我|别推荐?|除了|不喜欢|讨厌)"
                                   r"[一部个些点的]*$")
CHINESE_NEGATIVE = re.compile(r"不喜欢|不爱|不想|不要|不看|别|讨厌|受不了|烦"
                              r"|没兴趣|不感兴趣|不太喜欢|厌")
CHINESE_LIKING_VERBS = re.compile(r"喜欢|爱看|爱|迷|偏爱|钟爱|喜爱|中意")

LIKING_VERBS = re.compile(r"\b(love|adore|enjoy|like|(?:am|'m|are|'re) into"
                          r"|(?:am|'m|are|'re) a (?:big |huge )?fan of"
                          r"|(?:am|'m) crazy about|dig|prefer)\b")


def liking_phrases(tracker: Tracker) -> dict[str, str]:
    """How each genre of the latest message was stated, in the person's words, for reasons
    that quote them: "I really love westerns" -> {"Western": "love westerns"}."""
    text = str(tracker.latest_message.get("text") or "")
    found = {}
    for entity in entities(tracker, "genre"):
        start, end, value = entity.get("start"), entity.get("end"), str(entity.get("value", "")).strip()
        if start is None or end is None or not value:
            continue
        chinese = CHINESE_LIKING_VERBS.findall(text[:start]) if HAN.search(text) else []
        if chinese:
            found[value] = f"{chinese[-1]}{text[start:end]}"
            continue
        verbs = LIKING_VERBS.findall(text[:start].lower())
        if verbs:
            verb = re.sub(r"^(?:am|'m|'re) ", "are ", verbs[-1])
            found[value] = f"{verb} {text[start:end]}"
    return found


def stated_genres(tracker: Tracker) -> dict:
    """The genres the person said they like and how they said it, as task arguments."""
    return {"genres": tracker.get_slot("liked_genres") or [],
            "genre_phrases": tracker.get_slot("genre_phrases") or {}}


def noted_genres(tracker: Tracker, genres: list[str]) -> dict:
    """Slot values after the person says they like `genres`: added to the liked genres, each
    with the phrase of the latest message (the last one said wins)."""
    liked = list(dict.fromkeys((tracker.get_slot("liked_genres") or []) + genres))
    phrases = {**(tracker.get_slot("genre_phrases") or {}), **liking_phrases(tracker)}
    return {"liked_genres": liked, "genre_phrases": {g: p for g, p in phrases.items() if g in liked}}


def is_negative(text: str) -> bool:
    """Whether a stated taste is a dislike ("I don't like musicals")."""
    return bool(NEGATIVE_WORDS.search(text.lower()) or CHINESE_NEGATIVE.search(text))


def slot_changes(tracker: Tracker, **values: object) -> list[SlotSet]:
    """SlotSet events for the slots whose value changes (fewer events, shorter trackers)."""
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]

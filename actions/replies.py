"""Reply texts and buttons. Button payloads are Rasa intent payloads that
carry the item id, so a press reaches the right intent and item without NLU."""

from __future__ import annotations

import json

FEEDBACK_BUTTONS = (("👍 Like", "feedback_positive"), ("👎 Not for me", "feedback_negative"),
                    ("✓ Seen it", "already_seen"), ("Why?", "ask_why"))


def payload(intent: str, item_id: str) -> str:
    return f"/{intent}{json.dumps({'item_id': item_id})}"


def item_line(item: dict, position: int | None = None) -> str:
    """"2. Fargo (1996) — Crime, Drama, Thriller"."""
    prefix = f"{position}. " if position is not None else ""
    genres = ", ".join(item.get("genres") or [])
    return f"{prefix}{item['label']}" + (f" — {genres}" if genres else "")


def item_buttons(item: dict) -> list[dict]:
    return [{"title": title, "payload": payload(intent, item["id"])} for title, intent in FEEDBACK_BUTTONS]


def remembered(items: list[dict]) -> list[dict]:
    """What the slots keep of a list: ids and titles (for "the second one")."""
    return [{"id": item["id"], "title": item["label"]} for item in items]


def describe_request(request: dict) -> str:
    parts = []
    if request.get("genres"):
        parts.append(" ".join(request["genres"]).lower())
    parts.append("films")
    if request.get("year_from") is not None or request.get("year_to") is not None:
        first, last = request.get("year_from"), request.get("year_to")
        parts.append(f"from {first}" if first == last else f"from {first or '…'}–{last or '…'}")
    if request.get("similar_to"):
        parts.append("like " + " and ".join(request["similar_to"]))
    return " ".join(parts)


def rating_text(mean: float | None, count: int) -> str:
    if not count or mean is None:
        return "Nobody has rated it yet."
    return f"Rated {mean:.1f}/5 by {count} {'person' if count == 1 else 'people'}."


def unknown_item_text(suggestions: list) -> str:
    if suggestions:
        return f"I couldn't find that title. Did you mean {' or '.join(s.label for s in suggestions)}?"
    return "I couldn't find that title in my catalog. Check the spelling, or ask me for a recommendation."


LIST_FOOTER = "Tap a button under a film, or say \"more\", \"why the second one?\" or \"seen the first one\"."
UNAVAILABLE = "My recommender is not answering right now, sorry."
WHICH_ONE = "Which one do you mean? Say \"the second one\", name the title, or tap a button under it."

"""Reply texts and buttons. Button payloads are Rasa intent payloads that
carry the item id, so a press reaches the right intent and item without NLU.

A list (and an item's details, its reasons, a comparison) is one message:
plain text, which `rasa shell` and `rasa interactive` show, plus the same
content as data (Rasa's custom JSON, key "chatrec") that the Telegram and
Slack adapters render natively, with each item's actions.
"""

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
    note = f". {item['note']}" if item.get("note") else ""
    return f"{prefix}{item['label']}" + (f" — {genres}" if genres else "") + note


def item_buttons(item: dict) -> list[dict]:
    return [{"title": title, "payload": payload(intent, item["id"])} for title, intent in FEEDBACK_BUTTONS]


def rich(kind: str, header: str, items: list[dict], footer: str = "", numbered: bool = True,
         actions: int = len(FEEDBACK_BUTTONS)) -> dict:
    """`utter_message` arguments for one message about `items` ("list", "item" or "compare")."""
    lines = [item_line(item, position if numbered else None) for position, item in enumerate(items, start=1)]
    text = "\n".join([header, *lines] + ([footer] if footer else []))  # "\n\n" would split it in Rasa's REST
    return {"text": text, "json_message": {"chatrec": {
        "kind": kind, "text": text, "header": header, "footer": footer,
        "items": [{"id": item["id"], "label": item["label"], "line": line,
                   "position": position if numbered else None, "actions": item_buttons(item)[:actions]}
                  for position, (item, line) in enumerate(zip(items, lines), start=1)]}}}


def remembered(items: list[dict]) -> list[dict]:
    """What the slots keep of a list: ids and titles (for "the second one")."""
    return [{"id": item["id"], "title": item["label"]} for item in items]


def describe_request(request: dict, nouns: str) -> str:
    """"comedy films from 1990–1999 like Fargo"."""
    parts = []
    if request.get("genres"):
        parts.append(" ".join(request["genres"]).lower())
    parts.append(nouns)
    if request.get("year_from") is not None or request.get("year_to") is not None:
        first, last = request.get("year_from"), request.get("year_to")
        parts.append(f"from {first}" if first == last else f"from {first or '…'}–{last or '…'}")
    if request.get("similar_to"):
        parts.append("like " + " and ".join(request["similar_to"]))
    return " ".join(parts)


def outside_catalog(side: str, vocabulary: dict) -> str:
    """"My newest films are from 1998." for a year range the catalog does not reach."""
    year = vocabulary["last_year"] if side == "newest" else vocabulary["first_year"]
    return (f"My {side} {vocabulary['item_nouns']} are from {year}, so I have nothing from then. "
            "Try another time, or say \"start over\".")


def rating_text(mean: float | None, count: int) -> str:
    if not count or mean is None:
        return "Nobody has rated it yet."
    return f"Rated {mean:.1f}/5 by {count} {'person' if count == 1 else 'people'}."


def unknown_item_text(suggestions: list) -> str:
    if suggestions:
        return f"I couldn't find that title. Did you mean {' or '.join(s.label for s in suggestions)}?"
    return "I couldn't find that title in my catalog. Check the spelling, or ask me for a recommendation."


LIST_FOOTER = "Say \"more\", \"why the second one?\", \"I like the first one\" or \"seen the third one\"."
UNAVAILABLE = "My recommender is not answering right now, sorry."
WHICH_ONE = "Which one do you mean? Say \"the second one\", name the title, or tap a button under it."

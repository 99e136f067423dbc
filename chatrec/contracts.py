"""What crosses between Chat-Rec's processes, named once; every side imports it from here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

# Whose conversation an HTTP request to Rasa is. The adapters send it; the router
# (launcher/router.py) and a reverse proxy (deploy/nginx.conf) keep each person on one Rasa
# process by it.
SENDER_HEADER = "X-Chatrec-Sender"


class Feedback(str, Enum):
    """What a person said of an item; stored as its value (recommender/storage/feedback.py)."""

    LIKE = "like"
    DISLIKE = "dislike"
    SEEN = "seen"
    RATING = "rating"  # with stars, 0 to 5
    SHOWN = "shown"  # an impression: the item was in a list the person saw, nothing said


class Meaning(str, Enum):
    """What a feedback event means for the person's taste."""

    LIKED = "liked"
    DISLIKED = "disliked"
    SEEN = "seen"
    SHOWN = "shown"


LIKED_FROM_STARS = 4.0  # a rating of 4 or 5 is a like
DISLIKED_UP_TO_STARS = 2.0  # 0 to 2, a dislike; 3 is "seen": watched, neither
# Retraining learns from what a person watched and did not dislike, as it learns from the
# dataset's ratings: likes and "seen" (a rating of 3 included) are positives.
TRAINS_AS_POSITIVE = frozenset({Meaning.LIKED, Meaning.SEEN})


def stars_meaning(stars: float) -> Meaning:
    if stars >= LIKED_FROM_STARS:
        return Meaning.LIKED
    return Meaning.DISLIKED if stars <= DISLIKED_UP_TO_STARS else Meaning.SEEN


def meaning(kind: str, stars: float | None = None) -> Meaning:
    """The meaning of one event: like / rating >= 4 -> liked; dislike / rating <= 2 -> disliked;
    seen / rating 3 -> seen; shown -> shown."""
    if Feedback(kind) is Feedback.RATING:
        return stars_meaning(stars if stars is not None else 0.0)
    return {Feedback.LIKE: Meaning.LIKED, Feedback.DISLIKE: Meaning.DISLIKED, Feedback.SEEN: Meaning.SEEN,
            Feedback.SHOWN: Meaning.SHOWN}[Feedback(kind)]


class ErrorCode(str, Enum):
    """Why the recommender did not answer a task, as the worker tells the caller
    (recommender/tasks/worker.py `answers`, recommender/tasks/client.py)."""

    # the person's request cannot be answered: say why, retrying will not help
    INVALID_REQUEST = "invalid_request"
    NOTHING_TO_GO_ON = "nothing_to_go_on"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_ITEM = "unknown_item"
    FORGOTTEN = "forgotten"  # a write made before the person asked to be forgotten
    # an outage: nothing wrong with the request, try later (fall back, keep writes)
    MODEL_UNAVAILABLE = "model_unavailable"


OUTAGES = frozenset({ErrorCode.MODEL_UNAVAILABLE})


class Intent(str, Enum):
    """Intents other processes name: in button payloads (actions/replies.py, the adapters' commands)
    and in the feedback they carry (actions/feedback.py). Names as in ../shared/nlu-schema.md."""

    GREET = "greet"
    REQUEST_RECOMMENDATION = "request_recommendation"
    HELP = "help"
    FORGET_ME = "forget_me"
    FEEDBACK_POSITIVE = "feedback_positive"
    FEEDBACK_NEGATIVE = "feedback_negative"
    ALREADY_SEEN = "already_seen"
    RATE_ITEM = "rate_item"
    ASK_WHY = "ask_why"


def payload(intent: Intent | str, item_id: str | None = None) -> str:
    """What a button sends to Rasa to reach `intent` without NLU: `/ask_why{"item_id": "50"}`."""
    return f"/{Intent(intent).value}" + (json.dumps({"item_id": item_id}) if item_id is not None else "")


def intent_of(payload: str) -> str:
    """The intent a payload names: "/ask_why{...}" -> "ask_why"."""
    return payload.removeprefix("/").split("{", 1)[0]


class ActionKind(str, Enum):
    """What pressing an item's button does: tell the bot what the person thinks of the item (a
    channel marks it as chosen), or ask it something (never marked)."""

    FEEDBACK = "feedback"
    QUESTION = "question"


QUESTIONS = frozenset({Intent.ASK_WHY})


def action_kind(payload: str) -> ActionKind:
    """What a button that sends `payload` (or names an Intent) does."""
    return ActionKind.QUESTION if intent_of(payload) in QUESTIONS else ActionKind.FEEDBACK


# The key of the reply data in a Rasa message's custom JSON (actions/replies.py writes it,
# channels/rasa_client.py, benchmarks and tests read it).
CUSTOM_KEY = "chatrec"


class ReplyKind(str, Enum):
    TEXT = "text"
    LIST = "list"  # numbered recommendations
    ITEM = "item"  # one item: its details, why it was recommended
    COMPARE = "compare"  # two items side by side


@dataclass(frozen=True)
class ReplyAction:
    """A button under an item: its title in the reply's language and the payload it sends."""

    title: str
    payload: str
    kind: ActionKind = ActionKind.FEEDBACK

    def to_json(self) -> dict:
        return {"title": self.title, "payload": self.payload, "kind": self.kind.value}

    @classmethod
    def from_json(cls, data: dict) -> ReplyAction:
        sends = str(data.get("payload") or "")  # an action without a kind: the payload's
        return cls(str(data.get("title") or ""), sends,
                   _member(ActionKind, data.get("kind"), action_kind(sends)))


@dataclass(frozen=True)
class ReplyItem:
    """One item of a reply, as fields a channel renders: "2. Fargo (1996) — Crime, Drama"."""

    id: str
    title: str  # without its year
    year: int | None = None
    genres: tuple[str, ...] = ()  # display names, in the reply's language
    note: str = ""  # a sentence after it ("Rated 4.1/5 by 30 people."), in the reply's language
    position: int | None = None  # its number in a list; None outside lists
    actions: tuple[ReplyAction, ...] = ()

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "year": self.year, "genres": list(self.genres),
                "note": self.note, "position": self.position, "actions": [a.to_json() for a in self.actions]}

    @classmethod
    def from_json(cls, data: dict) -> ReplyItem:
        year, position = data.get("year"), data.get("position")
        return cls(str(data.get("id", "")), str(data.get("title") or data.get("label") or ""),
                   int(year) if year is not None else None, tuple(data.get("genres") or ()),
                   str(data.get("note") or ""), int(position) if position is not None else None,
                   tuple(ReplyAction.from_json(a) for a in data.get("actions") or ()))


@dataclass(frozen=True)
class ReplyData:
    """A message of the bot as data (Rasa's custom JSON under CUSTOM_KEY), besides its plain text
    (which `rasa shell` shows): the channels render it natively."""

    kind: ReplyKind = ReplyKind.TEXT
    text: str = ""  # the whole message as plain text
    header: str = ""
    footer: str = ""
    language: str = ""  # "en", "zh"; "" when not known
    fallback: bool = False  # said without the recommender (an outage): popular picks, "try again"
    items: tuple[ReplyItem, ...] = ()

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "text": self.text, "header": self.header, "footer": self.footer,
                "language": self.language, "fallback": self.fallback,
                "items": [item.to_json() for item in self.items]}

    @classmethod
    def from_json(cls, data: dict) -> ReplyData:
        """Tolerant: missing keys take their defaults, an unknown kind is text."""
        return cls(_member(ReplyKind, data.get("kind"), ReplyKind.TEXT), str(data.get("text") or ""),
                   str(data.get("header") or ""), str(data.get("footer") or ""),
                   str(data.get("language") or ""), bool(data.get("fallback")),
                   tuple(ReplyItem.from_json(item) for item in data.get("items") or ()))

    @classmethod
    def of_message(cls, message: dict) -> ReplyData | None:
        """The data of one Rasa REST message, None when it carries none."""
        found = (message.get("custom") or {}).get(CUSTOM_KEY)
        return cls.from_json(found) if isinstance(found, dict) else None


Member = TypeVar("Member", bound=Enum)


def _member(kind: type[Member], value: object, default: Member) -> Member:
    try:
        return kind(value)
    except ValueError:
        return default

"""What crosses between Chat-Rec's processes, named once; every side imports it from here."""

from __future__ import annotations

from enum import Enum

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

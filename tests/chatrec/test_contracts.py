"""What crosses between processes is decided once (chatrec/contracts.py): what a rating means
(storage, serving and retraining each read it from there; tests in their own folders), the
intents buttons name and the reply data the action server sends the channels."""

import json

import pytest

from chatrec.contracts import (
    CUSTOM_KEY,
    TRAINS_AS_POSITIVE,
    ActionKind,
    Feedback,
    Intent,
    Meaning,
    ReplyAction,
    ReplyData,
    ReplyItem,
    ReplyKind,
    action_kind,
    intent_of,
    meaning,
    payload,
    stars_meaning,
)


@pytest.mark.parametrize(("stars", "expected"), [
    (5, Meaning.LIKED), (4, Meaning.LIKED), (3.5, Meaning.SEEN), (3, Meaning.SEEN),
    (2, Meaning.DISLIKED), (0, Meaning.DISLIKED)])
def test_what_a_rating_means(stars: float, expected: Meaning) -> None:
    assert stars_meaning(stars) is expected
    assert meaning("rating", stars) is expected


def test_every_kind_has_a_meaning_and_positives_are_what_was_watched_and_not_disliked() -> None:
    assert {kind: meaning(kind.value, 3) for kind in Feedback} == {
        Feedback.LIKE: Meaning.LIKED, Feedback.DISLIKE: Meaning.DISLIKED, Feedback.SEEN: Meaning.SEEN,
        Feedback.RATING: Meaning.SEEN, Feedback.SHOWN: Meaning.SHOWN}
    assert TRAINS_AS_POSITIVE == {Meaning.LIKED, Meaning.SEEN}
    with pytest.raises(ValueError):
        meaning("adore")


LISTING = ReplyData(ReplyKind.LIST, "Here:\n1. Fargo (1996) — Crime", "Here:", "Say more.", "en", False, (
    ReplyItem("275", "Fargo", 1996, ("Crime",), "", 1, (
        ReplyAction("👍 Like", payload(Intent.FEEDBACK_POSITIVE, "275")),
        ReplyAction("Why?", payload(Intent.ASK_WHY, "275"), ActionKind.QUESTION))),
    ReplyItem("x" * 80, "Untitled", None, (), "Rated 3.0/5 by 2 people.", None, ())))


def test_the_intents_buttons_name_keep_the_nlu_schemas_names() -> None:
    assert {intent.value for intent in Intent} >= {"feedback_positive", "feedback_negative", "already_seen",
                                                    "ask_why"}
    assert payload(Intent.ASK_WHY, "50") == '/ask_why{"item_id": "50"}' and payload("greet") == "/greet"
    assert intent_of(payload(Intent.ALREADY_SEEN, "7")) == "already_seen"
    assert [action_kind(payload(intent, "1")) for intent in (Intent.ASK_WHY, Intent.FEEDBACK_NEGATIVE)] == [
        ActionKind.QUESTION, ActionKind.FEEDBACK]
    with pytest.raises(ValueError):
        payload("adore_it", "1")


def test_reply_data_round_trips_through_json() -> None:
    sent = json.loads(json.dumps(LISTING.to_json()))  # as it crosses Rasa
    assert ReplyData.from_json(sent) == LISTING
    assert sent["kind"] == "list" and sent["items"][0]["actions"][1]["kind"] == "question"
    assert ReplyData.of_message({"custom": {CUSTOM_KEY: sent}}) == LISTING
    assert ReplyData.of_message({"text": "hi"}) is None


def test_reply_data_tolerates_missing_and_unknown_keys() -> None:
    assert ReplyData.from_json({}) == ReplyData()
    unknown = {"kind": "carousel", "text": "hi", "extra": 1}
    assert ReplyData.from_json(unknown) == ReplyData(ReplyKind.TEXT, "hi")
    assert ReplyData.from_json({"kind": "text", "text": "later", "fallback": True}).fallback
    why = payload(Intent.ASK_WHY, "7")
    older = {"id": 7, "label": "Heat (1995)", "actions": [{"title": "Why?", "payload": why}]}
    item = ReplyItem.from_json(older)
    assert item == ReplyItem("7", "Heat (1995)", actions=(
        ReplyAction("Why?", why, ActionKind.QUESTION),))  # an action without a kind: its payload's

"""What the action server sends: the plain text `rasa shell` shows, and the same as reply data
(chatrec/contracts.py) with each item's fields and buttons."""

from __future__ import annotations

from actions import replies
from actions.feedback import KINDS
from chatrec.contracts import (
    CUSTOM_KEY,
    ActionKind,
    Feedback,
    Intent,
    ReplyData,
    ReplyKind,
    action_kind,
    payload,
)

FARGO = {"id": "275", "title": "Fargo", "year": 1996, "label": "Fargo (1996)", "genres": ["Crime", "Drama"]}
GODFATHER = {"id": "127", "title": "Godfather, The", "year": 1972, "label": "The Godfather (1972)",
             "genres": ["Crime"]}
CHINESE = {"genres": {"Crime": "犯罪", "Drama": "剧情"}}


def data_of(message: dict) -> ReplyData:
    return ReplyData.from_json(message["json_message"][CUSTOM_KEY])


def test_a_list_is_plain_text_and_the_same_as_fields() -> None:
    message = replies.rich(ReplyKind.LIST, "Here:", [FARGO, GODFATHER], "Say more.", language="en")
    assert message["text"].splitlines() == ["Here:", "1. Fargo (1996) — Crime, Drama",
                                            "2. The Godfather (1972) — Crime", "Say more."]
    data = data_of(message)
    assert (data.kind, data.text, data.header, data.footer, data.language, data.fallback) == (
        ReplyKind.LIST, message["text"], "Here:", "Say more.", "en", False)
    assert [(item.id, item.title, item.year, item.genres, item.position) for item in data.items] == [
        ("275", "Fargo", 1996, ("Crime", "Drama"), 1), ("127", "The Godfather", 1972, ("Crime",), 2)]
    actions = data.items[0].actions
    assert [action.payload for action in actions] == [payload(i, "275") for i in replies.ITEM_ACTIONS]
    assert [action.title for action in actions] == [replies.text("en", i.value) for i in replies.ITEM_ACTIONS]
    assert [action.kind for action in actions] == [ActionKind.FEEDBACK] * 3 + [ActionKind.QUESTION]


def test_genres_are_named_in_the_replys_language() -> None:
    message = replies.rich(ReplyKind.LIST, "为你推荐：", [FARGO], language="zh", words=CHINESE)
    assert message["text"].splitlines()[1] == "1. Fargo (1996) — 犯罪、剧情"
    data = data_of(message)
    assert data.language == "zh" and data.items[0].genres == ("犯罪", "剧情")
    assert data.items[0].actions[0].title == replies.text("zh", "feedback_positive")


def test_an_item_and_a_comparison_carry_notes_and_no_numbers() -> None:
    why = data_of(replies.rich(ReplyKind.ITEM, "Why?", [FARGO], "You like crime.", numbered=False, actions=3))
    assert why.items[0].position is None
    assert all(action.kind is ActionKind.FEEDBACK for action in why.items[0].actions), "no why under why"
    noted = [{**FARGO, "note": "Rated 4.1/5 by 30 people."}, {**GODFATHER, "year": None, "label": "Untitled"}]
    message = replies.rich(ReplyKind.COMPARE, "Side by side:", noted, numbered=False)
    assert message["text"].splitlines()[1] == "Fargo (1996) — Crime, Drama. Rated 4.1/5 by 30 people."
    compared = data_of(message).items
    assert compared[0].note == "Rated 4.1/5 by 30 people." and (compared[1].title, compared[1].year) == (
        "Untitled", None)


def test_a_text_said_without_the_recommender_is_marked_a_fallback() -> None:
    body = replies.text("en", "try_again")
    message = replies.without_recommender(body, "en")
    assert message["text"] == body
    assert data_of(message) == ReplyData(ReplyKind.TEXT, body, language="en", fallback=True)


def test_every_feedback_button_says_a_feedback_kind() -> None:
    buttons = {intent for intent in replies.ITEM_ACTIONS if action_kind(intent) is ActionKind.FEEDBACK}
    assert buttons <= KINDS.keys() and all(isinstance(intent, Intent) for intent in KINDS)
    assert KINDS[Intent.ALREADY_SEEN] is Feedback.SEEN and Intent.ASK_WHY not in KINDS
    assert KINDS.get("already_seen") is Feedback.SEEN, "the tracker names the intent as a string"

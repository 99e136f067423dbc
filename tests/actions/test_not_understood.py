"""An unsure NLU (nlu_fallback): a critique of the list shown, or a request naming a catalog genre,
is still answered as a request; anything else is asked again (over REST: tests/bot/test_critiquing.py)."""

from __future__ import annotations

from actions.recommendations import is_a_request
from tests.actions.test_context import SHOWN, tracker

VOCABULARY = {"genre_phrases": ["comedy", "books"]}


def unsure(text: str, ranking: list[str], **slots: object):
    message = tracker(text, intent="nlu_fallback", **slots)
    message.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.5}] + [
        {"name": name, "confidence": 0.4 - 0.1 * i} for i, name in enumerate(ranking)]
    return message


def test_a_critique_of_the_list_shown_is_a_request() -> None:
    assert is_a_request(unsure("not that genre", ["feedback_negative", "request_recommendation"],
                               last_list=SHOWN), VOCABULARY)


def test_a_critique_with_nothing_shown_or_an_unsure_message_is_asked_again() -> None:
    assert not is_a_request(unsure("not that genre", ["feedback_negative"]), VOCABULARY)
    assert not is_a_request(unsure("hmm", ["greet", "deny"]), VOCABULARY)


def test_a_catalog_genre_with_a_likely_request_is_a_request() -> None:
    assert is_a_request(unsure("books please", ["thank", "request_recommendation"]), VOCABULARY)
    assert not is_a_request(unsure("books please", ["thank", "greet", "deny", "request_recommendation"]),
                            VOCABULARY)

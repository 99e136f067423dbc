"""Feedback kept while the recommender is down: stored on disk, sent in order, never lost."""

from __future__ import annotations

import pytest

from actions import outbox
from chatrec.settings import environment
from recommender.domain.errors import UnknownItem
from recommender.tasks.client import ServiceUnavailable


@pytest.fixture(autouse=True)
def state(tmp_path):
    with environment({"CHATREC_STATE_DIR": str(tmp_path)}):
        yield


def test_kept_calls_are_sent_in_order_once() -> None:
    outbox.put("record_feedback", identity="a", item="1", client_event_id="e1")
    outbox.put("forget_user", identity="b")
    sent = []
    assert outbox.flush(lambda task, **kwargs: sent.append((task, kwargs))) == 2
    assert sent == [("record_feedback", {"identity": "a", "item": "1", "client_event_id": "e1"}),
                    ("forget_user", {"identity": "b"})]
    assert outbox.pending() == 0 and outbox.flush(lambda *a, **k: None) == 0


def test_still_unavailable_keeps_everything() -> None:
    outbox.put("record_feedback", identity="a", item="1", client_event_id="e1")

    def down(task, **kwargs):
        raise ServiceUnavailable("down")

    assert outbox.flush(down) == 0 and outbox.pending() == 1


def test_a_call_the_recommender_refuses_is_dropped_not_retried_forever() -> None:
    outbox.put("record_feedback", identity="a", item="no such film", client_event_id="e1")
    outbox.put("record_feedback", identity="a", item="1", client_event_id="e2")
    sent = []

    def send(task, **kwargs):
        if kwargs["item"] == "no such film":
            raise UnknownItem("no such film")
        sent.append(kwargs["client_event_id"])

    outbox.flush(send)
    assert sent == ["e2"] and outbox.pending() == 0

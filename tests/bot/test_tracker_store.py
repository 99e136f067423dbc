"""The tracker store's cache and forgetting, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.tracker_store import FORGET_ACTION, ConversationStore
from devtools.postgres import postgres_database
from launcher.stack import BOT, tracker_store_config

DOMAIN = Domain.load(str(BOT / "domain"))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'trackers.db'}"
    else:
        with postgres_database() as database:
            yield database


def _store(url: str, **kwargs) -> ConversationStore:
    """The store as Rasa creates it from the endpoints entry that launcher.stack writes."""
    config, _ = tracker_store_config(url)
    config.pop("type")
    return ConversationStore(DOMAIN, host=config.pop("url", None), **config, **kwargs)


def _turn(tracker, text: str, reply: str) -> None:
    tracker.update(UserUttered(text, {"name": "request_recommendation", "confidence": 0.99}))
    tracker.update(ActionExecuted("action_recommend"))
    tracker.update(BotUttered(reply))
    tracker.update(SlotSet("liked_genres", ["Comedy"]))
    tracker.update(ActionExecuted("action_listen"))


def _events(tracker) -> list[dict]:
    return [e.as_dict() for e in tracker.events]


def run(coroutine):
    return asyncio.run(coroutine)


def _one_turn_saved(store: ConversationStore, text: str = "a comedy"):
    """A new conversation with one saved turn; returns its sender id and tracker."""
    sender = f"test:{uuid.uuid4().hex[:8]}"
    tracker = run(store.create_tracker(sender))
    _turn(tracker, text, "one")
    run(store.save(tracker))
    return sender, tracker


def test_a_saved_tracker_is_handed_back_once_and_matches_the_database(url):
    store = _store(url)
    sender, tracker = _one_turn_saved(store)

    assert run(store.retrieve(sender)) is tracker  # from the cache
    fresh = run(_store(url).retrieve(sender))  # another process reads the database
    assert _events(fresh) == _events(tracker)
    assert fresh.get_slot("liked_genres") == tracker.get_slot("liked_genres") == ["Comedy"]
    again = run(store.retrieve(sender))  # handed out already: read from the database
    assert again is not tracker and _events(again) == _events(tracker)


def test_turns_of_a_cached_tracker_are_stored_once(url):
    store, sender = _store(url), f"test:{uuid.uuid4().hex[:8]}"
    tracker = run(store.create_tracker(sender))
    for turn in range(3):
        tracker = run(store.retrieve(sender))
        _turn(tracker, f"turn {turn}", "reply")
        run(store.save(tracker))
        run(store.save(tracker))  # a second save adds nothing
    stored = run(_store(url).retrieve(sender))
    assert _events(stored) == _events(tracker) and len(stored.events) == 1 + 3 * 5


def test_a_turn_saved_by_another_process_is_seen(url):
    here, there = _store(url), _store(url)
    sender, tracker = _one_turn_saved(here)

    theirs = run(there.retrieve(sender))
    _turn(theirs, "from the 90s", "two")
    run(there.save(theirs))

    mine = run(here.retrieve(sender))
    assert mine is not tracker and _events(mine) == _events(theirs)
    assert [e.text for e in mine.events if isinstance(e, UserUttered)] == ["a comedy", "from the 90s"]


def test_a_new_session_is_read_from_the_database(url):
    store = _store(url)
    sender, _ = _one_turn_saved(store)
    tracker = run(store.retrieve(sender))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    _turn(tracker, "hi again", "two")
    run(store.save(tracker))

    current = run(store.retrieve(sender))
    assert current is not tracker
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["hi again"]
    _turn(current, "more", "three")
    run(store.save(current))  # saving after a reload stores only the new events
    assert _events(run(_store(url).retrieve(sender))) == _events(current)


def test_forget_action_deletes_the_conversation_and_its_cached_tracker(url):
    store = _store(url)
    sender, _ = _one_turn_saved(store)
    tracker = run(store.retrieve(sender))
    tracker.update(ActionExecuted(FORGET_ACTION))
    run(store.save(tracker))

    assert run(store.retrieve(sender)) is None
    assert run(_store(url).retrieve(sender)) is None


def test_the_cache_keeps_the_most_recent_conversations(url):
    store = _store(url, cache_size=2)
    senders = [f"test:{uuid.uuid4().hex[:8]}" for _ in range(3)]
    trackers = [run(store.create_tracker(s)) for s in senders]
    assert run(store.retrieve(senders[0])) is not trackers[0]  # pushed out by the later two
    assert run(store.retrieve(senders[2])) is trackers[2]


def test_a_cache_of_size_zero_reads_every_turn_from_the_database(url):
    store = _store(url, cache_size=0)
    sender, tracker = _one_turn_saved(store)
    again = run(store.retrieve(sender))
    assert again is not tracker and _events(again) == _events(tracker)


def test_a_sqlite_file_in_a_missing_folder_is_created_not_kept_in_memory(tmp_path):
    url = f"sqlite:///{tmp_path / 'not' / 'yet' / 'trackers.db'}"
    sender, tracker = _one_turn_saved(_store(url))
    assert (tmp_path / "not" / "yet" / "trackers.db").exists()
    assert _events(run(_store(url, cache_size=0).retrieve(sender))) == _events(tracker)

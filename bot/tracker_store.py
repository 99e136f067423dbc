"""Rasa's SQL tracker store, plus two things:

- a cache: the tracker saved at the end of a turn is kept in memory, so the
  next turn of that conversation reads two numbers from the database instead of
  replaying every stored event (what Rasa's store does on each message);
- forgetting: when a conversation runs `action_forget_me`, every stored event
  of that person is deleted instead of saved.

Configured in the endpoints file that `python -m bot.stack` writes.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from typing import Any, NamedTuple, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_me"
DEFAULT_CACHE_SIZE = 256  # conversations per Rasa process


class _Stored(NamedTuple):
    """What the database holds for a conversation's current session."""

    last_id: Optional[int]
    rows: int


class _Cached(NamedTuple):
    tracker: DialogueStateTracker
    stored: _Stored


class CachingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that hands the tracker it saved last back on the next retrieve.

    A cached tracker is used only while the database still holds exactly its
    events: the same number of rows in the current session and the same newest
    row id. Another Rasa process writing the conversation, a deletion or a new
    session all change those numbers, and the tracker is then read from the
    database as Rasa does. Each tracker is handed out once (Rasa changes the
    tracker it gets) and comes back into the cache when it is saved.
    """

    def __init__(self, *args: Any, cache_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_size or int(os.environ.get("CHATREC_TRACKER_CACHE", DEFAULT_CACHE_SIZE))

    def _stored(self, sender_id: str) -> _Stored:
        with self.session_scope() as session:
            events = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
            last_id, rows = events.with_entities(sa.func.max(self.SQLEvent.id), sa.func.count(self.SQLEvent.id)).one()
        return _Stored(last_id, rows)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        cached = self._cache.pop(sender_id, None)
        if cached is not None and cached.stored == self._stored(sender_id):
            return cached.tracker
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        stored = self._stored(tracker.sender_id)
        # Not cached after a new session started: the database's current session is shorter.
        if stored.rows == len(tracker.events):
            self._cache[tracker.sender_id] = _Cached(tracker, stored)
            self._cache.move_to_end(tracker.sender_id)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self, sender_id: str) -> int:
        """Delete every stored event of `sender_id`; returns how many."""
        self._cache.pop(sender_id, None)
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            session.commit()
        return deleted


class ForgettingSQLTrackerStore(CachingSQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save, unless the events not stored yet include the forget action:
        then the person's stored events are deleted."""
        with self.session_scope() as session:
            unsaved = list(self._additional_events(session, tracker))
        if any(isinstance(e, ActionExecuted) and e.action_name == FORGET_ACTION for e in unsaved):
            log.info("forgot a conversation: %d stored events deleted", self.forget(tracker.sender_id))
            return
        await super().save(tracker)

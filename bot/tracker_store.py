"""Where Rasa keeps conversations: its SQL tracker store (SQLite by default,
PostgreSQL by configuration) with two additions.

- A cache. The tracker saved at the end of a turn stays in memory, and the
  next turn of that conversation reads two numbers from the database (rows in
  the current session, newest row id) instead of replaying every stored event,
  which is what Rasa's store does on each message.
- Forgetting. When a conversation runs `action_forget_me`, every stored event
  of that person is deleted instead of saved.

Configured in the endpoints file that `python -m launcher.stack` writes.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session

from chatrec import settings

log = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_me"
DEFAULT_CACHE_SIZE = 256  # conversations per Rasa process


class _Stored(NamedTuple):
    """What the database holds of a conversation's current session."""

    last_id: int | None
    rows: int


class _Cached(NamedTuple):
    tracker: DialogueStateTracker
    stored: _Stored


def _forgets(events: list[Event]) -> bool:
    return any(isinstance(e, ActionExecuted) and e.action_name == FORGET_ACTION for e in events)


def _put(entries: OrderedDict[str, _Cached], sender_id: str, entry: _Cached, size: int) -> None:
    """Add as the newest entry, dropping the oldest beyond `size`."""
    entries[sender_id] = entry
    entries.move_to_end(sender_id)
    while len(entries) > size:
        entries.popitem(last=False)


def _create_sqlite_folder(dialect: str, database: str | None) -> None:
    """A SQLite file's folder is made first: Rasa cannot open the file otherwise and falls back
    to keeping conversations in memory, each turn forgetting the one before."""
    if dialect == "sqlite" and database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


class ConversationStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore with a per-process cache of trackers, and forgetting.

    A cached tracker is used only while the database still holds exactly its
    events: as many rows in the current session as the tracker has events, and
    the same newest row id. Another Rasa process writing the conversation, a
    deletion or a new session change those numbers, and the tracker is then read
    from the database as Rasa does. A tracker is handed out once (Rasa changes
    the tracker it gets) and comes back into the cache when it is saved.
    """

    def __init__(self, *args: Any, cache_size: int | None = None, **kwargs: Any) -> None:
        _create_sqlite_folder(kwargs.get("dialect", "sqlite"), kwargs.get("db"))
        super().__init__(*args, **kwargs)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._handed_out: OrderedDict[str, _Cached] = OrderedDict()  # taken from the cache, not saved yet
        self._cache_size = (cache_size if cache_size is not None
                            else settings.current().tracker_cache)  # 0: no cache

    def _stored(self, session: Session, sender_id: str) -> _Stored:
        events = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).order_by(None)
        last_id, rows = events.with_entities(sa.func.max(self.SQLEvent.id),
                                             sa.func.count(self.SQLEvent.id)).one()
        return _Stored(last_id, rows)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        cached = self._cache.pop(sender_id, None)
        if cached is not None:
            with self.session_scope() as session:
                if cached.stored == self._stored(session, sender_id):
                    # Rasa's lock store keeps other writers of this conversation away until
                    # it saves the tracker, so save() can take these numbers as they are.
                    _put(self._handed_out, sender_id, cached, self._cache_size)
                    return cached.tracker
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet (Rasa's save; no count query for a
        tracker from the cache), or delete the person's events if they include the forget action."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        handed_out = self._handed_out.pop(sender_id, None)
        with self.session_scope() as session:
            if handed_out is not None and handed_out.tracker is tracker:
                before = handed_out.stored
            else:
                before = self._stored(session, sender_id)
            unsaved = list(itertools.islice(tracker.events, before.rows, None))
            if _forgets(unsaved):
                self._forget(session, sender_id)
                return
            rows = [self._row(sender_id, event) for event in unsaved]
            session.add_all(rows)
            session.flush()  # gives the rows their ids
            after = _Stored(rows[-1].id if rows else before.last_id, before.rows + len(rows))
            session.commit()
        # Not cached when a new session started in this turn: the database's current session is shorter.
        if after.rows == len(tracker.events):
            self._remember(tracker, after)

    def _row(self, sender_id: str, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                             intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                             action_name=data.get("name"), data=json.dumps(data))

    def _remember(self, tracker: DialogueStateTracker, stored: _Stored) -> None:
        _put(self._cache, tracker.sender_id, _Cached(tracker, stored), self._cache_size)

    def _forget(self, session: Session, sender_id: str) -> None:
        self._cache.pop(sender_id, None)
        self._handed_out.pop(sender_id, None)
        deleted = session.query(self.SQLEvent).filter(
            self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
        session.commit()
        log.info("forgot a conversation: %d stored events deleted", deleted)

"""Rasa's SQL tracker store, plus forgetting: when a conversation runs
`action_forget_me`, every stored event of that person is deleted instead of
saved. Configured in the endpoints file that `python -m bot.stack` writes."""

from __future__ import annotations

import logging

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

FORGET_ACTION = "action_forget_me"


class ForgettingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, unless the events not stored yet include the forget action:
        then the person's stored events are deleted."""
        with self.session_scope() as session:
            unsaved = list(self._additional_events(session, tracker))
            if any(isinstance(e, ActionExecuted) and e.action_name == FORGET_ACTION for e in unsaved):
                deleted = session.query(self.SQLEvent).filter(
                    self.SQLEvent.sender_id == tracker.sender_id).delete(synchronize_session=False)
                session.commit()
                log.info("forgot a conversation: %d stored events deleted", deleted)
                return
        await super().save(tracker)

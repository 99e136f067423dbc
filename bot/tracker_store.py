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
        if not self._forgets_now(tracker):
            await super().save(tracker)
            return
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(
                self.SQLEvent.sender_id == tracker.sender_id).delete(synchronize_session=False)
            session.commit()
        log.info("forgot a conversation: %d stored events deleted", deleted)

    def _forgets_now(self, tracker: DialogueStateTracker) -> bool:
        """Whether the events not yet stored include the forget action."""
        with self.session_scope() as session:
            unsaved = list(self._additional_events(session, tracker))
        return any(isinstance(e, ActionExecuted) and e.action_name == FORGET_ACTION for e in unsaved)

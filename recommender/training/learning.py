"""When the model learns: the trigger, single flight and the watermark.

All three live in one row of the feedback database (`learning_state`), so
they hold across worker processes and hosts and follow the data: a fresh or
restored database starts from its own events, never from ids remembered in
a model folder.

- **Trigger**: once CHATREC_RETRAIN_AFTER explicit events (like, dislike,
  seen, rating; never impressions) arrived after the watermark, the first
  caller to claim the request queues one retrain. A request that was never
  served (learning worker down) can be claimed again after REQUEST_SECONDS.
- **Single flight**: a retrain runs only while it holds a lease, renewed by
  a thread every LEASE_SECONDS / 3; a holder that dies loses it within
  LEASE_SECONDS.
- **Watermark**: after a retrain, promoted or not, the watermark moves to the
  newest event it saw, so a rejected candidate re-arms only after another
  CHATREC_RETRAIN_AFTER events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Column, Float, Integer, String, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatrec import settings
from recommender.data import load_dataset
from recommender.storage.feedback import Base, FeedbackStore
from recommender.training import retraining
from recommender.training.retraining import Decision

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
REQUEST_SECONDS = 900.0
ROW = 1


class LearningState(Base):
    __tablename__ = "learning_state"

    id = Column(Integer, primary_key=True)
    watermark = Column(Integer, nullable=False)  # newest feedback event id the last retrain saw
    requested_at = Column(Float)  # unix seconds: a retrain was queued
    lease_owner = Column(String(200))
    lease_until = Column(Float)


class Learning:
    """The learning loop's state in `store`'s database."""

    def __init__(self, store: FeedbackStore) -> None:
        self.store = store
        self.engine = store.engine

    def state(self) -> LearningState:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            row = session.get(LearningState, ROW)
            if row is None:
                try:
                    with session.begin_nested():
                        row = LearningState(id=ROW, watermark=0)
                        session.add(row)
                except IntegrityError:  # created concurrently
                    row = session.get(LearningState, ROW)
            return row

    def pending(self) -> int:
        """Explicit feedback events after the watermark."""
        return self.store.explicit_events_after(self.state().watermark)

    def claim_request(self, retrain_after: int, now: float | None = None) -> bool:
        """True for exactly one caller once enough new feedback arrived and no retrain is queued."""
        now = time.time() if now is None else now
        state = self.state()
        if state.requested_at is not None and now - state.requested_at < REQUEST_SECONDS:
            return False
        if self.store.explicit_events_after(state.watermark) < retrain_after:
            return False
        with self.engine.begin() as connection:  # compare and set: one winner
            claimed = connection.execute(
                update(LearningState).where(LearningState.id == ROW,
                                            _is(LearningState.requested_at, state.requested_at))
                .values(requested_at=now)).rowcount
        return claimed == 1

    def finish(self, watermark: int | None) -> None:
        """A retrain ended (or found nothing to do): move the watermark, clear the request."""
        values: dict = {"requested_at": None}
        if watermark is not None:
            values["watermark"] = watermark
        self.state()
        with self.engine.begin() as connection:
            connection.execute(update(LearningState).where(LearningState.id == ROW).values(**values))

    def _take(self, owner: str, now: float) -> bool:
        self.state()
        with self.engine.begin() as connection:
            return connection.execute(
                update(LearningState).where(LearningState.id == ROW, or_(
                    LearningState.lease_owner.is_(None), LearningState.lease_until < now,
                    LearningState.lease_owner == owner))
                .values(lease_owner=owner, lease_until=now + LEASE_SECONDS)).rowcount == 1

    def _release(self, owner: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(LearningState).where(
                LearningState.id == ROW, LearningState.lease_owner == owner)
                .values(lease_owner=None, lease_until=None))

    @contextmanager
    def lease(self, owner: str) -> Iterator[bool]:
        """Hold the retrain lease for the block; yields False when someone else holds it."""
        if not self._take(owner, time.time()):
            yield False
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LEASE_SECONDS / 3):
                if not self._take(owner, time.time()):
                    log.error("lost the retrain lease to another process")
                    return

        renewer = threading.Thread(target=renew, name="retrain-lease", daemon=True)
        renewer.start()
        try:
            yield True
        finally:
            stop.set()
            renewer.join()
            self._release(owner)

    def holder(self, now: float | None = None) -> str | None:
        """Who holds a live lease now (None: nobody)."""
        state = self.state()
        now = time.time() if now is None else now
        return state.lease_owner if state.lease_owner and (state.lease_until or 0) >= now else None


def _is(column, value):
    return column.is_(None) if value is None else column == value



@dataclass(frozen=True)
class Outcome:
    reason: str
    decision: Decision | None = None  # None: no retrain ran


def retrain_when_due(store: FeedbackStore, dataset_name: str, owner: str, force: bool = False) -> Outcome:
    """Retrain behind the gate if nobody else is and explicit feedback arrived since the
    watermark (or `force`); moves the watermark whatever the gate decides."""
    state = Learning(store)
    with state.lease(owner) as held:
        if not held:
            return Outcome("busy")
        if not force and state.pending() == 0:
            state.finish(None)
            return Outcome("nothing new")
        watermark = store.last_event_id()
        decision = retraining.retrain(load_dataset(dataset_name), store, up_to=watermark,
                                      threads=settings.current().learning_threads)
        state.finish(watermark)
        return Outcome(decision.reason, decision)

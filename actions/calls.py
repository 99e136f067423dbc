"""The recommender's Celery tasks as the actions call them: with a timeout,
a popular list when no worker answers, and feedback kept for later."""

from __future__ import annotations

import logging
import os

from actions import outbox
from recommender import artifacts, settings
from recommender.client import ServiceUnavailable, call

log = logging.getLogger(__name__)


def timeout() -> float:
    """Seconds to wait for a worker (CHATREC_TASK_TIMEOUT, default 5)."""
    return float(os.environ.get("CHATREC_TASK_TIMEOUT", "5"))


def run(task: str, *args: object, **kwargs: object) -> dict:
    """Run `chatrec.<task>`; raises ServiceUnavailable or the recommender's error.
    Once a worker answers, writes kept in the outbox are sent too."""
    answer = call(task, *args, timeout=timeout(), **kwargs)
    if outbox.pending():
        outbox.flush(lambda name, **kept: call(name, timeout=timeout(), **kept))
    return answer


def write(task: str, **kwargs: object) -> dict | None:
    """A write (feedback, forget): done now, or kept for later (None) when no worker answers."""
    try:
        return run(task, **kwargs)
    except ServiceUnavailable:
        log.warning("recommender unavailable: %s kept in the outbox", task)
        outbox.put(task, **kwargs)
        return None


def popular(k: int, exclude: set[str] = frozenset()) -> list[dict]:
    """Well-liked popular items from the served model's files, without a worker."""
    return [item for item in artifacts.read_popular(settings.dataset_name())
            if item["id"] not in exclude][:k]

"""The recommender's Celery tasks as the actions call them: awaited without
blocking the action server's event loop (each wait sits in a thread of its
own, so one slow answer holds no other conversation), with a timeout, a
popular list when no worker answers, and writes kept for later."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Set
from concurrent.futures import ThreadPoolExecutor

from actions import outbox
from chatrec import settings
from recommender.storage import artifacts
from recommender.tasks import metrics
from recommender.tasks.client import ServiceUnavailable, call

log = logging.getLogger(__name__)

# One thread per conversation waiting on the recommender; more conversations than this queue up.
WAITING = ThreadPoolExecutor(max_workers=settings.current().action_threads,
                             thread_name_prefix="recommender-call")


def timeout() -> float:
    """Seconds to wait for a live worker (CHATREC_TASK_TIMEOUT, default 5)."""
    return settings.current().task_timeout


def _call_then_flush(task: str, args: tuple, kwargs: dict) -> dict:
    answer = call(task, *args, timeout=timeout(), **kwargs)
    if outbox.pending():  # a worker answers again: send what was kept
        outbox.flush(lambda name, **kept: call(name, timeout=timeout(), **kept))
    return answer


async def in_thread(function, *args, **kwargs):
    """Run a blocking function in the waiting pool and await it."""
    return await asyncio.get_running_loop().run_in_executor(
        WAITING, functools.partial(function, *args, **kwargs)
    )


async def run(task: str, *args: object, **kwargs: object) -> dict:
    """Run `chatrec.<task>`; raises ServiceUnavailable or the recommender's error.
    Once a worker answers, writes kept in the outbox are sent too."""
    return await in_thread(_call_then_flush, task, args, kwargs)


async def write(task: str, **kwargs: object) -> dict | None:
    """A write (feedback, forget): done now, or kept for later (None) when no worker answers."""
    try:
        return await run(task, **kwargs)
    except ServiceUnavailable:
        log.warning("recommender unavailable: %s kept in the outbox", task)
        metrics.FALLBACKS.labels("write_kept").inc()
        await in_thread(outbox.put, task, **kwargs)
        return None


async def forget(identity: str) -> dict | None:
    """Forget a person: their kept writes go first, so no replay can bring them back."""
    await in_thread(outbox.drop, identity)
    return await write("forget_user", identity=identity)


def vocabulary() -> dict:
    """How the served catalog is spoken of: item nouns, its genre word, its years."""
    return artifacts.read_vocabulary(settings.current().dataset)


def popular(k: int, exclude: Set[str] = frozenset()) -> list[dict]:
    """Well-liked popular items from the served model's files, without a worker."""
    return [item for item in artifacts.read_popular(settings.current().dataset)
            if item["id"] not in exclude][:k]

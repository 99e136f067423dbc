"""Calling the recommender's Celery tasks: what the Rasa actions use.

`call("recommend", identity, k=5)` returns the task's answer, raises the
matching RecommenderError for a request the recommender cannot answer, and
raises ServiceUnavailable — quickly — when the broker or every worker is
down, so the bot can say so and fall back:

- no interactive worker has written a heartbeat lately -> at once;
- the broker or result store is unreachable -> within about a second;
- a live worker does not answer within `timeout` -> after `timeout`; the task
  carries `expires=timeout`, so a worker that reaches it later drops it
  instead of doing (and recording) work nobody waits for.

A worker that dies while the caller waits (it stops beating) may have taken
the task with it: the task is sent once more, to the workers left, with a
fresh `timeout`. Every task may run twice: the reads change nothing, and
feedback carries its event id, which the store keeps once.

This module needs only task names, never the worker's code (recommender.tasks.worker).
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.exceptions import BackendError
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from chatrec.contracts import OUTAGES, ErrorCode
from recommender.domain.catalog import Item
from recommender.domain.errors import REFUSALS, Outage, RecommenderError, UnknownItem
from recommender.tasks import heartbeat, metrics
from recommender.tasks.config import INTERACTIVE, configuration

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
TASKS = frozenset({"recommend", "similar", "details", "compare", "explain", "record_feedback",
                   "forget_user", "export_user"})
HEARTBEAT_CACHE_SECONDS = 0.25
LOST_WORKER_CHECK_SECONDS = 0.5  # how often a waiting call looks for a worker that died


class ServiceUnavailable(Outage):
    """The broker or the workers cannot be reached right now, or no model is served: an outage,
    not a refusal (callers catch it apart from RecommenderError)."""


_app: Celery | None = None
_app_lock = threading.Lock()


def default_app() -> Celery:
    """A Celery app configured from the environment, for sending tasks by name."""
    global _app
    with _app_lock:
        if _app is None:
            _app = Celery("chatrec-client")
            _app.conf.update(configuration())
        return _app


class _Liveness:
    """Whether an interactive worker beats, asked at most every HEARTBEAT_CACHE_SECONDS per
    broker (keyed by where its heartbeats live, not by app object: ids are reused)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple, tuple[float, bool]] = {}
        self._boards: dict[tuple, object] = {}

    @staticmethod
    def _key(app: Celery) -> tuple:
        return app.conf.broker_url, str((app.conf.broker_transport_options or {}).get("data_folder_in"))

    def board(self, app: Celery):
        """Where `app`'s workers beat (one board per broker), None when nowhere."""
        key = self._key(app)
        with self._lock:
            if key not in self._boards:
                self._boards[key] = heartbeat.board_for(app)
            return self._boards[key]

    def alive(self, app: Celery) -> bool:
        key = self._key(app)
        now = time.monotonic()
        with self._lock:
            checked, answer = self._known.get(key, (-1e9, True))
            if now - checked < HEARTBEAT_CACHE_SECONDS:
                return answer
        board = self.board(app)
        answer = True if board is None else board.alive(INTERACTIVE)
        with self._lock:
            self._known[key] = (now, answer)
        return answer


_liveness = _Liveness()


def call(task: str, *args: object, timeout: float = DEFAULT_TIMEOUT, app: Celery | None = None,
         **kwargs: object) -> dict:
    """Run task `chatrec.<task>` on a worker and wait at most `timeout` seconds."""
    started = time.perf_counter()
    outcome = "unavailable"
    try:
        answer = _answer(task, args, kwargs, timeout, app or default_app())
        outcome = "ok"
    except ServiceUnavailable:
        raise
    except RecommenderError:
        outcome = "refused"
        raise
    finally:
        metrics.CALL_SECONDS.labels(task if task in TASKS else "unknown", outcome).observe(
            time.perf_counter() - started)
    return answer


def _wait(result: AsyncResult, timeout: float) -> object:
    """The task's return value (or its exception). Redis and RPC results are pushed to the
    caller; a database backend is polled, often at first and then every 50 ms at most, so
    that many waiting conversations do not keep the CPU busy with queries."""
    if result.backend.is_async:
        return result.get(timeout=timeout, propagate=False)
    deadline, interval = time.monotonic() + timeout, 0.005
    while not result.ready():
        if time.monotonic() > deadline:
            raise CeleryTimeout()
        time.sleep(interval)
        interval = min(interval * 1.5, 0.05)
    return result.get(propagate=False)


def _living(board) -> set[str]:
    """The interactive workers beating now (none known when there is no board or it is unreachable:
    then the broker's own errors tell)."""
    try:
        return board.workers(INTERACTIVE) if board is not None else set()
    except (RedisError, OSError):
        return set()


def _send_and_wait(app: Celery, task: str, args: tuple, kwargs: dict,
                   timeout: float) -> tuple[AsyncResult, object]:
    """Send the task and wait for its value; once more if a worker that was alive at sending dies
    meanwhile."""
    board = _liveness.board(app)
    resent = False
    while True:
        living = _living(board)
        result = app.send_task(f"chatrec.{task}", args=args, kwargs=kwargs, expires=timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return result, _wait(result, min(LOST_WORKER_CHECK_SECONDS,
                                                 max(deadline - time.monotonic(), 0.001)))
            except CeleryTimeout:
                if time.monotonic() >= deadline:
                    raise
                if not resent and living and not living <= _living(board):
                    log.warning("an interactive worker died while %s waited; sending it again", task)
                    break
        resent = True


def _answer(task: str, args: tuple, kwargs: dict, timeout: float, app: Celery) -> dict:
    if task not in TASKS:
        log.error("the recommender has no task %r; answering without it", task)
        raise ServiceUnavailable(f"The recommender has no task {task!r}.")
    try:
        if not _liveness.alive(app):
            raise ServiceUnavailable("No recommender worker is running.")
        result, answer = _send_and_wait(app, task, args, kwargs, timeout)
    except CeleryTimeout:
        raise ServiceUnavailable(f"No recommender worker answered within {timeout:g} s.") from None
    except (KombuError, BackendError, RedisError, OSError) as error:  # OSError: socket errors
        raise ServiceUnavailable(f"The recommender's message broker is unreachable ({error}).") from None
    except RuntimeError as error:
        # Celery's Redis result consumer raises RuntimeError when it cannot reconnect;
        # it makes a fresh connection on the next call.
        if not isinstance(error.__cause__, (RedisError, OSError)):
            raise
        raise ServiceUnavailable(
            f"The recommender's result store is unreachable ({error.__cause__})."
        ) from None
    if not isinstance(answer, dict):  # the task failed (a bad payload...) or expired unanswered
        log.error("recommender task %s ended %s: %r", task, result.state, answer)
        raise ServiceUnavailable(f"The recommender could not run {task} ({result.state}).")
    if not answer.get("ok"):
        code = ErrorCode(answer.get("error"))
        if code in OUTAGES:
            log.error("recommender task %s: %s", task, answer.get("message"))
            raise ServiceUnavailable(answer.get("message", "No model is served."))
        if code is ErrorCode.UNKNOWN_ITEM:
            suggestions = [Item(s["id"], s["title"], s["year"]) for s in answer.get("suggestions", [])]
            raise UnknownItem(answer["reference"], suggestions)
        raise REFUSALS[code](answer.get("message", "failed"))
    return answer

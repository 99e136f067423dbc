"""The recommender as Celery tasks: what the Rasa actions call.

Two kinds of worker run this module (the broker comes from
CHATREC_BROKER_URL; see chatrec/settings.py):

    celery -A recommender.tasks.worker worker -Q interactive   what conversations wait for
    celery -A recommender.tasks.worker worker -Q learning      retraining, at low CPU priority

An interactive worker loads the served model before its first task and
loads a newly promoted version in a background thread while the old one
keeps answering; it never fits a model. Every worker writes a heartbeat
(recommender/tasks/heartbeat.py) and, with CHATREC_METRICS_PORT, serves
Prometheus metrics (recommender/tasks/metrics.py).

Every task answers a JSON object: `{"ok": true, ...}`, or `{"ok": false,
"error": <kind>, "message": <for people>, ...}` for a request the
recommender cannot answer (unknown title, impossible year range...), so
callers never have to unpickle exceptions. Tasks that write are
acknowledged late and requeued if their worker dies; every write is
idempotent (client event ids), so a redelivered task stores nothing twice.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, signals
from celery.utils.log import get_logger
from kombu.exceptions import ChannelError
from sqlalchemy.exc import OperationalError

from chatrec import settings
from chatrec.processes import LEARNING_NICE
from recommender.domain.catalog import Item
from recommender.domain.constraints import Constraints, Taste
from recommender.domain.errors import ForgottenPerson, ModelUnavailable, Outage, RecommenderError, UnknownItem
from recommender.serving.service import Recommendations, Recommender, load_recommender
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.tasks import heartbeat, metrics
from recommender.tasks.config import INTERACTIVE, LEARNING, configuration
from recommender.training import learning

log = get_logger(__name__)  # under Celery's logger: shown in the worker's log

app = Celery("chatrec")
app.conf.update(configuration())

WRITES = {"acks_late": True, "reject_on_worker_lost": True,
          "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


class _Served:
    """The served recommender. A newly promoted version is loaded in a background
    thread while the old one keeps answering; a version that cannot be loaded
    (files gone, wrong data) is logged and the old one kept."""

    RETRY_SECONDS = 30.0  # before trying a version that failed to load again

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: str | None = None
        self._recommender: Recommender | None = None
        self._store: FeedbackStore | None = None
        self._loading = False
        self._failed: dict[str, float] = {}

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def catalog(self):
        """The catalog of the recommender this task already loaded (no pointer re-read)."""
        return self._recommender.catalog

    def recommender(self) -> Recommender:
        name = settings.current().dataset
        wanted = artifacts.current_version(name)
        if self._recommender is None:
            with self._lock:  # nothing to answer with yet: load now
                if self._recommender is None and wanted is not None:
                    self._load(name, wanted)
            if self._recommender is None:
                raise ModelUnavailable(f"No {name} model can be served (see the worker's log).")
        elif wanted is not None and wanted != self._version:
            self._load_in_background(name, wanted)
        return self._recommender

    def _load(self, name: str, version: str) -> None:
        if time.monotonic() - self._failed.get(version, -self.RETRY_SECONDS) < self.RETRY_SECONDS:
            return
        try:
            loaded = load_recommender(name, version)
        except (OSError, ValueError, EOFError, KeyError) as error:
            self._failed[version] = time.monotonic()
            log.error("cannot load %s model %s (%s); still serving %s", name, version, error, self._version)
            return
        self._recommender, self._version = loaded, version
        log.info("serving %s model %s", name, version)

    def _load_in_background(self, name: str, version: str) -> None:
        with self._lock:
            if self._loading:
                return
            self._loading = True

        def load() -> None:
            try:
                self._load(name, version)
            finally:
                self._loading = False

        threading.Thread(target=load, name="model-loader", daemon=True).start()

    def store(self) -> FeedbackStore:
        with self._lock:
            if self._store is None:
                self._store = FeedbackStore(settings.current().database_url)
                self._store.migrate()
            return self._store


served = _Served()


def _queues(app_: Celery) -> list[str]:
    """The queues this worker consumes."""
    selected = app_.amqp.queues.consume_from or app_.amqp.queues
    return [queue.name for queue in selected.values()]


def _queue_depth(queue: str) -> int:
    with app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # never declared, or empty on Redis
            return 0


@signals.celeryd_after_setup.connect
def _set_up_worker(instance: Any = None, **_: Any) -> None:
    """An interactive worker loads the served model as it starts (0.45 s here), not in the
    first task; in the parent process, so that prefork children start with it. A worker for
    the learning queue alone lowers its CPU priority (its children inherit it)."""
    queues = _queues(instance.app if instance is not None else app)
    if queues == [LEARNING]:
        os.nice(max(0, LEARNING_NICE - os.nice(0)))
    if INTERACTIVE in queues:
        try:
            served.recommender()
        except ModelUnavailable as error:  # no usable model yet: tasks will say so
            log.warning("no model loaded at start: %s", error)


_beating: list[heartbeat.Beating] = []


@signals.worker_ready.connect
def _start_heartbeat_and_metrics(sender: Any = None, **_: Any) -> None:
    """Once the pool has started (prefork children do not inherit the metrics socket)."""
    board = heartbeat.board_for(app)
    if board is not None:
        _beating.append(heartbeat.Beating(board, _queues(app), sender.hostname).start())
    port = metrics.port_from_environment()
    if port:  # in the background: a port still held by a worker going away is retried
        threading.Thread(target=metrics.serve, name="metrics", daemon=True,
                         args=(port, [metrics.QueueDepth((INTERACTIVE, LEARNING), _queue_depth)])).start()


@signals.worker_ready.connect
def _stop_with_the_launcher(**_: Any) -> None:
    """A worker started by a launcher (launcher/stack.py) stops when the launcher is gone, however
    it ended (Ctrl-C, a closed pipe, a crash): nothing orphaned goes on consuming the queue."""
    launcher = settings.current().launcher_pid
    if launcher:
        threading.Thread(target=_watch_parent, args=(launcher,), name="launcher-watch", daemon=True).start()


def _watch_parent(launcher: int) -> None:
    while os.getppid() == launcher:
        time.sleep(0.5)
    log.warning("the launcher (pid %s) is gone: stopping", launcher)
    os.kill(os.getpid(), signal.SIGTERM)  # Celery's warm shutdown: the task in hand finishes


@signals.worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    while _beating:
        _beating.pop().stop()


_started: dict[str, float] = {}


@signals.task_prerun.connect
def _task_started(task_id: str = "", **_: Any) -> None:
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_ended(task_id: str = "", task: Any = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        metrics.TASK_SECONDS.labels(task.name).observe(time.perf_counter() - started)


def answers(task: Callable[..., dict]) -> Callable[..., dict]:
    """Turn a refusal or an outage into an error payload: its code (chatrec/contracts.py ErrorCode)
    and a message the caller can show."""
    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> dict:
        try:
            return {"ok": True, **task(*args, **kwargs), "model": served.version}
        except UnknownItem as error:
            return {"ok": False, "error": error.code.value, "message": str(error),
                    "reference": error.reference, "suggestions": [_item(i) for i in error.suggestions]}
        except (RecommenderError, Outage) as error:
            return {"ok": False, "error": error.code.value, "message": str(error)}
    return wrapper


def _item(item: Item) -> dict:
    return {"id": item.id, "title": item.title, "year": item.year, "label": item.label,
            "genres": list(served.catalog.genres_of(item))}


def _list(found: Recommendations) -> dict:
    return {"items": [{**_item(r.item), "score": r.score} for r in found.items], "reason": found.reason}


def taste_for(identity: str, liked: list[str] | tuple = (), genres: list[str] | tuple = (),
              genre_phrases: dict | None = None) -> Taste:
    """Stored feedback plus what the conversation says now (genres, with how they were said)."""
    phrases = genre_phrases or {}
    return served.store().feedback(identity).taste(
        liked, genres, genres_how=[phrases.get(g, "") for g in genres])


@app.task(name="chatrec.recommend", **WRITES)
@answers
def recommend(identity: str, k: int = 5, constraints: dict | None = None, liked: list | tuple = (),
              genres: list | tuple = (), request_id: str | None = None, require_taste: bool = True,
              made_at: float | None = None, genre_phrases: dict | None = None) -> dict:
    """Top k for this person; with a request id, the items shown are remembered
    (so "more" never repeats them)."""
    found = served.recommender().recommend(taste_for(identity, liked, genres, genre_phrases), k,
                                           Constraints(**(constraints or {})), require_taste)
    if request_id and found.items:
        shown = [("shown", rec.item.id, f"{request_id}:shown:{rec.item.id}", None) for rec in found.items]
        try:
            served.store().record_many(identity, shown, made_at=made_at)
        except ForgottenPerson:
            pass  # asked before they were forgotten: remember nothing
    return _list(found)


@app.task(name="chatrec.similar")
@answers
def similar(item: str, k: int = 5) -> dict:
    return _list(served.recommender().similar_items(item, k))


@app.task(name="chatrec.details")
@answers
def details(item: str) -> dict:
    found = served.recommender().item_details(item)
    return {"item": _item(found.item), "mean_rating": found.mean_rating, "ratings": found.ratings}


@app.task(name="chatrec.compare")
@answers
def compare(identity: str, first: str, second: str, genres: list | tuple = (),
            genre_phrases: dict | None = None) -> dict:
    result = served.recommender().compare(taste_for(identity, genres=genres, genre_phrases=genre_phrases),
                                          first, second)
    return {"items": [{**_item(d.item), "mean_rating": d.mean_rating, "ratings": d.ratings, "score": s}
                      for d, s in ((result.first, result.scores[0]), (result.second, result.scores[1]))],
            "preferred": result.preferred.id}


@app.task(name="chatrec.explain")
@answers
def explain(identity: str, item: str, constraints: dict | None = None, genres: list | tuple = (),
            genre_phrases: dict | None = None, language: str = "en") -> dict:
    result = served.recommender().explain(
        taste_for(identity, genres=genres, genre_phrases=genre_phrases), item,
        Constraints(**(constraints or {})), language)
    return {"item": _item(result.item), "score": result.score,
            "reasons": [{"kind": r.kind, "text": r.text, "evidence": r.evidence} for r in result.reasons]}


@app.task(name="chatrec.record_feedback", **WRITES)
@answers
def record_feedback(identity: str, kind: str, item: str, client_event_id: str,
                    rating: float | None = None, made_at: float | None = None,
                    said_in_words: bool = False) -> dict:
    found = served.recommender().find_item(item)
    stored = served.store().record(identity, kind, found.id, client_event_id, rating, made_at=made_at,
                                   said_in_words=said_in_words)
    if stored and learning.Learning(served.store()).claim_request(settings.current().retrain_after):
        log.info("%d new feedback events: retrain queued", settings.current().retrain_after)
        retrain.delay()
    return {"stored": stored, "item": _item(found)}


@app.task(name="chatrec.forget_user", **WRITES)
@answers
def forget_user(identity: str) -> dict:
    return {"deleted_rows": served.store().forget(identity)}


@app.task(name="chatrec.export_user")
@answers
def export_user(identity: str) -> dict:
    return {"data": served.store().export(identity)}


@app.task(name="chatrec.retrain", acks_late=True, reject_on_worker_lost=True, ignore_result=True,
          time_limit=3600, soft_time_limit=3500)
@answers
def retrain(force: bool = False) -> dict:
    """Runs on the learning queue: one at a time (a lease in the feedback database), only
    when explicit feedback arrived since the last retrain (or `force`)."""
    started = time.perf_counter()
    owner = f"{socket.gethostname()}:{os.getpid()}:{retrain.request.id}"
    outcome = learning.retrain_when_due(served.store(), settings.current().dataset, owner, force)
    if outcome.decision is None:
        metrics.RETRAIN_SKIPPED.labels(outcome.reason).inc()
        log.info("retrain skipped: %s", outcome.reason)
        return {"ran": False, "reason": outcome.reason}
    decision = "promoted" if outcome.decision.promoted else "rejected"
    metrics.GATE_DECISIONS.labels(decision).inc()
    metrics.RETRAIN_SECONDS.labels(decision).observe(time.perf_counter() - started)
    return {"ran": True, "promoted": outcome.decision.promoted, "reason": outcome.decision.reason,
            "version": outcome.decision.new_version}

"""The recommender as Celery tasks: what the Rasa actions call.

Start a worker with `celery -A recommender.tasks worker` (the broker comes
from CHATREC_BROKER_URL; see recommender/settings.py). A worker loads the
served model once and swaps in a newly promoted version at the next task,
without a restart.

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
import threading
from typing import Any, Callable

from celery import Celery, signals
from celery.utils.log import get_logger
from sqlalchemy.exc import OperationalError

from recommender import artifacts, retraining, settings
from recommender.catalog import Item
from recommender.celeryconfig import configuration
from recommender.constraints import Constraints, Taste
from recommender.datasets import load_dataset
from recommender.errors import RecommenderError, UnknownItem
from recommender.feedback import FeedbackStore
from recommender.service import Recommendations, Recommender

log = get_logger(__name__)  # under Celery's logger: shown in the worker's log

app = Celery("chatrec")
app.conf.update(configuration())

WRITES = {"acks_late": True, "reject_on_worker_lost": True,
          "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


class _Served:
    """The served recommender, reloaded when a new version is promoted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: str | None = None
        self._recommender: Recommender | None = None
        self._store: FeedbackStore | None = None

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def catalog(self):
        """The catalog of the recommender this task already loaded (no pointer re-read)."""
        return self._recommender.catalog

    def recommender(self) -> Recommender:
        name = settings.dataset_name()
        version = artifacts.current_version(name)
        with self._lock:
            if self._recommender is None or version != self._version:
                self._recommender = artifacts.load_recommender(name, version)
                self._version = version
                log.info("serving %s model %s", name, version)
            return self._recommender

    def store(self) -> FeedbackStore:
        with self._lock:
            if self._store is None:
                self._store = FeedbackStore(settings.database_url())
                self._store.migrate()
            return self._store


served = _Served()


@signals.celeryd_after_setup.connect
def _load_before_the_first_task(**_: Any) -> None:
    """Load the served model as the worker starts (0.45 s here), not in the first task;
    in the parent process, so that prefork children start with it."""
    try:
        served.recommender()
    except (FileNotFoundError, ValueError) as error:  # no usable model yet: tasks will say so
        log.warning("no model loaded at start: %s", error)


def answers(task: Callable[..., dict]) -> Callable[..., dict]:
    """Turn a RecommenderError into an error payload the caller can show."""
    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> dict:
        try:
            return {"ok": True, **task(*args, **kwargs), "model": served.version}
        except UnknownItem as error:
            return {"ok": False, "error": "unknown_item", "message": str(error),
                    "reference": error.reference, "suggestions": [_item(i) for i in error.suggestions]}
        except RecommenderError as error:
            return {"ok": False, "error": type(error).__name__, "message": str(error)}
    return wrapper


def _item(item: Item) -> dict:
    return {"id": item.id, "title": item.title, "year": item.year, "label": item.label,
            "genres": list(served.catalog.genres_of(item))}


def _list(found: Recommendations) -> dict:
    return {"items": [{**_item(r.item), "score": r.score} for r in found.items], "reason": found.reason}


def taste_for(identity: str, liked: list[str] | tuple = (), genres: list[str] | tuple = ()) -> Taste:
    """Stored feedback plus what the conversation says now."""
    return served.store().feedback(identity).taste(liked, genres)


@app.task(name="chatrec.recommend", **WRITES)
@answers
def recommend(identity: str, k: int = 5, constraints: dict | None = None, liked: list | tuple = (),
              genres: list | tuple = (), request_id: str | None = None, require_taste: bool = True) -> dict:
    """Top k for this person; with a request id, the items shown are remembered
    (so "more" never repeats them)."""
    found = served.recommender().recommend(taste_for(identity, liked, genres), k,
                                           Constraints(**(constraints or {})), require_taste)
    if request_id and found.items:
        served.store().record_many(identity, [("shown", rec.item.id, f"{request_id}:shown:{rec.item.id}", None)
                                              for rec in found.items])
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
def compare(identity: str, first: str, second: str, genres: list | tuple = ()) -> dict:
    result = served.recommender().compare(taste_for(identity, genres=genres), first, second)
    return {"items": [{**_item(d.item), "mean_rating": d.mean_rating, "ratings": d.ratings, "score": s}
                      for d, s in ((result.first, result.scores[0]), (result.second, result.scores[1]))],
            "preferred": result.preferred.id}


@app.task(name="chatrec.explain")
@answers
def explain(identity: str, item: str, constraints: dict | None = None, genres: list | tuple = ()) -> dict:
    result = served.recommender().explain(taste_for(identity, genres=genres), item,
                                          Constraints(**(constraints or {})))
    return {"item": _item(result.item), "score": result.score,
            "reasons": [{"kind": r.kind, "text": r.text, "evidence": r.evidence} for r in result.reasons]}


@app.task(name="chatrec.record_feedback", **WRITES)
@answers
def record_feedback(identity: str, kind: str, item: str, client_event_id: str,
                    rating: float | None = None) -> dict:
    found = served.recommender().find_item(item)
    stored = served.store().record(identity, kind, found.id, client_event_id, rating)
    if stored:
        _maybe_schedule_retrain()
    return {"stored": stored, "item": _item(found)}


@app.task(name="chatrec.forget_user", **WRITES)
@answers
def forget_user(identity: str) -> dict:
    return {"deleted_rows": served.store().forget(identity)}


@app.task(name="chatrec.export_user")
@answers
def export_user(identity: str) -> dict:
    return {"data": served.store().export(identity)}


@app.task(name="chatrec.retrain", acks_late=True, reject_on_worker_lost=True,
          time_limit=3600, soft_time_limit=3500)
@answers
def retrain() -> dict:
    try:
        decision = retraining.retrain(load_dataset(settings.dataset_name()), served.store())
    finally:
        _retrain_flag().unlink(missing_ok=True)
    return {"promoted": decision.promoted, "reason": decision.reason, "version": decision.new_version}


def _retrain_flag():
    return artifacts.models_dir() / settings.dataset_name() / "RETRAIN_REQUESTED"


def _maybe_schedule_retrain() -> None:
    """Queue one retrain once enough new feedback has arrived since the served model."""
    name = settings.dataset_name()
    if served.store().events_after(retraining.last_trained_event(name)) < settings.retrain_after():
        return
    flag = _retrain_flag()
    try:
        flag.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(flag, os.O_CREAT | os.O_EXCL))  # only the first caller queues it
    except FileExistsError:
        return
    retrain.delay()

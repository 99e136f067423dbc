"""Configuration from the environment, with embedded defaults that need no server.

| variable | default (embedded) | production example |
|---|---|---|
| CHATREC_STATE_DIR | <repo>/.state | /var/lib/chatrec |
| CHATREC_DATABASE_URL | sqlite:///<state>/feedback.sqlite3 | postgresql://chatrec@db/chatrec |
| CHATREC_BROKER_URL | filesystem:// (folders under <state>/broker) | redis://redis:6379/0, amqp://guest:guest@rabbit// |
| CHATREC_RESULT_BACKEND | db+sqlite:///<state>/results.sqlite3 (Redis: the broker URL; AMQP: rpc://) | redis://redis:6379/1 |
| CHATREC_MODELS_DIR | <repo>/models | /var/lib/chatrec/models |
| CHATREC_DATASET | movielens-100k | |
| CHATREC_RETRAIN_AFTER | 200 new feedback events | |
| CHATREC_VISIBILITY_TIMEOUT | 300 s (Redis: redelivery of unacknowledged tasks) | |
"""

from __future__ import annotations

import os
from pathlib import Path

from recommender.datasets import REPO_ROOT


def state_dir() -> Path:
    path = Path(os.environ.get("CHATREC_STATE_DIR", REPO_ROOT / ".state"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("CHATREC_DATABASE_URL") or f"sqlite:///{state_dir() / 'feedback.sqlite3'}"


def broker_url() -> str:
    return os.environ.get("CHATREC_BROKER_URL") or "filesystem://"


def result_backend() -> str:
    explicit = os.environ.get("CHATREC_RESULT_BACKEND")
    if explicit:
        return explicit
    broker = broker_url()
    if broker.startswith(("redis://", "rediss://")):
        return broker
    if broker.startswith(("amqp://", "pyamqp://")):
        return "rpc://"
    return f"db+sqlite:///{state_dir() / 'results.sqlite3'}"


def dataset_name() -> str:
    return os.environ.get("CHATREC_DATASET", "movielens-100k")


def retrain_after() -> int:
    return int(os.environ.get("CHATREC_RETRAIN_AFTER", "200"))


def visibility_timeout() -> int:
    """Seconds before Redis redelivers a task whose worker died without acknowledging it."""
    return int(os.environ.get("CHATREC_VISIBILITY_TIMEOUT", "300"))

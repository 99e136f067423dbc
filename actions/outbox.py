"""Feedback that could not reach a worker, kept on disk until one answers.

A row per task call (name and keyword arguments as JSON) in a small SQLite
file under the state directory. Every queued call carries a client event
id, so sending one twice (it reached the broker but the answer timed out)
stores it once. Forgetting a person drops their kept calls (`drop`); a
kept "forget_user" replaces everything kept about that person before it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from chatrec import settings
from recommender.domain.errors import RecommenderError
from recommender.tasks.client import ServiceUnavailable

log = logging.getLogger(__name__)
_flushing = threading.Lock()  # one flush at a time in this process


def _path() -> Path:
    return settings.current().state_folder() / "outbox.sqlite3"


def _connect() -> sqlite3.Connection:
    connection = sqlite3.connect(_path(), timeout=10)
    connection.execute("CREATE TABLE IF NOT EXISTS pending "
                       "(id INTEGER PRIMARY KEY, task TEXT NOT NULL, kwargs TEXT NOT NULL)")
    return connection


def put(task: str, **kwargs: object) -> None:
    """Keep one task call for later."""
    with closing(_connect()) as connection, connection:
        if task == "forget_user":
            _drop(connection, str(kwargs["identity"]))
        connection.execute("INSERT INTO pending (task, kwargs) VALUES (?, ?)", (task, json.dumps(kwargs)))


def drop(identity: str) -> int:
    """Forget every kept call about `identity`; returns how many."""
    with closing(_connect()) as connection, connection:
        return _drop(connection, identity)


def _drop(connection: sqlite3.Connection, identity: str) -> int:
    return connection.execute("DELETE FROM pending WHERE json_extract(kwargs, '$.identity') = ?",
                              (identity,)).rowcount


def pending() -> int:
    with closing(_connect()) as connection:
        return connection.execute("SELECT count(*) FROM pending").fetchone()[0]


def flush(send: Callable[..., object]) -> int:
    """Send the kept calls in order, deleting each once answered; stops while the
    recommender is unavailable. Returns how many were answered."""
    if not _flushing.acquire(blocking=False):
        return 0  # another thread is sending them
    try:
        sent = _send_all(send)
    finally:
        _flushing.release()
    if sent:
        log.info("sent %d queued feedback call(s)", sent)
    return sent


def _send_all(send: Callable[..., object]) -> int:
    sent = 0
    with closing(_connect()) as connection:
        rows = connection.execute("SELECT id, task, kwargs FROM pending ORDER BY id").fetchall()
        for row_id, task, kwargs in rows:
            try:
                send(task, **json.loads(kwargs))
            except ServiceUnavailable:
                break  # still down: keep the rest for next time
            except RecommenderError as error:  # the recommender refuses it: retrying cannot help
                log.warning("dropping queued %s call: %s", task, error)
            with connection:
                connection.execute("DELETE FROM pending WHERE id = ?", (row_id,))
            sent += 1
    return sent

"""Which queues have a live worker, known without asking a worker.

Every worker writes a heartbeat each BEAT_SECONDS for each queue it serves;
a caller that finds none younger than STALE_SECONDS knows at once that no
answer will come and can fall back instead of waiting out its timeout.
The heartbeats live where the broker lives: a Redis sorted set per queue
(`chatrec:heartbeats:<queue>`) with a Redis broker, files beside the
queue folders with the embedded filesystem broker. With RabbitMQ there is
no shared place, so callers rely on their timeout (`board_for` is None).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import redis
from celery import Celery

BEAT_SECONDS = 0.5
STALE_SECONDS = 2.5


class RedisBoard:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def beat(self, queue: str, worker: str) -> None:
        key = f"chatrec:heartbeats:{queue}"
        now = time.time()
        with self.client.pipeline() as pipe:
            pipe.zadd(key, {worker: now}).zremrangebyscore(key, "-inf", now - 60).execute()

    def clear(self, queue: str, worker: str) -> None:
        self.client.zrem(f"chatrec:heartbeats:{queue}", worker)

    def alive(self, queue: str) -> bool:
        return self.client.zcount(f"chatrec:heartbeats:{queue}", time.time() - STALE_SECONDS, "+inf") > 0

    def workers(self, queue: str) -> set[str]:
        """The workers of `queue` that beat lately."""
        found = self.client.zrangebyscore(f"chatrec:heartbeats:{queue}", time.time() - STALE_SECONDS, "+inf")
        return {name.decode() for name in found}


class FileBoard:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def beat(self, queue: str, worker: str) -> None:
        path = self.folder / queue / worker
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def clear(self, queue: str, worker: str) -> None:
        (self.folder / queue / worker).unlink(missing_ok=True)

    def alive(self, queue: str) -> bool:
        oldest = time.time() - STALE_SECONDS
        try:
            paths = list((self.folder / queue).iterdir())
        except FileNotFoundError:  # no worker ever beat
            return False
        return any(_modified(path) >= oldest for path in paths)

    def workers(self, queue: str) -> set[str]:
        oldest = time.time() - STALE_SECONDS
        try:
            return {path.name for path in (self.folder / queue).iterdir() if _modified(path) >= oldest}
        except FileNotFoundError:
            return set()


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # a worker that stopped cleanly removed it meanwhile
        return 0.0


def board_for(app: Celery) -> RedisBoard | FileBoard | None:
    """Where `app`'s workers beat; None when the broker has no shared place for it."""
    broker = app.conf.broker_url or ""
    if broker.startswith(("redis://", "rediss://")):
        return RedisBoard(broker)
    if broker.startswith("filesystem://"):
        return FileBoard(Path(app.conf.broker_transport_options["data_folder_in"]).parent / "heartbeats")
    return None


class Beating:
    """A daemon thread that beats for `queues` until stopped."""

    def __init__(self, board: RedisBoard | FileBoard, queues: list[str], worker: str) -> None:
        self.board, self.queues, self.worker = board, queues, worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Beating:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for queue in self.queues:
                try:
                    self.board.beat(queue, self.worker)
                except (redis.RedisError, OSError):
                    pass  # the broker is down: callers find out from it directly
            self._stop.wait(BEAT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        for queue in self.queues:
            try:
                self.board.clear(queue, self.worker)
            except (redis.RedisError, OSError):
                pass

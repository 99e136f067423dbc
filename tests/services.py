"""Real servers for the tests: a private Redis, and PostgreSQL databases.

Redis: every test session starts its own `redis-server` on a free port, so
tests may stop and restart it without touching anything else.
PostgreSQL: the server at CHATREC_TEST_POSTGRES (default 127.0.0.1:5432,
trust auth) is used, started with `pg_ctlcluster` if it is down; each test
gets a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg2

POSTGRES = os.environ.get("CHATREC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class RedisServer:
    """A private redis-server process that can be stopped and started again."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _postgres_up() -> bool:
    try:
        psycopg2.connect(f"{POSTGRES}/postgres", connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def ensure_postgres() -> None:
    if _postgres_up():
        return
    clusters = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").is_dir() else []
    if not clusters or shutil.which("pg_ctlcluster") is None:
        raise RuntimeError(f"PostgreSQL is not reachable at {POSTGRES} and no local cluster to start")
    version = clusters[-1].parent.name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
    for _ in range(50):
        if _postgres_up():
            return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not come up at {POSTGRES}")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database; yields its SQLAlchemy URL and drops it afterwards."""
    ensure_postgres()
    name = f"chatrec_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(f"{POSTGRES}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def caller_app(env: dict[str, str]):
    """A Celery app configured like the workers of `env`, for sending tasks."""
    from celery import Celery

    from recommender.celeryconfig import configuration

    with environment(env):
        app = Celery("caller")
        app.conf.update(configuration())
    return app


class Worker:
    """A real `celery worker` process (one child process or thread) with its own environment."""

    def __init__(self, env: dict[str, str], log: Path, pool: str | None = None) -> None:
        self.pool = pool  # None: what the configuration chooses
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
                    "PYTHONUNBUFFERED": "1", **env}
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(os.sys.executable), "celery"), "-A", "recommender.tasks",
             "worker", "--concurrency=1", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             *([f"--pool={self.pool}"] if self.pool else [])],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        return self

    def children(self) -> list[int]:
        """Pids of the pool processes (the ones that run tasks)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def ensure_rabbitmq(url: str = "amqp://guest:guest@127.0.0.1:5672//") -> str:
    """The local RabbitMQ, started with `rabbitmq-server -detached` if it is down."""
    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", 5672), timeout=0.5).close()
            return True
        except OSError:
            return False

    if not up():
        if shutil.which("rabbitmq-server") is None:
            raise RuntimeError("RabbitMQ is not running and rabbitmq-server is not installed")
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        deadline = time.monotonic() + 60
        while not up():
            if time.monotonic() > deadline:
                raise RuntimeError("RabbitMQ did not come up")
            time.sleep(0.5)
    return url

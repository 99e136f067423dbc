"""Real servers for tests and benchmarks: throwaway PostgreSQL databases, the local RabbitMQ.

PostgreSQL: the server at CHATREC_TEST_POSTGRES (default 127.0.0.1:5432,
trust auth) is used, started with `pg_ctlcluster` if it is down; each test or
benchmark gets a fresh database that is dropped afterwards.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2

from chatrec import settings

POSTGRES = settings.current().test_postgres


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

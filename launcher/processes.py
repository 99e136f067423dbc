"""The launcher's child processes: Celery workers with their own environment, bound to the
launcher (they stop when it is gone), and helpers to find, wait for and stop processes."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import psutil

from chatrec.processes import celery_worker
from chatrec.settings import environment, variable
from recommender.data import REPO_ROOT as ROOT

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def child_setup(bound: bool, nice: int = 0):
    """A Popen `preexec_fn`: with `bound`, the child gets SIGTERM when the process that started it
    dies (Linux's parent-death signal); `nice` lowers its CPU priority. None when nothing to do."""
    if not bound and not nice:
        return None

    def setup() -> None:
        if bound:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if nice:
            os.nice(nice)
    return setup


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports_in_a_row(count: int) -> int:
    """A port such that it and the next count-1 are free (a router's, then its Rasa processes')."""
    while True:
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, their children...)."""
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Worker:
    """A real `celery worker` process (one child process or thread) with its own environment,
    consuming `queue` ("interactive" or "learning"); `nice` lowers its CPU priority; with
    `bound`, it stops when the process that started it is gone."""

    def __init__(self, env: dict[str, str], log: Path, pool: str | None = None,
                 concurrency: int = 1, queue: str = "interactive", nice: int = 0,
                 metrics_port: int | None = None, bound: bool = False, name: str | None = None) -> None:
        self.name = name or f"the {queue} worker"
        self.pool = pool  # None: what the configuration chooses
        self.concurrency = concurrency
        self.queue = queue
        self.nice = nice
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
                    "PYTHONUNBUFFERED": "1", **env}
        if metrics_port:
            # prefork children write their metrics here; the parent serves them all
            multiprocess = log.parent / f"metrics-{log.stem}"
            shutil.rmtree(multiprocess, ignore_errors=True)
            multiprocess.mkdir(parents=True)
            self.env.update(CHATREC_METRICS_PORT=str(metrics_port),
                            PROMETHEUS_MULTIPROC_DIR=str(multiprocess))
        else:
            self.env.pop("CHATREC_METRICS_PORT", None)
        if bound:  # the worker watches for its launcher (recommender/tasks/worker.py)
            self.env[variable("launcher_pid")] = str(os.getpid())
        self.bound = bound
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def started(self) -> subprocess.Popen:
        if self.process is None:
            raise RuntimeError(f"the {self.queue} worker was not started")
        return self.process

    def start(self) -> Worker:
        self.process = subprocess.Popen(
            celery_worker(self.queue, f"{self.queue}-{uuid.uuid4().hex[:6]}", self.concurrency, self.pool),
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT, preexec_fn=child_setup(self.bound, self.nice))
        return self

    def wait_ready(self, timeout: float = 120.0) -> Worker:
        """Until the worker writes heartbeats for its queue (recommender/tasks/heartbeat.py)."""
        from recommender.tasks.heartbeat import board_for

        board = board_for(caller_app(self.env))
        deadline = time.monotonic() + timeout
        while board is not None and not board.alive(self.queue):
            if self.started.poll() is not None:
                raise RuntimeError(f"the {self.queue} worker exited with {self.started.returncode}; "
                                   f"see {self.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {self.queue} worker did not start within {timeout} s; "
                                   f"see {self.log}")
            time.sleep(0.1)
        return self

    def children(self) -> list[int]:
        """Pids of the pool processes (the ones that run tasks)."""
        return [child.pid for child in psutil.Process(self.started.pid).children()]

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


def caller_app(env: dict[str, str]):
    """A Celery app configured like the workers of `env`, for sending tasks."""
    from celery import Celery

    from recommender.tasks.config import configuration

    with environment(env):
        app = Celery("caller")
        app.conf.update(configuration())
    return app

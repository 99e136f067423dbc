"""Each process's command line, defined once: the `chatrec` command, the Makefile (through it),
the launcher, the adapters' stack and the deployment files (deploy/) all run these.

Strings only: this module imports nothing of the bot, the actions or the recommender.
"""

from __future__ import annotations

import sys
from pathlib import Path

CELERY_APP = "recommender.tasks.worker"
INTERACTIVE, LEARNING = "interactive", "learning"  # the Celery queues: conversations wait only on the first
LEARNING_NICE = 19  # a learning worker lowers its own CPU priority: a fit takes what conversations leave


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def celery_worker(queue: str, name: str, concurrency: int | None = None,
                  pool: str | None = None) -> list[str]:
    """A Celery worker consuming `queue` ("interactive" or "learning")."""
    return python("-m", "celery", "-A", CELERY_APP, "worker", "-Q", queue, "-n", f"{name}@%h",
                  "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                  *([f"--concurrency={concurrency}"] if concurrency else []),
                  *([f"--pool={pool}"] if pool else []))


def beat(schedule: Path) -> list[str]:
    """Celery beat: the nightly retrain (exactly one per deployment)."""
    return python("-m", "celery", "-A", CELERY_APP, "beat", "--loglevel=INFO", "--schedule", str(schedule))


def action_server(port: int) -> list[str]:
    return python("-m", "rasa_sdk", "--actions", "actions", "--port", str(port))


def rasa_server(model: Path, endpoints: Path, port: int, credentials: Path) -> list[str]:
    """`rasa run` (through bot/rasa_cli.py: Rasa's CLI with a speed fix): REST channel and HTTP API."""
    return python("-m", "bot.rasa_cli", "run", "--model", str(model), "--endpoints", str(endpoints),
                  "--port", str(port), "--enable-api", "--credentials", str(credentials))


def router(port: int, backends: list[str], host: str = "127.0.0.1") -> list[str]:
    """The router in front of several Rasa processes (launcher/router.py)."""
    return python("-m", "launcher.router", "--host", host, "--port", str(port),
                  *[argument for backend in backends for argument in ("--backend", backend)])

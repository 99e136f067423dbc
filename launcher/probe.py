"""`chatrec probe <what>`: exit 0 when a process is ready, 1 when not (for health checks).

    ready             a recommendation comes back through the Rasa process on CHATREC_RASA_PORT
                      as a real list within 2 s (the launcher's own test of "ready")
    worker            this host's interactive worker beats (recommender/tasks/heartbeat.py)
    learning-worker   this host's learning worker beats
"""

from __future__ import annotations

import argparse
import socket
import sys

from chatrec import settings
from chatrec.processes import INTERACTIVE, LEARNING
from launcher.processes import caller_app
from launcher.stack import READY_SECONDS, recommendation_seconds
from recommender.tasks.heartbeat import board_for

QUEUES = {"worker": INTERACTIVE, "learning-worker": LEARNING}


def ready() -> bool:
    took = recommendation_seconds(settings.current().rasa_port, f"chatrec:probe:{socket.gethostname()}")
    return took is not None and took < READY_SECONDS


def worker_alive(queue: str) -> bool:
    """Whether a worker of `queue` on this host beats (`chatrec worker` is `interactive@<host>`; the
    launcher's are `interactive-<id>@<host>`)."""
    board = board_for(caller_app({}))  # configured from this environment
    if board is None:  # no shared board (RabbitMQ): the platform's process check must do
        return True
    host = socket.gethostname()
    return any(name.startswith(queue) and name.rsplit("@", 1)[-1] == host for name in board.workers(queue))


def main() -> int:
    parser = argparse.ArgumentParser(prog="chatrec probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["ready", *QUEUES])
    args = parser.parse_args()
    ok = ready() if args.what == "ready" else worker_alive(QUEUES[args.what])
    print("ready" if ok else "not ready")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

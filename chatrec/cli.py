"""`chatrec`: the bot's commands, installed (the Makefile's targets and the deployment files call them).

Each command runs one of the program's processes as a child (its command line:
chatrec/processes.py), so this launcher imports nothing of the bot, the
actions or the recommender.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable

from chatrec import processes, settings
from chatrec.processes import INTERACTIVE, LEARNING, python
from chatrec.settings import OFFLINE


def _router() -> list[str]:
    config = settings.current()
    backends = [url.strip() for url in config.rasa_backends.split(",") if url.strip()]
    if not backends:
        sys.exit(f"chatrec router: set {settings.variable('rasa_backends')} (the Rasa processes' URLs)")
    return processes.router(config.router_port or config.rasa_port, backends, host="0.0.0.0")


COMMANDS: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "run": ("train what is missing, then talk to the bot in `rasa shell`",
            lambda: python("-m", "launcher.stack", "shell")),
    "serve": ("the whole stack on this machine: Rasa's HTTP server (REST channel), the workers and the "
              "action server", lambda: python("-m", "launcher.stack", "serve")),
    "interactive": ("`rasa interactive` on the same stack",
                    lambda: python("-m", "launcher.stack", "interactive")),
    "train": ("train what is missing: the recommender, then the Rasa model; migrate the feedback store",
              lambda: python("-m", "launcher.stack", "train")),
    "telegram": ("the Telegram adapter and the bot stack (TELEGRAM_BOT_TOKEN)",
                 lambda: python("-m", "channels.telegram")),
    "slack": ("the Slack adapter and the bot stack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)",
              lambda: python("-m", "channels.slack")),
    # one process each, for a deployment (deploy/): what `serve` starts on one machine
    "bot": ("one Rasa process (REST channel, HTTP API) on CHATREC_RASA_PORT, with the newest trained model",
            lambda: python("-m", "launcher.stack", "bot")),
    "router": ("the router: one address in front of CHATREC_RASA_BACKENDS, each conversation on one process",
               _router),
    "actions": ("the action server on CHATREC_ACTIONS_PORT",
                lambda: processes.action_server(settings.current().actions_port)),
    "worker": ("the interactive Celery worker: what conversations wait for",
               lambda: processes.celery_worker(INTERACTIVE, INTERACTIVE,
                                               settings.current().worker_concurrency or None)),
    "learning-worker": ("the learning Celery worker: retraining only, at the lowest CPU priority "
                        "(it lowers its own)", lambda: processes.celery_worker(LEARNING, LEARNING)),
    "beat": ("Celery beat: schedules the nightly retrain (exactly one per deployment)",
             lambda: processes.beat(settings.current().state_folder() / "celerybeat-schedule")),
    "probe": ("exit 0 when a process is ready: `probe ready` (a recommendation through Rasa), "
              "`probe worker`, `probe learning-worker`", lambda: python("-m", "launcher.probe")),
    "retrain": ("retrain on the catalog + stored feedback; promoted only if not worse",
                lambda: python("-m", "recommender", "retrain")),
    "rollback": ("serve the previous model version again", lambda: python("-m", "recommender", "rollback")),
    "recommender": ("the recommender's own commands (train, eval, simulate, demo, retrain, rollback)",
                    lambda: python("-m", "recommender")),
}


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(prog="chatrec", description="Chat-Rec, a conversational recommender.")
    sub = commands.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, _) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return commands


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    child = subprocess.run([*COMMANDS[args.command][1](), *rest], env={**os.environ, **OFFLINE})
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())

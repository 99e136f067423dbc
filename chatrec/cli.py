"""`chatrec`: the bot's commands, installed (the Makefile's targets call them).

Each command runs one of the program's modules in a child process, so this
launcher imports nothing of the bot, the actions or the recommender.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from chatrec.settings import OFFLINE

PY = sys.executable
COMMANDS: dict[str, tuple[str, list[str]]] = {
    "run": ("train what is missing, then talk to the bot in `rasa shell`", ["-m", "launcher.stack", "shell"]),
    "serve": ("Rasa's HTTP server (REST channel) with the workers and the action server",
              ["-m", "launcher.stack", "serve"]),
    "interactive": ("`rasa interactive` on the same stack", ["-m", "launcher.stack", "interactive"]),
    "train": ("train what is missing: the recommender, then the Rasa model", ["-m", "launcher.stack", "train"]),
    "telegram": ("the Telegram adapter and the bot stack (TELEGRAM_BOT_TOKEN)", ["-m", "channels.telegram"]),
    "slack": ("the Slack adapter and the bot stack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)",
              ["-m", "channels.slack"]),
    "worker": ("the interactive Celery worker: what conversations wait for",
               ["-m", "celery", "-A", "recommender.tasks.worker", "worker", "-Q", "interactive", "-n", "interactive@%h",
                "--loglevel=INFO"]),
    "learning-worker": ("the learning Celery worker: retraining only (run it under `nice -n 19`)",
                        ["-m", "celery", "-A", "recommender.tasks.worker", "worker", "-Q", "learning", "-n",
                         "learning@%h", "--loglevel=INFO"]),
    "retrain": ("retrain on the catalog + stored feedback; promoted only if not worse",
                ["-m", "recommender", "retrain"]),
    "rollback": ("serve the previous model version again", ["-m", "recommender", "rollback"]),
    "recommender": ("the recommender's own commands (train, eval, simulate, demo, retrain, rollback)", ["-m", "recommender"]),
}


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(prog="chatrec", description="Chat-Rec, a conversational recommender.")
    sub = commands.add_subparsers(dest="command", required=True, metavar="command")
    for name, (help_text, _) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return commands


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    child = subprocess.run([PY, *COMMANDS[args.command][1], *rest], env={**os.environ, **OFFLINE})
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())

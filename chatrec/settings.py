"""Every setting Chat-Rec reads from the environment, read in one place.

`current()` is the settings of this process (read once, `reload()` after
changing the environment); `Settings.from_environ(env)` reads a given
environment (what the launcher gives its children). Defaults are embedded:
nothing needs a server. `python -m chatrec.settings` prints the table that
README.md shows (a test keeps them equal).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # the checkout (or site-packages when installed)
# Where state and models go by default: the checkout, or the working folder of an installed `chatrec`.
HOME = ROOT if (ROOT / "pyproject.toml").is_file() else Path.cwd()
# Set for every process: models come from installed packages, never from a hub; Rasa sends no telemetry.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "RASA_TELEMETRY_ENABLED": "false"}
# Set for the processes the launcher starts: libraries' start-up notices off (TensorFlow's
# C++ logs, SQLAlchemy 2.0's migration notice, deprecation warnings).
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
         "PYTHONWARNINGS": "ignore::DeprecationWarning"}


def _setting(default: object, doc: str, example: str = "", *, env: str | None = None,
             shown_default: str | None = None, secret: bool = False) -> Any:
    """A field read from `env` (default: CHATREC_<NAME>), documented for the README table."""
    return field(default=default, repr=not secret,
                 metadata={"doc": doc, "example": example, "env": env, "shown_default": shown_default})


@dataclass(frozen=True)
class Settings:
    # storage
    state_dir: Path = _setting(HOME / ".state", "local state: SQLite files, embedded broker, logs",
                               "/var/lib/chatrec", shown_default="`.state/`")
    models_dir: Path = _setting(HOME / "models", "trained model versions", "a shared volume",
                                shown_default="`models/`")
    database_url: str = _setting("", "the feedback store", "`postgresql://user@host/chatrec`",
                                 shown_default="`sqlite:///.state/feedback.sqlite3`")
    tracker_store_url: str = _setting("", "Rasa's conversations", "`postgresql://rasa@host:5432/rasa`",
                                      shown_default="`sqlite:///.state/tracker.sqlite3`")
    tracker_cache: int = _setting(256, "conversations kept in memory per Rasa process")
    lock_store_url: str = _setting("", "Rasa's lock store; needed for several Rasa processes",
                                   "`redis://host:6379/2`", shown_default="in memory")
    # tasks
    broker_url: str = _setting("filesystem://", "the Celery broker",
                               "`redis://host:6379/0`, `amqp://user:pass@host//`",
                               shown_default="`filesystem://` (folders under `.state/`)")
    result_backend: str = _setting("", "where task results wait", "`redis://host:6379/1`",
                                   shown_default="SQLite under `.state/` (Redis: the broker; AMQP: `rpc://`)")
    visibility_timeout: int = _setting(300, "seconds before Redis redelivers a task whose worker died")
    task_timeout: float = _setting(5.0, "seconds an action waits for a live but slow worker "
                                        "(with no live worker it falls back at once)")
    action_threads: int = _setting(64, "conversations waiting on the recommender at once per action server")
    # the recommender
    dataset: str = _setting("movielens-100k",
                            "the catalog: `movielens-100k`, a folder under `data/catalogs/` or a path",
                            "`products`")
    retrain_after: int = _setting(200,
                                  "explicit feedback events (impressions don't count) that queue a retrain")
    learning_threads: int = _setting(1, "LightFM threads of a retrain: one leaves the other cores to "
                                        "conversations, and one thread fits the same model every time")
    # processes and ports
    rasa_port: int = _setting(5005, "Rasa's HTTP port")
    actions_port: int = _setting(5055, "the action server's port")
    rasa_url: str = _setting("", "where the channel adapters find Rasa", "`http://rasa:5005`",
                             shown_default="the stack they start (`http://127.0.0.1:<rasa_port>`)")
    rasa_workers: int = _setting(1, "Rasa server processes the launcher starts; more than 1: on the next "
                                    "ports, behind the router on `CHATREC_RASA_PORT` "
                                    "(needs a Redis lock store)", "`2`")
    interactive_workers: int = _setting(1, "interactive Celery worker processes the launcher starts", "`2`")
    worker_concurrency: int = _setting(0, "task processes per `chatrec worker`", "`2`",
                                       shown_default="one per CPU (Celery's default)")
    actions_url: str = _setting("", "where Rasa finds the action server", "`http://actions:5055/webhook`",
                                shown_default="`http://127.0.0.1:<actions_port>/webhook`")
    router_port: int = _setting(0, "where `chatrec router` listens", "`5000`",
                                shown_default="`CHATREC_RASA_PORT`")
    rasa_backends: str = _setting("", "the Rasa processes `chatrec router` sends conversations to, "
                                      "comma-separated", "`http://bot-1:5005,http://bot-2:5005`")
    torch_threads: int = _setting(0, "torch threads of the BERT component (serving: 1)",
                                  shown_default="up to 4 while training")
    bert_quantize: str = _setting("", "BERT serves with int8 linear layers; `0` for the trained fp32 weights",
                                  shown_default="on")
    metrics_port_base: int = _setting(9810, "Prometheus metrics: action server (+0), interactive worker "
                                            "(+1), learning worker (+2), more interactive workers (+3...)",
                                      "`0` turns them off")
    metrics_port: int = _setting(0, "this process's metrics port (the launcher sets it)", shown_default="off")
    launcher_pid: int = _setting(0, "the launcher's process id: a worker it started stops when it is gone "
                                    "(the launcher sets it)", shown_default="none")
    metrics_addr: str = _setting("127.0.0.1", "the address metrics listen on", "`0.0.0.0`")
    prometheus_multiproc_dir: str = _setting("", "prometheus-client's folder for prefork workers "
                                                 "(the launcher sets it)", env="PROMETHEUS_MULTIPROC_DIR")
    # development
    test_postgres: str = _setting("postgresql://postgres@127.0.0.1:5432",
                                  "the PostgreSQL server where tests and benchmarks create throwaway "
                                  "databases (trust auth)", env="CHATREC_TEST_POSTGRES")
    # channels (secrets: never logged, never in repr)
    telegram_bot_token: str = _setting("", "the Telegram bot's token (BotFather)", env="TELEGRAM_BOT_TOKEN",
                                       secret=True)
    telegram_webhook_url: str = _setting("", "a public HTTPS URL: webhook instead of long polling",
                                         "`https://your.host/telegram`", env="TELEGRAM_WEBHOOK_URL",
                                         shown_default="long polling")
    telegram_secret_token: str = _setting("", "checked on every webhook call", "`$(openssl rand -hex 32)`",
                                          env="TELEGRAM_SECRET_TOKEN", secret=True)
    telegram_listen: str = _setting("127.0.0.1:8443", "where the webhook listens", env="TELEGRAM_LISTEN")
    telegram_api_url: str = _setting("", "another Bot API server (tests: a local one)",
                                     env="TELEGRAM_API_URL", shown_default="api.telegram.org")
    slack_bot_token: str = _setting("", "the Slack app's bot token (`xoxb-`)", env="SLACK_BOT_TOKEN",
                                    secret=True)
    slack_signing_secret: str = _setting("", "checks that requests come from Slack",
                                         env="SLACK_SIGNING_SECRET", secret=True)
    slack_app_token: str = _setting("", "Socket Mode instead of HTTP events (`xapp-`)", env="SLACK_APP_TOKEN",
                                    secret=True, shown_default="HTTP events")
    slack_listen: str = _setting("127.0.0.1:3000", "where HTTP events are received", env="SLACK_LISTEN")
    slack_api_url: str = _setting("", "another Web API server (tests: a local one)", env="SLACK_API_URL",
                                  shown_default="slack.com/api")

    def __post_init__(self) -> None:
        derived = {
            "database_url": self.database_url or f"sqlite:///{self.state_dir / 'feedback.sqlite3'}",
            "tracker_store_url": self.tracker_store_url or f"sqlite:///{self.state_dir / 'tracker.sqlite3'}",
            "result_backend": self.result_backend or _result_backend(self.broker_url, self.state_dir),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings that `environ` (default: this process's environment) gives; empty means default."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(variable(spec.name), "").strip()
            if not raw:
                continue
            kind: Any = type(spec.default)  # every setting has a default
            try:
                values[spec.name] = kind(raw)
            except ValueError:
                expected = "a whole number" if kind is int else "a number"
                raise ValueError(f"{variable(spec.name)} must be {expected}, not {raw!r}") from None
        return cls(**values)

    @property
    def action_endpoint(self) -> str:
        """The action server's webhook: CHATREC_ACTIONS_URL, else the local one."""
        return self.actions_url or f"http://127.0.0.1:{self.actions_port}/webhook"

    @property
    def rasa_address(self) -> str:
        """Rasa's URL: CHATREC_RASA_URL, else the local stack's port."""
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    def state_folder(self, *parts: str) -> Path:
        """A folder under the state directory, created when missing."""
        path = self.state_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def _result_backend(broker: str, state: Path) -> str:
    if broker.startswith(("redis://", "rediss://")):
        return broker
    if broker.startswith(("amqp://", "pyamqp://")):
        return "rpc://"
    return f"db+sqlite:///{state / 'results.sqlite3'}"


def variable(name: str) -> str:
    """The environment variable of setting `name`."""
    spec = {f.name: f for f in fields(Settings)}[name]
    return spec.metadata["env"] or f"CHATREC_{name.upper()}"


@lru_cache(maxsize=1)
def current() -> Settings:
    """This process's settings, read once."""
    return Settings.from_environ()


def reload() -> Settings:
    """Read the environment again (after a change to it)."""
    current.cache_clear()
    return current()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables, and so the settings, for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    reload()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reload()


def go_offline() -> None:
    """Make sure transformers never reaches a model hub from this process."""
    for name, value in OFFLINE.items():
        os.environ.setdefault(name, value)


def markdown_table() -> str:
    """The README's table of settings."""
    rows = ["| variable | default | what it is | production example |", "|---|---|---|---|"]
    for spec in fields(Settings):
        shown = spec.metadata["shown_default"]
        if shown is None:
            shown = "" if spec.default in ("", None) else f"`{spec.default}`"
        doc, example = spec.metadata["doc"], spec.metadata["example"]
        rows.append(f"| `{variable(spec.name)}` | {shown} | {doc} | {example} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(markdown_table() + "\n")

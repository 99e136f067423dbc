"""The real bot stack for end-to-end tests (fixtures registered in
tests/conftest.py), in the production layout: a Rasa model trained here (the
real BERT component, fewer epochs), two `rasa run` processes (REST channel)
behind the router, a private Redis as Celery broker and lock store, a Celery
worker, the action server, PostgreSQL as tracker and feedback store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from chatrec.contracts import CUSTOM_KEY
from chatrec.settings import environment
from devtools.postgres import postgres_database
from devtools.redis_server import RedisServer
from launcher.processes import free_port, free_ports_in_a_row
from launcher.stack import BOT, Stack, train_rasa, write_endpoints
from recommender.domain.catalog import Dataset
from tests.recommender.conftest import promote_tiny_version

TEST_EPOCHS = 6  # the served model trains 12; 6 keeps the suite short and still parses the tests' phrasing


def train_small_rasa_model(folder: Path, dataset_name: str) -> Path:
    """The bot's Rasa model for a catalog (its NLU data and domain slots), with fewer epochs."""
    config = yaml.safe_load((BOT / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"].endswith("BertIntentEntityClassifier"):
            component["epochs"] = TEST_EPOCHS
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    with environment({"CHATREC_DATASET": dataset_name}):
        return train_rasa(folder / "config.yml", folder / "models")


@pytest.fixture(scope="session")
def rasa_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_small_rasa_model(tmp_path_factory.mktemp("rasa"), "movielens-100k")


@dataclass
class Chat:
    """Talks to the running bot over Rasa's REST channel."""

    stack: Stack
    port: int
    model: Path
    endpoints: Path
    secrets: dict
    env: dict
    tracker_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        message = {"sender": sender, "message": text, **({"metadata": metadata} if metadata else {})}
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=message, timeout=60)
        response.raise_for_status()
        return response.json()

    def restart_everything(self) -> None:
        """Stop and start every process of the stack (stores and broker keep their data)."""
        self.stack.stop()
        self.stack.start_workers()
        self.stack.start_actions()
        self.stack.start_server(self.model, self.port, self.endpoints, self.secrets)
        self.stack.wait_for_workers()


def metrics_page(port: int, wait: float = 15.0) -> str:
    """A process's /metrics page (a restarted worker may take a moment to serve it)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def metric(port: int, name: str) -> float:
    """The value of one sample (name with labels, as exposed) on a process's /metrics page."""
    for line in metrics_page(port).splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies)


def structured(replies: list[dict], kind: str = "list") -> list[dict]:
    """The data of the structured messages of `kind` (actions/replies.py `rich`)."""
    found = [(reply.get("custom") or {}).get(CUSTOM_KEY) for reply in replies]
    return [data for data in found if data and data["kind"] == kind]


def shown_ids(replies: list[dict]) -> list[str]:
    """Item ids of the recommendation lists, in order."""
    return [item["id"] for data in structured(replies) for item in data["items"]]


@pytest.fixture(scope="session")
def chat(
    tmp_path_factory: pytest.TempPathFactory, rasa_model: Path, movielens: Dataset
) -> Iterator[Chat]:
    with running_chat(tmp_path_factory.mktemp("chat"), rasa_model, movielens) as chat:
        yield chat


@contextmanager
def running_chat(folder: Path, rasa_model: Path, dataset: Dataset) -> Iterator[Chat]:
    """The whole stack serving `dataset` with `rasa_model`."""
    redis = RedisServer(folder)
    redis.start()
    with postgres_database() as tracker_url, postgres_database() as feedback_url:
        env = {"CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_MODELS_DIR": str(folder / "models"),
               "CHATREC_BROKER_URL": redis.url, "CHATREC_DATABASE_URL": feedback_url,
               "CHATREC_TRACKER_STORE_URL": tracker_url, "CHATREC_RASA_WORKERS": "2",
               "CHATREC_LOCK_STORE_URL": f"redis://127.0.0.1:{redis.port}/2", "CHATREC_DATASET": dataset.name,
               "CHATREC_TASK_TIMEOUT": "2", "CHATREC_METRICS_PORT_BASE": str(free_ports_in_a_row(3))}
        promote_tiny_version(folder / "models", dataset)
        stack = Stack(env, logs=folder / "logs", actions_port=free_port())
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
        chat = Chat(stack, free_ports_in_a_row(3), rasa_model, endpoints, secrets, env, tracker_url)
        try:
            stack.start_workers()
            stack.start_actions()
            stack.start_server(rasa_model, chat.port, endpoints, secrets)
            stack.wait_for_workers()
            yield chat
        finally:
            stack.stop()
            redis.stop()

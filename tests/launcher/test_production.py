"""The production layout with real processes: two Rasa processes behind the router, two
interactive workers and the learning worker on a private Redis (broker, results, lock store),
PostgreSQL for conversations and feedback. Faults: a worker killed under load, a Rasa process
killed, Redis restarted; and the things that must hold anyway (a fresh start under load, two
messages of one person at the same instant on the two processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from actions import replies
from chatrec.settings import environment
from devtools.bench_chat import fallbacks_so_far, feedback_rows, kill_tree, production_environment
from devtools.postgres import postgres_database
from devtools.redis_server import RedisServer
from devtools.tcp_proxy import CuttableProxy
from launcher.processes import free_port, free_ports_in_a_row, running
from launcher.router import rendezvous
from launcher.stack import ROOT, Stack, wait_for_http, write_endpoints
from recommender.domain.catalog import Dataset
from tests.chat import shown_ids, structured, texts
from tests.recommender.conftest import promote_tiny_version

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

class Production:
    def __init__(self, stack: Stack, port: int, redis: RedisServer, env: dict[str, str],
                 feedback_link: CuttableProxy) -> None:
        self.stack, self.port, self.redis, self.env = stack, port, redis, env
        self.feedback_link = feedback_link  # between the workers and the feedback database

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def say(self, sender: str, text: str, port: int | None = None) -> list[dict]:
        answer = requests.post(f"http://127.0.0.1:{port or self.port}/webhooks/rest/webhook",
                               json={"sender": sender, "message": text}, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def fallbacks(self) -> float:
        """Answers the action server gave without the recommender, so far (its Prometheus counter)."""
        return fallbacks_so_far(self.stack.metrics_port(0))

    def backend_of(self, sender: str) -> int:
        """The port of the Rasa process that the router gives this sender."""
        urls = {f"http://127.0.0.1:{port}": port for port in self.stack.servers}
        return urls[rendezvous(list(urls), sender)[0]]

    def feedback_rows(self, prefix: str) -> int:
        return feedback_rows(self.env["CHATREC_DATABASE_URL"], prefix)


@contextmanager
def production(folder: Path, rasa_model: Path, dataset: Dataset) -> Iterator[Production]:
    redis = RedisServer(folder)
    redis.start()
    with postgres_database() as tracker_url, postgres_database() as feedback_url:
        link = CuttableProxy(make_url(feedback_url).port or 5432).start()
        feedback_url = str(make_url(feedback_url).set(port=link.port))
        env = {**production_environment(redis.port, tracker_url, feedback_url),
               "CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_MODELS_DIR": str(folder / "models"),
               "CHATREC_DATASET": dataset.name, "CHATREC_METRICS_PORT_BASE": str(free_ports_in_a_row(4))}
        promote_tiny_version(folder / "models", dataset)
        stack = Stack(env, logs=folder / "logs", actions_port=free_port())
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
        port = free_ports_in_a_row(3)
        try:
            stack.start_workers()
            stack.start_actions()
            stack.start_server(rasa_model, port, endpoints, secrets)
            stack.wait_ready(port)
            yield Production(stack, port, redis, env, link)
        finally:
            stack.stop()
            redis.stop()


@pytest.fixture(scope="module")
def layout(
    tmp_path_factory: pytest.TempPathFactory, rasa_model: Path, movielens: Dataset
) -> Iterator[Production]:
    with production(tmp_path_factory.mktemp("production"), rasa_model, movielens) as running_layout:
        yield running_layout


def sender() -> str:
    return f"prod:{uuid.uuid4().hex[:8]}"


def real_list(replies_: list[dict]) -> bool:
    return any(not data.get("fallback") and data["items"] for data in structured(replies_))


def test_two_rasa_processes_behind_one_address(layout: Production) -> None:
    assert len(layout.stack.servers) == 2 and layout.stack.worker and len(layout.stack.more_workers) == 1
    assert requests.get(f"{layout.url}/ready", timeout=10).json() == {"up": 2, "backends": 2}


def test_a_fresh_start_serves_people_who_start_at_once_without_fallbacks(layout: Production) -> None:
    """The first test on the module's stack: people start the moment the launcher says ready."""
    before = layout.fallbacks()

    def person(_: int) -> bool:
        name = sender()
        return real_list(layout.say(name, "recommend a comedy")) and real_list(layout.say(name, "more"))

    with ThreadPoolExecutor(20) as pool:
        answered = list(pool.map(person, range(20)))
    assert all(answered)
    assert layout.fallbacks() == before


def test_two_messages_of_one_person_at_the_same_instant_on_both_processes(layout: Production) -> None:
    name = sender()
    assert real_list(layout.say(name, "recommend a drama from the 90s"))
    messages = {"more": list(layout.stack.servers)[0], "recommend a comedy": list(layout.stack.servers)[1]}
    start = threading.Barrier(len(messages))

    def send(text: str) -> list[dict]:
        start.wait()
        return layout.say(name, text, port=messages[text])

    with ThreadPoolExecutor(2) as pool:
        answers = dict(zip(messages, pool.map(send, messages)))
    assert all(real_list(answer) for answer in answers.values()), answers
    events = requests.get(f"{layout.url}/conversations/{name}/tracker", timeout=10).json()["events"]
    said = [event["text"] for event in events if event["event"] == "user"]
    assert sorted(said[1:]) == sorted(messages), "each message is in the conversation once"
    # in order: the second turn's message comes after the first turn ended (action_listen)
    second = [i for i, event in enumerate(events) if event["event"] == "user"][2]
    first_turn = events[[i for i, event in enumerate(events) if event["event"] == "user"][1]:second]
    assert first_turn[-1].get("name") == "action_listen", "the turns did not interleave"


def test_an_interactive_worker_killed_under_load_costs_no_answer_and_no_feedback(layout: Production) -> None:
    before = layout.fallbacks()
    prefix = f"load:{uuid.uuid4().hex[:6]}:"
    people = [f"{prefix}{n}" for n in range(12)]
    liked: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def converse(name: str) -> None:
        try:
            for turn in range(4):
                shown = shown_ids(layout.say(name, "recommend a comedy" if turn == 0 else "more"))
                assert shown, "a list"
                layout.say(name, replies.payload("feedback_positive", shown[0]))
                layout.say(name, replies.payload("already_seen", shown[1]))
                with lock:
                    liked.extend([name, name])
        except Exception as error:  # counted, not raised in a thread
            with lock:
                errors.append(f"{type(error).__name__}: {error}")

    victim = layout.stack.worker.process.pid
    with ThreadPoolExecutor(len(people)) as pool:
        futures = [pool.submit(converse, name) for name in people]
        time.sleep(3)  # under load
        kill_tree(victim)
        for future in futures:
            future.result()
    assert not errors
    assert layout.fallbacks() == before, "every answer came from the recommender"
    assert layout.feedback_rows(prefix) == len(liked) == 12 * 4 * 2, "every feedback event stored once"
    assert [what for what in layout.stack.restart_dead() if what.startswith("interactive worker 1")]
    layout.stack.wait_for_workers()


def test_a_rasa_process_killed_the_conversation_continues_on_the_other(layout: Production,
                                                                       movielens: Dataset) -> None:
    name = sender()
    shown = shown_ids(layout.say(name, "recommend a romance from the 90s"))
    port = layout.backend_of(name)
    pid = layout.stack.servers[port].pid
    kill_tree(pid)
    layout.stack.servers[port].wait(timeout=30)  # gone, so its port refuses (a turn in flight got 502)
    assert not running(pid)
    why = texts(layout.say(name, "why the second one?"))
    assert why.startswith(f"Why {movielens.catalog.get(shown[1]).label}?"), why
    assert any("Rasa process on port" in what for what in layout.stack.restart_dead())
    wait_for_http(f"http://127.0.0.1:{port}/status", timeout=300)
    more = shown_ids(layout.say(name, "more"))  # back on its own process, same conversation
    assert len(more) == 5 and not set(more) & set(shown)


def test_redis_restarted_the_bot_answers_again_within_seconds(layout: Production) -> None:
    layout.redis.stop()
    time.sleep(2)
    layout.redis.start()  # the same port, empty: queues, results, locks and heartbeats are gone
    started = time.monotonic()
    while True:
        layout.stack.restart_dead()  # the launcher's supervision: a worker that gave up starts again
        try:
            if real_list(layout.say(sender(), "recommend a drama")):
                break
        except requests.RequestException:
            pass
        assert time.monotonic() - started < 60, "no recommendation a minute after Redis came back"
        time.sleep(1)
    took = time.monotonic() - started
    print(f"answering again {took:.1f} s after Redis restarted")
    assert took < 30


def test_probes_answer_for_each_process(layout: Production) -> None:
    def probe(what: str, port: int | None = None) -> int:
        env = {**os.environ, **layout.env, "PYTHONPATH": str(ROOT)}
        if port:
            env["CHATREC_RASA_PORT"] = str(port)
        return subprocess.run([sys.executable, "-m", "chatrec", "probe", what], cwd=ROOT, env=env,
                              capture_output=True, timeout=120).returncode

    # "ready" needs an answer within 2 s: a moment's contention here can miss it
    def ready(port: int) -> bool:
        return any(probe("ready", port) == 0 for _ in range(3))

    assert all(ready(port) for port in layout.stack.servers)
    assert probe("worker") == 0 and probe("learning-worker") == 0
    assert probe("ready", free_port()) == 1, "nothing listens there: not ready"


def test_the_feedback_database_unreachable_for_seconds_loses_no_feedback(layout: Production) -> None:
    prefix = f"outage:{uuid.uuid4().hex[:6]}:"
    people = [f"{prefix}{n}" for n in range(3)]
    shown = {name: shown_ids(layout.say(name, "recommend a comedy")) for name in people}
    layout.feedback_link.cut()
    try:
        for name in people:  # the workers cannot store it: kept in the action server's outbox
            layout.say(name, replies.payload("feedback_positive", shown[name][0]))
        time.sleep(3)
    finally:
        layout.feedback_link.restore()
    deadline = time.monotonic() + 60
    while layout.feedback_rows(prefix) < len(people):  # each later turn sends what was kept
        assert time.monotonic() < deadline, f"{layout.feedback_rows(prefix)} of {len(people)} stored"
        layout.say(people[0], "more")
        time.sleep(1)
    time.sleep(3)  # and nothing arrives twice (a worker's own retry and the outbox's replay)
    assert layout.feedback_rows(prefix) == len(people)

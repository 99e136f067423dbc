"""Real Celery workers, embedded (filesystem broker + SQLite) and on a private Redis."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import statistics
import time
import uuid

import pytest

from chatrec.settings import environment
from devtools.postgres import ensure_rabbitmq
from devtools.redis_server import RedisServer
from launcher.processes import Worker, caller_app
from recommender.domain.errors import InvalidRequest, UnknownItem
from recommender.model.hybrid import ModelParams
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.tasks import client
from recommender.tasks.client import ServiceUnavailable
from recommender.tasks.config import LEARNING
from recommender.training.learning import Learning
from tests.recommender.conftest import promote_tiny_version

STARTUP = 90.0  # seconds a fresh worker may take to import and load the model


def _env(tmp_path, models, broker: str | None, backend: str | None = None) -> dict[str, str]:
    env = {"CHATREC_STATE_DIR": str(tmp_path / "state"), "CHATREC_MODELS_DIR": str(models),
           "CHATREC_DATABASE_URL": f"sqlite:///{tmp_path / 'state' / 'feedback.sqlite3'}",
           "CHATREC_VISIBILITY_TIMEOUT": "5", "CHATREC_RETRAIN_AFTER": "100000"}
    if broker:
        env["CHATREC_BROKER_URL"] = broker
    if backend:
        env["CHATREC_RESULT_BACKEND"] = backend
    return env


class Stack:
    """A worker plus an app to call it with."""

    def __init__(self, env: dict[str, str], log, pool: str | None = None) -> None:
        self.env = env
        self.worker = Worker(env, log, pool).start()
        try:
            self.worker.wait_ready(STARTUP)
            self.app = caller_app(env)
            self.call("details", "1", timeout=STARTUP)  # ready once it answers
        except BaseException:
            self.worker.stop()
            raise

    def call(self, task: str, *args, timeout: float = 10.0, **kwargs) -> dict:
        return client.call(task, *args, timeout=timeout, app=self.app, **kwargs)

    def stop(self) -> None:
        self.worker.stop()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["embedded", "redis"])
def stack(request, tmp_path_factory, served_models):
    folder = tmp_path_factory.mktemp(request.param)
    broker = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    stack = Stack(_env(folder, served_models, broker), folder / "worker.log")
    yield stack
    stack.stop()


def test_every_task_answers(stack):
    me = f"telegram:{uuid.uuid4().hex[:8]}"
    found = stack.call("recommend", me, 5, constraints={"genres": ["comedy"], "year_from": 1990,
                                                        "year_to": 1999}, genres=["comedy"])
    assert len(found["items"]) == 5 and found["model"]
    assert all("Comedy" in i["genres"] and 1990 <= i["year"] <= 1999 for i in found["items"])
    assert stack.call("similar", "star wars", 3)["items"][0]["id"] != "50"
    details = stack.call("details", "fargo")
    assert details["item"]["id"] == "100" and details["ratings"] == 508
    comparison = stack.call("compare", me, "fargo", "heat")
    assert comparison["preferred"] in {"100", "6"} and len(comparison["items"]) == 2
    explanation = stack.call("explain", me, found["items"][0]["id"])
    assert explanation["reasons"] and explanation["item"]["id"] == found["items"][0]["id"]
    quoted = stack.call("explain", me, found["items"][0]["id"], genres=["Comedy"],
                        genre_phrases={"Comedy": "love comedies"})
    assert any("you said you love comedies" in r["text"] for r in quoted["reasons"])


def test_feedback_changes_the_next_answer(stack):
    me = f"slack:T1:{uuid.uuid4().hex[:8]}"
    first = stack.call("recommend", me, 5, genres=["sci-fi"], request_id="r1")
    shown = [i["id"] for i in first["items"]]
    stored = stack.call("record_feedback", me, "dislike", shown[0], client_event_id="e1")
    assert stored["stored"] is True
    stack.call("record_feedback", me, "seen", first["items"][1]["title"], client_event_id="e2")
    stack.call("record_feedback", me, "like", "the empire strikes back", client_event_id="e3")
    second = stack.call("recommend", me, 5, genres=["sci-fi"], request_id="r2")
    again = [i["id"] for i in second["items"]]
    assert not set(shown) & set(again), "shown, seen and disliked items never come back"
    assert "172" not in again
    exported = stack.call("export_user", me)["data"]
    kinds = [(e["kind"], e["item_id"]) for e in exported["events"]]
    assert ("dislike", shown[0]) in kinds and ("like", "172") in kinds
    assert sum(kind == "shown" for kind, _ in kinds) == 10


def test_duplicate_events_are_stored_once_and_bad_ones_answered_clearly(stack):
    me = f"shell:{uuid.uuid4().hex[:8]}"
    assert stack.call("record_feedback", me, "like", "50", client_event_id="same")["stored"] is True
    assert stack.call("record_feedback", me, "like", "50", client_event_id="same")["stored"] is False
    with pytest.raises(UnknownItem) as error:
        stack.call("record_feedback", me, "like", "Star Warz Holiday Special", client_event_id="x")
    assert "50" in [i.id for i in error.value.suggestions]
    with pytest.raises(InvalidRequest, match="Unknown feedback"):
        stack.call("record_feedback", me, "adore", "50", client_event_id="y")
    with pytest.raises(InvalidRequest, match="year range"):
        stack.call("recommend", me, 5, constraints={"year_from": 2000, "year_to": 1990})
    assert len(stack.call("export_user", me)["data"]["events"]) == 1


def test_forget_user_deletes_everything(stack):
    me = f"telegram:{uuid.uuid4().hex[:8]}"
    stack.call("record_feedback", me, "like", "50", client_event_id="a")
    stack.call("recommend", me, 3, request_id="r")
    assert stack.call("forget_user", me)["deleted_rows"] == 5  # user + like + 3 shown
    assert stack.call("export_user", me)["data"] == {"identity": me, "stored": False, "events": []}


def test_worker_picks_up_a_newly_promoted_model(stack, movielens):
    before = stack.call("details", "1")["model"]
    version = promote_tiny_version(stack.env["CHATREC_MODELS_DIR"], movielens)
    try:  # loaded in the background while the old version answers
        assert stack.call("details", "1")["model"] in {before, version}
        _wait_for(lambda: stack.call("details", "1")["model"] == version)
        assert version != before
    finally:
        with environment({"CHATREC_MODELS_DIR": stack.env["CHATREC_MODELS_DIR"]}):
            artifacts.promote(movielens.name, before)


def test_rabbitmq_broker_works_too(tmp_path, served_models):
    url = ensure_rabbitmq()
    queue_env = _env(tmp_path, served_models, url, "rpc://")
    stack = Stack(queue_env, tmp_path / "worker.log")
    try:
        found = stack.call("recommend", "shell:rabbit", 3, genres=["drama"])
        assert len(found["items"]) == 3
    finally:
        stack.stop()


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.02)


def test_killing_a_worker_mid_feedback_loses_and_doubles_nothing(tmp_path, served_models, redis_server):
    # Its own Redis database: the module's other worker must not take these tasks.
    env = _env(tmp_path, served_models, redis_server.url.rsplit("/", 1)[0] + "/2")
    log = tmp_path / "worker.log"
    stack = Stack(env, log, pool="prefork")
    me = "telegram:killed"
    store = FeedbackStore(env["CHATREC_DATABASE_URL"])
    store.migrate()

    def stored() -> list[str]:
        return [e["client_event_id"] for e in store.export(me)["events"]]

    def send(numbers: range) -> None:
        for i in numbers:
            stack.app.send_task("chatrec.record_feedback", args=(me, "seen", str(i + 1), f"event-{i}"))

    try:
        send(range(10))
        _wait_for(lambda: len(stored()) == 10)
        # Hold the database so that the next record_feedback is stuck mid-task, then kill it.
        blocker = sqlite3.connect(env["CHATREC_DATABASE_URL"].removeprefix("sqlite:///"))
        blocker.execute("BEGIN EXCLUSIVE")
        send(range(10, 150))
        _wait_for(lambda: log.read_text().count("chatrec.record_feedback") >= 10 + 10 + 1)
        time.sleep(0.3)
        for pid in stack.worker.children():
            os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: "WorkerLostError" in log.read_text())
        blocker.rollback()
        blocker.close()
        _wait_for(lambda: len(stored()) >= 150, timeout=60)
        ids = stored()
        assert len(ids) == len(set(ids)) == 150
    finally:
        stack.stop()


def test_a_prefork_worker_loads_the_model_before_its_first_task(tmp_path, served_models, redis_server):
    env = _env(tmp_path, served_models, redis_server.url.rsplit("/", 1)[0] + "/3")
    log = tmp_path / "worker.log"
    stack = Stack(env, log, pool="prefork")  # its first task: details
    try:
        text = log.read_text()
        loaded = text.index("serving movielens-100k model")
        assert loaded < text.index("chatrec.details"), text[-2000:]
        assert text.count("serving movielens-100k model") == 1  # once, in the parent: children inherit it
    finally:
        stack.stop()


def test_redis_down_fails_fast_and_recovers(tmp_path, served_models):
    server = RedisServer(tmp_path)
    server.start()
    stack = Stack(_env(tmp_path, served_models, server.url), tmp_path / "worker.log")
    try:
        pubsub = stack.app.backend.result_consumer._pubsub  # connected by the first call
        assert pubsub is not None and pubsub.connection is not None
        server.stop()
        for attempt in range(3):  # later calls meet the result consumer's dead connection
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable):
                stack.call("recommend", "shell:x", 3, genres=["drama"], timeout=5)
            elapsed = time.monotonic() - started
            print(f"call {attempt + 1} failed fast in {elapsed:.2f} s")
            assert elapsed < 2.0, f"call {attempt + 1} took {elapsed:.2f} s"
        # closed when dropped, not left to the garbage collector (recommender/tasks/redis_results.py)
        assert stack.app.backend.result_consumer._pubsub is not pubsub and pubsub.connection is None
        server.start()
        deadline = time.monotonic() + 60
        while True:  # the worker reconnects by itself
            try:
                assert len(stack.call("recommend", "shell:x", 3, genres=["drama"])["items"]) == 3
                break
            except ServiceUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        stack.stop()
        server.stop()


def test_enough_new_feedback_triggers_a_gated_retrain_on_the_learning_worker(tmp_path, movielens):
    models = tmp_path / "models"
    first = promote_tiny_version(models, movielens)
    env = {**_env(tmp_path, models, None), "CHATREC_RETRAIN_AFTER": "3"}
    stack = Stack(env, tmp_path / "worker.log")
    learner = Worker(env, tmp_path / "learning.log", queue=LEARNING, nice=19).start()
    try:
        # 5 impressions: no trigger
        stack.call("recommend", "telegram:3", 5, genres=["drama"], request_id="r1")
        for i, item in enumerate(["50", "172", "181"]):
            stack.call("record_feedback", "telegram:3", "like", item, client_event_id=str(i))
        with environment({"CHATREC_MODELS_DIR": str(models)}):
            _wait_for(lambda: artifacts.current_version(movielens.name) != first, timeout=180)
            new = artifacts.current_version(movielens.name)
            assert artifacts.read_meta(movielens.name, new)["feedback_events"] == 8
        _wait_for(lambda: stack.call("details", "1")["model"] == new)  # served without a restart
        # the interactive worker never fits
        assert "chatrec.retrain[" not in (tmp_path / "worker.log").read_text()
        assert "retrain gate" in (tmp_path / "learning.log").read_text()
    finally:
        stack.stop()
        learner.stop()


SLOW = ModelParams(no_components=48, max_sampled=10, epochs=40, seed=7)  # a retrain of a few seconds


def test_recommend_answers_at_normal_speed_while_a_retrain_runs(tmp_path, movielens):
    models = tmp_path / "models"
    promote_tiny_version(models, movielens, SLOW)
    env = _env(tmp_path, models, None)  # the embedded default: filesystem broker, solo pools
    stack = Stack(env, tmp_path / "worker.log")
    learner = Worker(env, tmp_path / "learning.log", queue=LEARNING, nice=19).start()
    store = FeedbackStore(env["CHATREC_DATABASE_URL"])
    state = Learning(store)

    def timed_calls(n: int) -> list[float]:
        times = []
        for i in range(n):
            started = time.perf_counter()
            assert len(stack.call("recommend", f"shell:{i}", 5, genres=["comedy"], timeout=2)["items"]) == 5
            times.append(time.perf_counter() - started)
        return times

    try:
        stack.call("record_feedback", "telegram:1", "like", "50", client_event_id="x")
        quiet = timed_calls(20)
        stack.app.send_task("chatrec.retrain", kwargs={"force": True})
        _wait_for(lambda: state.holder() is not None, timeout=60)
        during = timed_calls(20)
        assert state.holder() is not None, "the retrain ended before the calls did: make SLOW slower"
        print(f"recommend median {statistics.median(quiet) * 1000:.0f} ms quiet, "
              f"{statistics.median(during) * 1000:.0f} ms during a retrain")
        assert statistics.median(during) < max(3 * statistics.median(quiet), 0.5)
    finally:
        stack.stop()
        learner.process.kill()  # no need to wait for the fit (its lease runs out)
        learner.process.wait()


def test_no_live_worker_means_an_answer_within_a_second(tmp_path, served_models):
    env = _env(tmp_path, served_models, None)
    app = caller_app(env)
    for attempt in ("never started", "stopped"):
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match="No recommender worker is running"):
            client.call("recommend", "shell:x", 3, genres=["drama"], timeout=10, app=app)
        assert time.monotonic() - started < 1.0, attempt
        if attempt == "never started":
            Stack(env, tmp_path / "worker.log").stop()  # answers once, then shuts down cleanly


def test_a_call_nobody_waits_for_any_more_is_dropped_and_records_nothing(stack):
    me = f"telegram:{uuid.uuid4().hex[:8]}"
    database = stack.env["CHATREC_DATABASE_URL"].removeprefix("sqlite:///")
    stack.call("record_feedback", me, "like", "50", client_event_id="first")
    blocker = sqlite3.connect(database)
    blocker.execute("BEGIN EXCLUSIVE")  # the next write waits on it, holding the worker(s)
    stack.app.send_task("chatrec.record_feedback", args=(me, "seen", "1", "stuck"))
    with pytest.raises(ServiceUnavailable, match="answered within"):
        stack.call("recommend", me, 5, genres=["drama"], request_id="gave-up", timeout=0.5)
    time.sleep(1.0)
    blocker.rollback()
    blocker.close()
    _wait_for(lambda: len(stack.call("export_user", me)["data"]["events"]) == 2)
    kinds = [e["kind"] for e in stack.call("export_user", me)["data"]["events"]]
    assert kinds == ["like", "seen"], "the abandoned recommend stored no impressions"


def test_bad_calls_and_a_missing_model_get_the_fallback_not_a_crash(tmp_path, served_models, caplog):
    models = tmp_path / "models"
    shutil.copytree(served_models, models)
    env = _env(tmp_path, models, None)
    stack = Stack(env, tmp_path / "worker.log")
    try:
        with caplog.at_level(logging.ERROR, logger="recommender.tasks.client"):
            with pytest.raises(ServiceUnavailable, match="no task"):
                stack.call("drop_tables", "x")
            with pytest.raises(ServiceUnavailable, match="FAILURE"):
                stack.call("details", item="1", colour="blue")  # no such argument
        assert "has no task 'drop_tables'" in caplog.text and "TypeError" in caplog.text
        served = stack.call("details", "1")["model"]
        dataset = models / "movielens-100k"
        shutil.rmtree(dataset / served)  # the model folder disappears mid-run
        (dataset / "CURRENT").write_text("20990101-000000-gone\n")
        assert stack.call("details", "1")["model"] == served  # the loaded model keeps answering
        _wait_for(lambda: "cannot load movielens-100k model 20990101-000000-gone" in
                  (tmp_path / "worker.log").read_text())
        stack.stop()
        stack = Stack.__new__(Stack)  # a fresh worker finds no model it can load
        stack.env, stack.app = env, caller_app(env)
        stack.worker = Worker(env, tmp_path / "worker2.log").start().wait_ready(STARTUP)
        _wait_for(lambda: "no model loaded at start" in (tmp_path / "worker2.log").read_text(),
                  timeout=STARTUP)
        with pytest.raises(ServiceUnavailable, match="No movielens-100k model can be served"):
            stack.call("recommend", "shell:x", 3, genres=["drama"], timeout=10)
    finally:
        stack.stop()

"""The real action server with a real prefork worker on a private Redis: a
conversation waiting on a slow task holds no other conversation."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import requests

from devtools.redis_server import RedisServer
from launcher.processes import free_port
from launcher.stack import Stack
from tests.recommender.conftest import promote_tiny_version


def run_action(port: int, action: str, sender: str, intent: str, entities: list[dict]) -> dict:
    """POST one action call as Rasa does (rasa_sdk's /webhook)."""
    message = {"text": f"/{intent}", "intent": {"name": intent, "confidence": 1.0}, "entities": entities}
    tracker = {"sender_id": sender, "slots": {}, "latest_message": message, "paused": False,
               "events": [{"event": "user", "timestamp": time.time(), "text": message["text"],
                           "parse_data": message}],
               "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    response = requests.post(f"http://127.0.0.1:{port}/webhook", timeout=60, json={
        "next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.2"})
    response.raise_for_status()
    return response.json()


def said(answer: dict) -> str:
    return "\n".join(r.get("text") or "" for r in answer["responses"])


@pytest.fixture(scope="module")
def actions(tmp_path_factory, movielens):
    folder = tmp_path_factory.mktemp("action-server")
    redis = RedisServer(folder)
    redis.start()
    promote_tiny_version(folder / "models", movielens)
    env = {"CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_MODELS_DIR": str(folder / "models"),
           "CHATREC_BROKER_URL": redis.url,
           "CHATREC_DATABASE_URL": f"sqlite:///{folder / 'feedback.sqlite3'}",
           "CHATREC_TASK_TIMEOUT": "10", "CHATREC_METRICS_PORT_BASE": "0"}
    stack = Stack(env, logs=folder / "logs", actions_port=free_port())
    try:
        stack.start_interactive_worker(pool="prefork", concurrency=2)
        stack.start_actions()
        stack.worker.wait_ready()
        yield stack, folder / "feedback.sqlite3"
    finally:
        stack.stop()
        redis.stop()


def test_one_slow_conversation_holds_no_other(actions):
    stack, database = actions
    port = stack.actions_port
    assert "Glad you like" in said(run_action(port, "action_feedback", "telegram:warm", "feedback_positive",
                                              [{"entity": "item_id", "value": "1"}]))
    blocker = sqlite3.connect(database)
    blocker.execute("BEGIN EXCLUSIVE")  # the next feedback write waits for it
    slow: dict = {}

    def slow_conversation() -> None:
        slow["answer"] = run_action(port, "action_feedback", "telegram:slow", "feedback_positive",
                                    [{"entity": "item_id", "value": "50"}])
        slow["done"] = time.monotonic()

    waiting = threading.Thread(target=slow_conversation)
    waiting.start()
    time.sleep(0.5)  # its task is on a worker, stuck on the database
    started = time.monotonic()
    other = run_action(port, "action_details", "telegram:quick", "ask_details",
                       [{"entity": "item_id", "value": "100"}])
    answered = time.monotonic()
    assert "Fargo" in said(other)
    assert "done" not in slow, "the other conversation was answered while the slow one still waited"
    assert answered - started < 1.5
    time.sleep(1.0)
    blocker.rollback()
    blocker.close()
    waiting.join(timeout=30)
    assert "Glad you like" in said(slow["answer"]) and slow["done"] > answered

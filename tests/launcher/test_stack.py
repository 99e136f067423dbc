"""The stack's generated configuration: stores from URLs, secrets kept off disk, Rasa models reused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from chatrec.settings import environment
from launcher.stack import (
    LOCK_PASSWORD_VARIABLE,
    TRACKER_PASSWORD_VARIABLE,
    lock_store_config,
    tracker_store_config,
    write_endpoints,
)
from tests.chat import train_small_rasa_model


def test_sqlite_tracker_store_by_default(tmp_path) -> None:
    with environment({"CHATREC_STATE_DIR": str(tmp_path), "CHATREC_TRACKER_STORE_URL": "",
                      "CHATREC_LOCK_STORE_URL": ""}):
        path, secrets = write_endpoints(5055)
    endpoints = yaml.safe_load(path.read_text())
    assert endpoints["tracker_store"] == {"type": "bot.tracker_store.ConversationStore",
                                          "dialect": "sqlite", "db": str(tmp_path / "tracker.sqlite3")}
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert "lock_store" not in endpoints and secrets == {}


def test_postgres_and_redis_passwords_stay_in_the_environment(tmp_path) -> None:
    with environment({"CHATREC_STATE_DIR": str(tmp_path),
                      "CHATREC_TRACKER_STORE_URL": "postgresql://rasa:s3cret@db.internal:6543/chat",
                      "CHATREC_LOCK_STORE_URL": "redis://:lockpw@cache:6380/2"}):
        path, secrets = write_endpoints(5055)
    text = path.read_text()
    assert "s3cret" not in text and "lockpw" not in text
    endpoints = yaml.safe_load(text)
    assert endpoints["tracker_store"] == {
        "type": "bot.tracker_store.ConversationStore", "dialect": "postgresql", "db": "chat",
        "url": "db.internal", "port": 6543, "username": "rasa",
        "password": f"${{{TRACKER_PASSWORD_VARIABLE}}}"}
    assert endpoints["lock_store"] == {
        "type": "bot.lock_store.AtomicRedisLockStore", "url": "cache", "port": 6380, "db": 2,
        "use_ssl": False, "password": f"${{{LOCK_PASSWORD_VARIABLE}}}"}
    assert secrets == {TRACKER_PASSWORD_VARIABLE: "s3cret", LOCK_PASSWORD_VARIABLE: "lockpw"}


def test_config_helpers_reject_what_rasa_cannot_use() -> None:
    with pytest.raises(ValueError, match="redis://"):
        lock_store_config("memcached://cache:11211")
    assert tracker_store_config("sqlite:////tmp/x.db")[0]["db"] == "/tmp/x.db"


def test_an_unchanged_bot_reuses_its_rasa_model_and_keeps_a_few(rasa_model: Path) -> None:
    folder = rasa_model.parent
    for age, name in enumerate(("old-1", "old-2", "old-3"), start=1):
        stale = folder / f"{name}.tar.gz"
        stale.write_bytes(b"an older model")
        os.utime(stale, (time.time() - 3600 * age,) * 2)
    inode = rasa_model.stat().st_ino
    again = train_small_rasa_model(folder.parent, "movielens-100k")
    assert again == rasa_model and again.stat().st_ino == inode, "nothing changed: no new training"
    assert sorted(p.name for p in folder.glob("*.tar.gz")) == sorted([rasa_model.name, "old-1.tar.gz",
                                                                      "old-2.tar.gz"])

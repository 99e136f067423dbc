"""The feedback store on a real SQLite file and a real PostgreSQL database."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine

from recommender.domain.errors import ForgottenPerson, InvalidRequest
from recommender.storage.feedback import TOMBSTONE_DAYS, FeedbackStore, digest


def test_migrations_create_the_schema_and_are_repeatable(store):
    store.migrate()  # a second run is a no-op
    tables = set(inspect(store.engine).get_table_names())
    assert {"chat_users", "feedback_events", "learning_state", "forgotten", "alembic_version"} <= tables
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"


def test_events_are_grouped_by_meaning(store):
    user = "telegram:42"
    assert store.record(user, "like", "50", "e1")
    assert store.record(user, "dislike", "100", "e2")
    assert store.record(user, "seen", "1", "e3")
    assert store.record(user, "shown", "7", "e4")
    assert store.record(user, "rating", "127", "e5", rating=5)
    assert store.record(user, "rating", "172", "e6", rating=1)
    assert store.record(user, "rating", "181", "e7", rating=3)
    feedback = store.feedback(user)
    assert feedback.recommender_id.startswith("chat-")
    assert feedback.liked == ("50", "127")
    assert feedback.disliked == ("100", "172")
    assert feedback.seen == ("1", "181")
    assert feedback.shown == ("7",)


def test_how_a_like_was_given_is_a_stored_field(store):
    user = "telegram:43"
    store.record(user, "like", "50", "m1:like:50")  # 👍
    store.record(user, "like", "100", "m2:said:any id", said_in_words=True)
    store.record(user, "rating", "127", "m3:rating:127", rating=5)
    store.record(user, "like", "1", "m4:said:but a button")  # the event id says nothing
    assert store.feedback(user).liked_how == ("button", "said", "rating:5", "button")


def test_the_migration_reads_how_older_likes_were_given_from_their_event_ids(tmp_path):
    from alembic import command
    from alembic.config import Config

    from recommender.storage.feedback import MIGRATIONS

    old = FeedbackStore(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")  # the schema before the column
        connection.execute(text("INSERT INTO chat_users (id, identity, created_at) VALUES (1, 'telegram:9', "
                                "CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO feedback_events (user_id, client_event_id, kind, item_id, created_at) VALUES "
            "(1, 'a:said:50', 'like', '50', CURRENT_TIMESTAMP), "
            "(1, 'b:like:100', 'like', '100', CURRENT_TIMESTAMP)"))
    old.migrate()
    assert old.feedback("telegram:9").liked_how == ("said", "button")


def test_a_repeated_client_event_id_is_stored_once(store):
    assert store.record("slack:T1:U2", "like", "50", "same-id")
    assert not store.record("slack:T1:U2", "like", "50", "same-id")
    assert not store.record("slack:T1:U2", "dislike", "50", "same-id")
    assert len(store.export("slack:T1:U2")["events"]) == 1
    # Another person may use the same client id.
    assert store.record("slack:T1:U3", "like", "50", "same-id")


def test_several_events_in_one_transaction(store):
    events = [("shown", "1", "r1:shown:1", None), ("shown", "2", "r1:shown:2", None)]
    assert store.record_many("telegram:9", events) == 2
    assert store.record_many("telegram:9", events + [("like", "3", "e3", None)]) == 1
    assert store.feedback("telegram:9").shown == ("1", "2") and store.feedback("telegram:9").liked == ("3",)


def test_concurrent_duplicates_are_stored_once(store):
    def send(_):
        return store.record("telegram:7", "like", "50", "retry-me")

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(send, range(16)))
    assert outcomes.count(True) == 1
    assert len(store.export("telegram:7")["events"]) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "love"}, "Unknown feedback"),
    ({"item_id": ""}, "needs an item id"),
    ({"client_event_id": ""}, "client event id"),
    ({"kind": "rating", "rating": None}, "rating must be"),
    ({"kind": "rating", "rating": 9}, "rating must be"),
    ({"identity": ""}, "identity is required"),
])
def test_bad_events_are_refused_clearly_and_store_nothing(store, kwargs, message):
    event = {"identity": "shell:x", "kind": "like", "item_id": "50", "client_event_id": "e", **kwargs}
    with pytest.raises(InvalidRequest, match=message):
        store.record(**event)
    assert store.export("shell:x")["stored"] is False


def test_export_returns_everything_stored_as_json_data(store):
    store.record("shell:me", "like", "50", "a")
    store.record("shell:me", "rating", "100", "b", rating=4.5)
    data = store.export("shell:me")
    assert data["identity"] == "shell:me" and data["stored"] is True
    assert [(e["kind"], e["item_id"], e["rating"]) for e in data["events"]] == [
        ("like", "50", None), ("rating", "100", 4.5)]
    assert store.export("shell:nobody") == {"identity": "shell:nobody", "stored": False, "events": []}


def _rows_mentioning(store, user_id: int, identity: str) -> dict[str, int]:
    """Count, in every table, rows that hold the person's id or identity."""
    counts = {}
    inspector = inspect(store.engine)
    with store.engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            clauses = []
            if "identity" in columns:
                clauses.append("identity = :identity")
            if "user_id" in columns:
                clauses.append("user_id = :uid")
            if table == "chat_users":
                clauses.append("id = :uid")
            if clauses:
                counts[table] = connection.execute(
                    text(f"SELECT COUNT(*) FROM {table} WHERE {' OR '.join(clauses)}"),
                    {"identity": identity, "uid": user_id}).scalar()
    return counts


def test_forget_leaves_no_row_in_any_table_and_keeps_others(store):
    store.record("telegram:1", "like", "50", "a")
    store.record("telegram:1", "seen", "100", "b")
    store.record("telegram:2", "like", "50", "a")
    user_id = int(store.feedback("telegram:1").recommender_id.removeprefix("chat-"))
    assert sum(_rows_mentioning(store, user_id, "telegram:1").values()) == 3

    assert store.forget("telegram:1") == 3
    assert set(_rows_mentioning(store, user_id, "telegram:1").values()) == {0}
    assert store.feedback("telegram:1").recommender_id is None
    assert len(store.export("telegram:2")["events"]) == 1
    assert [r.recommender_id for r in store.training_rows()] == [store.feedback("telegram:2").recommender_id]
    assert store.forget("telegram:1") == 0


def test_training_rows_and_event_counters(store):
    assert store.last_event_id() == 0
    store.record("a", "like", "50", "1")
    first = store.last_event_id()
    store.record("b", "rating", "100", "2", rating=2)
    store.record("b", "shown", "7", "3")
    # impressions don't count
    assert store.explicit_events_after(0) == 2 and store.explicit_events_after(first) == 1
    rows = store.training_rows()
    assert [(r.item_id, r.kind, r.rating) for r in rows] == [("50", "like", None), ("100", "rating", 2.0),
                                                              ("7", "shown", None)]
    assert [r.item_id for r in store.training_rows(up_to=first)] == ["50"]


def test_a_write_made_before_forgetting_never_brings_the_person_back(store):
    said_at = time.time()
    store.record("telegram:7", "like", "50", "before", made_at=said_at)
    store.forget("telegram:7", now=said_at + 1)
    for late in (said_at, said_at + 0.5):  # replayed from an outbox, redelivered by the broker
        with pytest.raises(ForgottenPerson):
            store.record("telegram:7", "seen", "100", f"late-{late}", made_at=late)
    assert store.export("telegram:7")["stored"] is False
    with store.engine.connect() as connection:  # the tombstone holds a digest, not the identity
        tombstones = connection.execute(text("SELECT digest FROM forgotten")).scalars().all()
    assert tombstones == [digest("telegram:7")] and "telegram:7" not in tombstones
    # what the person says after the deletion is a fresh start
    assert store.record("telegram:7", "like", "1", "after", made_at=said_at + 2)
    assert store.feedback("telegram:7").liked == ("1",)


def test_a_write_racing_a_deletion_never_brings_the_person_back(store):
    """The write is paused just after it read the tombstone (none yet); the deletion is
    asked for meanwhile. It must wait for the write, then delete it too, without an error."""
    said_at = time.time()
    store.record("telegram:5", "like", "1", "first", made_at=said_at)
    writer = threading.current_thread
    read_tombstone, forget_finished = threading.Event(), threading.Event()
    racing: dict = {}

    def pause_after_tombstone(conn, cursor, statement, *args) -> None:
        if "FROM forgotten" in statement and writer() is racing.get("thread"):
            read_tombstone.set()
            forget_finished.wait(timeout=1.0)  # with the lock, the deletion waits for this write

    def write() -> bool:
        racing["thread"] = threading.current_thread()
        return store.record("telegram:5", "seen", "2", "racing", made_at=said_at + 0.5)

    event.listen(Engine, "after_cursor_execute", pause_after_tombstone)  # every engine of the store
    try:
        with ThreadPoolExecutor(2) as pool:
            written = pool.submit(write)
            assert read_tombstone.wait(timeout=10)
            deleted = pool.submit(store.forget, "telegram:5", said_at + 1)
            deleted.add_done_callback(lambda _: forget_finished.set())
            assert written.result(timeout=30) is True
            assert deleted.result(timeout=30) == 3  # the person, their like, and the racing write
    finally:
        event.remove(Engine, "after_cursor_execute", pause_after_tombstone)
    assert store.export("telegram:5")["stored"] is False


def test_tombstones_expire(store):
    store.forget("telegram:8", now=1000.0)
    store.forget("telegram:9", now=1000.0 + TOMBSTONE_DAYS * 86400 + 1)  # purges the old one
    with store.engine.connect() as connection:
        digests = connection.execute(text("SELECT digest FROM forgotten")).scalars().all()
        assert digests == [digest("telegram:9")]


def test_a_fresh_sqlite_file_is_created_in_a_new_folder(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'deep' / 'er' / 'feedback.sqlite3'}")
    store.migrate()
    assert store.record("shell:x", "like", "50", "1")
    assert (tmp_path / "deep" / "er" / "feedback.sqlite3").exists()

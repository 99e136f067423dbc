"""The feedback store: who said what about which item.

SQLAlchemy 1.4 in 2.0 style (Rasa pins 1.4), SQLite by default and
PostgreSQL by URL; the schema is created and upgraded by Alembic
(recommender/storage/migrations). People are keyed by their channel identity
(`telegram:123`, `slack:T1:U2`, `shell:...`) and known to the recommender
as `chat-<row id>`, so model artifacts never hold a channel identity.
Every event carries the client's event id: a retried or duplicated event
is stored once.

Forgetting is final: `forget` leaves a tombstone (a SHA-256 digest of the
identity and the time, kept TOMBSTONE_DAYS) and a write that the person
made before that time (`made_at`) is refused when it arrives later (a
replay from an outbox, a redelivered task). A person's writes and their
forgetting never interleave: each takes a lock on that person first (a
PostgreSQL advisory lock; SQLite's write lock, taken at BEGIN), so a write
racing a deletion either lands before it and is deleted, or sees the
tombstone.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    create_engine,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.event import listens_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, declarative_base

from chatrec.contracts import Feedback, Meaning, meaning
from recommender.domain.constraints import Taste
from recommender.domain.errors import ForgottenPerson, InvalidRequest

Base: Any = declarative_base()  # SQLAlchemy 1.4 builds it at run time

KINDS = tuple(kind.value for kind in Feedback)
EXPLICIT = tuple(kind.value for kind in Feedback if kind is not Feedback.SHOWN)  # what a person said
TOMBSTONE_DAYS = 30  # longer than any write can wait (outbox, broker redelivery)


MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ChatUser(Base):
    __tablename__ = "chat_users"

    id = Column(Integer, primary_key=True)
    identity = Column(String(200), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    @property
    def recommender_id(self) -> str:
        return f"chat-{self.id}"


class Event(Base):
    __tablename__ = "feedback_events"
    __table_args__ = (
        UniqueConstraint("user_id", "client_event_id", name="uq_event_per_user"),
        CheckConstraint("kind IN ('like', 'dislike', 'seen', 'rating', 'shown')", name="ck_event_kind"),
        CheckConstraint("kind != 'rating' OR rating IS NOT NULL", name="ck_rating_has_value"),
    )

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("chat_users.id", ondelete="CASCADE"), nullable=False, index=True)
    client_event_id = Column(String(100), nullable=False)
    kind = Column(String(16), nullable=False)
    item_id = Column(String(64), nullable=False)
    rating = Column(Float)
    said_in_words = Column(Boolean, nullable=False, default=False)  # else a button (or a rating)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Forgotten(Base):
    """A tombstone: this identity (as a digest) was forgotten at `forgotten_at` (unix seconds)."""
    __tablename__ = "forgotten"

    digest = Column(String(64), primary_key=True)
    forgotten_at = Column(Float, nullable=False)


def digest(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()


@dataclass(frozen=True)
class UserFeedback:
    """What one person has told us, item ids grouped by meaning."""

    recommender_id: str | None
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()
    liked_how: tuple[str, ...] = ()  # per liked item: "said", "button" or "rating:<stars>"

    def taste(self, liked: Sequence[str] = (), genres: Sequence[str] = (), user: str | None = None,
              genres_how: Sequence[str] = ()) -> Taste:
        """This feedback, plus what the conversation says now (in words), as the recommender's
        Taste. `user` overrides the recommender id (a dataset user, in simulations)."""
        return Taste(user=user or self.recommender_id, liked=self.liked + tuple(liked), genres=tuple(genres),
                     genres_how=tuple(genres_how),
                     disliked=self.disliked, exclude=self.seen + self.shown,
                     liked_how=self.liked_how + ("said",) * len(tuple(liked)))


@dataclass(frozen=True)
class TrainingRow:
    recommender_id: str
    item_id: str
    kind: str
    rating: float | None


def _check(identity: str, kind: str, item_id: str, client_event_id: str, rating: float | None) -> None:
    if not identity or len(identity) > 200:
        raise InvalidRequest("A user identity is required (at most 200 characters).")
    if kind not in KINDS:
        raise InvalidRequest(f"Unknown feedback {kind!r}; expected one of {', '.join(KINDS)}.")
    if not item_id or len(item_id) > 64:
        raise InvalidRequest("Feedback needs an item id (at most 64 characters).")
    if not client_event_id or len(client_event_id) > 100:
        raise InvalidRequest("Feedback needs a client event id (at most 100 characters).")
    if kind == "rating" and (rating is None or not 0 <= rating <= 5):
        raise InvalidRequest("A rating must be a number from 0 to 5.")


MIGRATION_LOCK = 0x63686174  # PostgreSQL advisory lock key held while migrating ("chat")


class FeedbackStore:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, future=True, pool_pre_ping=True)
        # writes about one person, under that person's lock (`_lock`)
        self._writes = _write_locking(url) if self.engine.dialect.name == "sqlite" else self.engine

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision. On PostgreSQL under an
        advisory lock: workers that start together migrate one after the other."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # ---- writes ------------------------------------------------------------
    def record(self, identity: str, kind: str, item_id: str, client_event_id: str,
               rating: float | None = None, at: datetime | None = None, made_at: float | None = None,
               said_in_words: bool = False) -> bool:
        """Store one event; False when this client event id was stored before."""
        return self.record_many(identity, [(kind, item_id, client_event_id, rating)], at, made_at,
                                said_in_words) == 1

    def record_many(self, identity: str, events: Sequence[tuple[str, str, str, float | None]],
                    at: datetime | None = None, made_at: float | None = None,
                    said_in_words: bool = False) -> int:
        """Store (kind, item id, client event id, rating) events of one person in one
        transaction; returns how many were new. `made_at` (unix seconds): when the person
        did it; raises ForgottenPerson if they asked to be forgotten after that. `said_in_words`:
        the person wrote it (quoted back that way in reasons), not pressed a button."""
        for kind, item_id, client_event_id, rating in events:
            _check(identity, kind, item_id, client_event_id, rating)
        stored = 0
        with Session(self._writes) as session, session.begin():
            self._lock(session, identity)
            if made_at is not None:
                tombstone = session.get(Forgotten, digest(identity))
                if tombstone is not None and made_at <= tombstone.forgotten_at:
                    raise ForgottenPerson("Not stored: this person asked to be forgotten afterwards.")
            user = self._new_or_known_user(session, identity)
            for kind, item_id, client_event_id, rating in events:
                exists = session.scalar(select(Event.id).where(
                    Event.user_id == user.id, Event.client_event_id == client_event_id))
                if exists is not None:
                    continue
                try:
                    with session.begin_nested():
                        session.add(Event(user_id=user.id, client_event_id=client_event_id, kind=kind,
                                          item_id=item_id, rating=rating, said_in_words=said_in_words,
                                          created_at=at or utcnow()))
                    stored += 1
                except IntegrityError:  # the same event stored concurrently
                    continue
        return stored

    def forget(self, identity: str, now: float | None = None) -> int:
        """Delete the person and every event of theirs, and leave a tombstone that refuses
        their older writes; returns the rows about them that were deleted."""
        now = time.time() if now is None else now
        with Session(self._writes) as session, session.begin():
            self._lock(session, identity)
            session.execute(delete(Forgotten).where(Forgotten.forgotten_at < now - TOMBSTONE_DAYS * 86400))
            self._tombstone(session, digest(identity), now)
            user = self._user(session, identity)
            if user is None:
                return 0
            events = session.execute(delete(Event).where(Event.user_id == user.id)).rowcount
            session.execute(delete(ChatUser).where(ChatUser.id == user.id))
            return events + 1

    def _lock(self, session: Session, identity: str) -> None:
        """Hold this person's lock until the transaction ends (on SQLite, BEGIN IMMEDIATE already did)."""
        if self.engine.dialect.name == "postgresql":
            # the tombstone's hash
            key = int.from_bytes(bytes.fromhex(digest(identity))[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _tombstone(self, session: Session, key: str, now: float) -> None:
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[self.engine.dialect.name]
        statement = insert(Forgotten).values(digest=key, forgotten_at=now)
        session.execute(statement.on_conflict_do_update(index_elements=["digest"],
                                                        set_={"forgotten_at": now}))

    # ---- reads -------------------------------------------------------------
    def feedback(self, identity: str) -> UserFeedback:
        with Session(self.engine) as session:
            user = self._user(session, identity)
            if user is None:
                return UserFeedback(None)
            events = session.scalars(select(Event).where(Event.user_id == user.id).order_by(Event.id)).all()
            groups: dict[str, list[str]] = {m.value: [] for m in Meaning}
            how: dict[str, str] = {}  # the latest way each liked item was liked
            for event in events:
                said = meaning(event.kind, event.rating)
                groups[said.value].append(event.item_id)
                if said is Meaning.LIKED:
                    how[event.item_id] = _how(event)
            grouped = {k: tuple(dict.fromkeys(v)) for k, v in groups.items()}
            return UserFeedback(user.recommender_id, **grouped,
                                liked_how=tuple(how[item] for item in grouped["liked"]))

    def export(self, identity: str) -> dict:
        """Everything stored about one person, as JSON-ready data."""
        with Session(self.engine) as session:
            user = self._user(session, identity)
            if user is None:
                return {"identity": identity, "stored": False, "events": []}
            events = session.scalars(select(Event).where(Event.user_id == user.id).order_by(Event.id)).all()
            return {
                "identity": user.identity, "stored": True, "recommender_id": user.recommender_id,
                "created_at": user.created_at.isoformat(),
                "events": [{"client_event_id": e.client_event_id, "kind": e.kind, "item_id": e.item_id,
                            "rating": e.rating, "created_at": e.created_at.isoformat()} for e in events],
            }

    def training_rows(self, up_to: int | None = None) -> list[TrainingRow]:
        """Every event (up to event id `up_to`), oldest first."""
        query = (select(ChatUser.id, Event.item_id, Event.kind, Event.rating)
                 .join(Event, Event.user_id == ChatUser.id).order_by(Event.id))
        if up_to is not None:
            query = query.where(Event.id <= up_to)
        with Session(self.engine) as session:
            return [TrainingRow(f"chat-{uid}", item, kind, rating)
                    for uid, item, kind, rating in session.execute(query)]

    def last_event_id(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.max(Event.id))) or 0

    def explicit_events_after(self, event_id: int) -> int:
        """How many likes, dislikes, "seen" and ratings came after event `event_id` (not impressions)."""
        with Session(self.engine) as session:
            return session.scalar(select(func.count(Event.id)).where(
                Event.id > event_id, Event.kind.in_(EXPLICIT))) or 0

    @staticmethod
    def _user(session: Session, identity: str) -> ChatUser | None:
        return session.scalar(select(ChatUser).where(ChatUser.identity == identity))

    @classmethod
    def _new_or_known_user(cls, session: Session, identity: str) -> ChatUser:
        user = cls._user(session, identity)
        if user is not None:
            return user
        try:
            with session.begin_nested():
                user = ChatUser(identity=identity, created_at=utcnow())
                session.add(user)
            return user
        except IntegrityError:  # created concurrently
            return session.scalar(select(ChatUser).where(ChatUser.identity == identity))


def _write_locking(url: str) -> Engine:
    """A SQLite engine whose transactions take the write lock when they begin (BEGIN IMMEDIATE):
    pysqlite on its own begins only at the first write, after the transaction's reads."""
    engine = create_engine(url, future=True)

    @listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy says BEGIN itself

    @listens_for(engine, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _how(event: Event) -> str:
    """How a like was given: a rating, words, or 👍."""
    if event.kind == Feedback.RATING.value:
        return f"rating:{event.rating:g}"
    return "said" if event.said_in_words else "button"


"""The lock store keeps one person's turns in order across Rasa processes: tickets are unique,
and a lock is deleted only when no ticket waits in it (a real Redis; processes racing)."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.utils import read_endpoints_from_path
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore
from chatrec.settings import environment
from devtools.redis_server import RedisServer
from launcher.stack import write_endpoints

PROCESSES, TICKETS = 6, 40


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


def store(kind: str, port: int):
    if kind == "atomic":
        return AtomicRedisLockStore(EndpointConfig(url="127.0.0.1", port=port, db=3))
    return RedisLockStore(host="127.0.0.1", port=port, db=3)


def _issue(kind: str, port: int, conversation: str, start: multiprocessing.Event,
           out: multiprocessing.Queue) -> None:
    lock_store = store(kind, port)
    start.wait()
    out.put([lock_store.issue_ticket(conversation, 60) for _ in range(TICKETS)])


def tickets_from_racing_processes(kind: str, port: int, conversation: str) -> list[int]:
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    racers = [context.Process(target=_issue, args=(kind, port, conversation, start, out))
              for _ in range(PROCESSES)]
    for racer in racers:
        racer.start()
    start.set()
    issued = [ticket for _ in racers for ticket in out.get(timeout=60)]
    for racer in racers:
        racer.join()
    return issued


def test_racing_processes_get_unique_tickets(redis_server: RedisServer) -> None:
    issued = tickets_from_racing_processes("atomic", redis_server.port, "racer-atomic")
    assert sorted(issued) == list(range(PROCESSES * TICKETS))  # Rasa numbers tickets from 0


def test_rasas_own_redis_store_hands_out_a_ticket_twice_under_the_same_race(
    redis_server: RedisServer
) -> None:
    """Why bot/lock_store.py exists: the same race on Rasa 3.6's RedisLockStore."""
    issued = tickets_from_racing_processes("rasa", redis_server.port, "racer-rasa")
    assert len(set(issued)) < len(issued)


def test_a_lock_is_kept_while_a_ticket_waits_and_deleted_after_the_last(redis_server: RedisServer) -> None:
    first, second = store("atomic", redis_server.port), store("atomic", redis_server.port)
    one = first.issue_ticket("person", 60)
    two = second.issue_ticket("person", 60)
    first.cleanup("person", one)  # the first turn ends while the second waits
    lock = second.get_lock("person")
    assert lock is not None and not lock.is_locked(two), "the waiting turn now holds the lock"
    second.cleanup("person", two)
    assert second.get_lock("person") is None


def test_turns_of_one_person_run_one_at_a_time_across_stores(redis_server: RedisServer) -> None:
    stores = [store("atomic", redis_server.port) for _ in range(3)]
    running, overlaps, order = [0], [0], []

    async def turn(number: int) -> None:
        async with stores[number % 3].lock("serial", wait_time_in_seconds=0.01):
            running[0] += 1
            overlaps[0] = max(overlaps[0], running[0])
            order.append(number)
            await asyncio.sleep(0.02)
            running[0] -= 1

    async def all_turns() -> None:
        await asyncio.gather(*(turn(number) for number in range(9)))

    asyncio.run(all_turns())
    assert overlaps[0] == 1 and sorted(order) == list(range(9))


def test_the_endpoints_entry_builds_this_store(tmp_path: Path, redis_server: RedisServer) -> None:
    with environment({"CHATREC_STATE_DIR": str(tmp_path),
                      "CHATREC_LOCK_STORE_URL": f"redis://127.0.0.1:{redis_server.port}/4"}):
        path, _ = write_endpoints(5055)
    created = LockStore.create(read_endpoints_from_path(path).lock_store)
    assert isinstance(created, AtomicRedisLockStore)
    assert created.issue_ticket("via-endpoints", 60) == 0 and created.get_lock("via-endpoints") is not None

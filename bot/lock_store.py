"""Rasa's Redis lock store, with every change to a lock made atomically.

Rasa 3.6's `RedisLockStore` reads a conversation's ticket lock, changes it in
Python and writes it back. Two Rasa processes that take a message of the same
person at the same instant can both read "no ticket", both issue ticket 1 and
process the two turns at once; and one process that finishes can delete the
lock while the other's ticket is in it ("Could not acquire lock"). Here each
read-change-write runs as a Redis transaction (WATCH / MULTI / EXEC, retried
when another process changed the lock in between), so tickets are unique,
served in order, and a lock is deleted only when no ticket is left.

Configured in the endpoints file that the launcher writes (`lock_store.type`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

Change = Callable[[TicketLock], bool | None]  # changes the lock; False: delete it


class AtomicRedisLockStore(RedisLockStore):
    """Ticket locks in Redis, changed only inside transactions."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Change, create: bool = False) -> TicketLock | None:
        """Apply `change` to the stored lock in one transaction; returns the lock as saved
        (None: there was none, or it was deleted)."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    if stored is None and not create:
                        pipe.unwatch()
                        return None
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else TicketLock(conversation_id)
                    keep = change(lock)
                    pipe.multi()
                    if keep is False:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return None if keep is False else lock
                except redis.WatchError:
                    continue  # another process changed the lock first: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        tickets: list[int] = []
        try:
            self._change(conversation_id, lambda lock: tickets.append(lock.issue_ticket(lock_lifetime)),
                         create=True)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return tickets[-1]  # the attempt that was saved (earlier ones lost a race)

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove this ticket, and the lock with it when no other ticket waits."""
        def finish(lock: TicketLock) -> bool:
            lock.remove_ticket_for(ticket_number)
            return lock.is_someone_waiting()

        self._change(conversation_id, finish)


"""Celery's Redis result backend with one fix, used for every redis:// result backend
(recommender/tasks/config.py).

When its pub/sub connection breaks (Redis restarted or down), Celery's result
consumer drops the old `PubSub` without closing it. That object sits in a
reference cycle (its connection holds a callback to it), so the garbage
collector finalises it later, at any allocation: if that happens while the
same thread holds the connection pool's lock, `PubSub.__del__` waits for the
lock forever. Seen here: a caller hung in `redis.ConnectionPool.make_connection`
after a Redis restart. Closing the old `PubSub` first releases its connection
and breaks the cycle at a safe point.
"""

from __future__ import annotations

import contextlib

from celery.backends import redis as celery_redis
from redis.exceptions import RedisError


class ResultConsumer(celery_redis.ResultConsumer):
    def _reconnect_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                self._pubsub.close()
        super()._reconnect_pubsub()


class RedisBackend(celery_redis.RedisBackend):
    ResultConsumer = ResultConsumer

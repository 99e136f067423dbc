"""Calling the recommender's Celery tasks: what the Rasa actions use.

`call("recommend", identity, k=5)` returns the task's answer, raises the
matching RecommenderError for a request the recommender cannot answer, and
raises ServiceUnavailable — quickly — when the broker or every worker is
down, so the bot can say so and fall back.
"""

from __future__ import annotations

from celery import Celery
from celery.exceptions import BackendError
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from recommender.catalog import Item
from recommender.errors import InvalidRequest, NothingToGoOn, RecommenderError, UnknownItem, UnknownUser
from recommender.tasks import app as tasks_app

DEFAULT_TIMEOUT = 5.0
_ERRORS = {"InvalidRequest": InvalidRequest, "NothingToGoOn": NothingToGoOn, "UnknownUser": UnknownUser}


class ServiceUnavailable(RecommenderError):
    """The broker or the workers cannot be reached right now."""


def call(task: str, *args: object, timeout: float = DEFAULT_TIMEOUT, app: Celery = tasks_app,
         **kwargs: object) -> dict:
    """Run task `chatrec.<task>` on a worker and wait at most `timeout` seconds."""
    try:
        result = app.send_task(f"chatrec.{task}", args=args, kwargs=kwargs)
        answer = result.get(timeout=timeout, interval=0.01)
    except CeleryTimeout:
        raise ServiceUnavailable(f"No recommender worker answered within {timeout:g} s.") from None
    except (KombuError, BackendError, RedisError, OSError) as error:  # OSError: socket errors
        raise ServiceUnavailable(f"The recommender's message broker is unreachable ({error}).") from None
    except RuntimeError as error:
        # Celery's Redis result consumer raises RuntimeError when it cannot reconnect;
        # it makes a fresh connection on the next call.
        if not isinstance(error.__cause__, (RedisError, OSError)):
            raise
        raise ServiceUnavailable(f"The recommender's result store is unreachable ({error.__cause__}).") from None
    if not answer.get("ok"):
        if answer.get("error") == "unknown_item":
            suggestions = [Item(s["id"], s["title"], s["year"]) for s in answer.get("suggestions", [])]
            raise UnknownItem(answer["reference"], suggestions)
        raise _ERRORS.get(answer.get("error"), RecommenderError)(answer.get("message", "failed"))
    return answer

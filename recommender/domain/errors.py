"""Errors the recommender raises; messages are for people. Two families, caught apart:
a RecommenderError is a request it cannot answer (say why); an Outage is the recommender
not answering at all (fall back, keep writes for later). Each has its code
(chatrec/contracts.py ErrorCode), which is what crosses from the worker to the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from chatrec.contracts import ErrorCode
from recommender.domain.catalog import Item


class RecommenderError(Exception):
    """A request the recommender cannot answer."""

    code: ClassVar[ErrorCode] = ErrorCode.INVALID_REQUEST


class Outage(Exception):
    """The recommender cannot answer right now, whatever the request."""

    code: ClassVar[ErrorCode] = ErrorCode.MODEL_UNAVAILABLE


class InvalidRequest(RecommenderError):
    code = ErrorCode.INVALID_REQUEST


class NothingToGoOn(InvalidRequest):
    """A recommendation for someone new who has named no genre, title or filter."""

    code = ErrorCode.NOTHING_TO_GO_ON


class UnknownUser(RecommenderError):
    code = ErrorCode.UNKNOWN_USER


class UnknownItem(RecommenderError):
    code = ErrorCode.UNKNOWN_ITEM

    def __init__(self, reference: str, suggestions: Sequence[Item] = ()) -> None:
        self.reference = reference
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean {', '.join(i.label for i in suggestions)}?" if suggestions else ""
        super().__init__(f"I don't know an item called {reference!r}.{hint}")

    def __reduce__(self):  # keep reference and suggestions across pickling (processes, Celery)
        return type(self), (self.reference, self.suggestions)


class ForgottenPerson(RecommenderError):
    """A write made before the person asked to be forgotten: refused."""

    code = ErrorCode.FORGOTTEN


class ModelUnavailable(Outage):
    """No model can be served right now (none trained, or its files are gone)."""

    code = ErrorCode.MODEL_UNAVAILABLE


REFUSALS = {cls.code: cls
            for cls in (InvalidRequest, NothingToGoOn, UnknownUser, UnknownItem, ForgottenPerson)}

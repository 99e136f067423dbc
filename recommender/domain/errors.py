"""Errors the recommender raises for requests it cannot answer; messages are for people."""

from __future__ import annotations

from typing import Sequence

from recommender.domain.catalog import Item


class RecommenderError(Exception):
    """A request the recommender cannot answer."""


class InvalidRequest(RecommenderError):
    pass


class NothingToGoOn(InvalidRequest):
    """A recommendation for someone new who has named no genre, title or filter."""


class UnknownUser(RecommenderError):
    pass


class UnknownItem(RecommenderError):
    def __init__(self, reference: str, suggestions: Sequence[Item] = ()) -> None:
        self.reference = reference
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean {', '.join(i.label for i in suggestions)}?" if suggestions else ""
        super().__init__(f"I don't know an item called {reference!r}.{hint}")

    def __reduce__(self):  # keep reference and suggestions across pickling (processes, Celery)
        return type(self), (self.reference, self.suggestions)


class ModelUnavailable(RecommenderError):
    """No model can be served right now (none trained, or its files are gone)."""

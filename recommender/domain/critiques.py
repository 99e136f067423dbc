"""Critiques: a person narrowing a list by reacting to what they see ("like the second one
but newer", "something less well known", "not that genre", "cheaper").

A critique is relative to pivots: one shown item, or the whole list shown last. The
recommender turns it into a filter on the pivots' attributes (recommender/serving/service.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from recommender.domain.errors import InvalidRequest


class CritiqueKind(str, Enum):
    """What a critique asks for, relative to its pivots (the value crosses processes)."""

    NEWER = "newer"
    OLDER = "older"
    LESS_POPULAR = "less_popular"  # fewer ratings ("less well known", "a hidden gem")
    MORE_POPULAR = "more_popular"  # more ratings ("something everybody has seen")
    BETTER_RATED = "better_rated"  # a higher mean rating
    DIFFERENT_GENRE = "different_genre"  # none of the pivot's genres ("not that genre")
    SAME_GENRE = "same_genre"  # a genre of the pivot, but not close to it ("same genre but different")
    CHEAPER = "cheaper"  # the catalog's price feature, lower
    PRICIER = "pricier"  # the catalog's price feature, higher


# Kinds compared on a number of the pivots (their median): the attribute and the direction.
NUMERIC = {
    CritiqueKind.NEWER: ("year", 1), CritiqueKind.OLDER: ("year", -1),
    CritiqueKind.LESS_POPULAR: ("ratings", -1), CritiqueKind.MORE_POPULAR: ("ratings", 1),
    CritiqueKind.BETTER_RATED: ("mean_rating", 1),
    CritiqueKind.CHEAPER: ("price", -1), CritiqueKind.PRICIER: ("price", 1),
}
PRICED = (CritiqueKind.CHEAPER, CritiqueKind.PRICIER)


@dataclass(frozen=True)
class Critique:
    """`kind` relative to `items` (ids or titles): one shown item, or the list shown last.
    `label` is how the conversation names the pivot ("Fargo (1996)"; empty for a list)."""

    kind: CritiqueKind
    items: tuple[str, ...]
    label: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", CritiqueKind(self.kind))
        except ValueError:
            raise InvalidRequest(f"{self.kind!r} is not a critique I know.") from None
        items = (self.items,) if isinstance(self.items, str) else tuple(self.items or ())
        if not items or not all(isinstance(item, str) and item.strip() for item in items):
            raise InvalidRequest("A critique needs the item(s) it is about.")
        object.__setattr__(self, "items", tuple(item.strip() for item in items))

    @property
    def single(self) -> bool:
        """About one shown item (else about a list)."""
        return len(self.items) == 1

    @classmethod
    def read(cls, value: object) -> Critique:
        """From a Critique or its JSON form {"kind": ..., "items": [...], "label": ...}."""
        if isinstance(value, Critique):
            return value
        if not isinstance(value, dict) or "kind" not in value:
            raise InvalidRequest(f"A critique must be {{'kind': ..., 'items': [...]}}, not {value!r}.")
        return cls(value["kind"], value.get("items") or (), str(value.get("label") or ""))

    def as_dict(self) -> dict:
        return {"kind": self.kind.value, "items": list(self.items), "label": self.label}


def combined(current: list[Critique], new: list[Critique]) -> list[Critique]:
    """The critiques in force after `new`: a new one replaces an earlier one of the same kind
    ("newer" than the second, then "newer" than a newer one); the others stay ("newer" then "less
    well known"). Opposite kinds narrow to a range: "newer than Heat (1995)", then, pointing at a
    film of the list that followed, "older than Titanic (1997)" means between the two (an empty
    range finds nothing, and the request before it stays in force)."""
    replaced = {c.kind for c in new}
    return [c for c in current if c.kind not in replaced] + new


def pivot_value(values: np.ndarray, pivots: list[int]) -> float | None:
    """The pivots' median of an attribute (NaN where unknown); None when no pivot has one."""
    known = values[pivots][~np.isnan(values[pivots])]
    return float(np.median(known)) if len(known) else None


def beyond(values: np.ndarray, reference: float, kind: CritiqueKind) -> np.ndarray:
    """Which values lie beyond `reference` in the critique's direction (unknown ones never do)."""
    with np.errstate(invalid="ignore"):
        return NUMERIC[kind][1] * (values - reference) > 0

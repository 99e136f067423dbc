"""What a conversation asks of a recommendation list."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from recommender.domain.critiques import Critique
from recommender.domain.errors import InvalidRequest


def _as_tuple(value: object, name: str) -> tuple[str, ...]:
    """Accept one string or any sequence of them (JSON gives lists)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"{name} must be a list of names, not {value!r}.")
    return tuple(v.strip() for v in value if v.strip())


def _as_year(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        year = int(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"{name} must be a year such as 1995, not {value!r}.") from None
    if not 1800 <= year <= 2200:
        raise InvalidRequest(f"{name} {year} is not a plausible year.")
    return year


def _normalise(instance: Any) -> None:
    for field in fields(instance):
        value = getattr(instance, field.name)
        if field.name.startswith("year"):
            value = _as_year(value, field.name)
        elif field.name == "critiques":
            if not isinstance(value, (list, tuple)):
                raise InvalidRequest(f"critiques must be a list, not {value!r}.")
            value = tuple(Critique.read(critique) for critique in value)
        elif field.name == "user":
            value = str(value).strip() or None if value is not None else None
        else:
            value = _as_tuple(value, field.name)
        object.__setattr__(instance, field.name, value)


@dataclass(frozen=True)
class Constraints:
    """Hard filters and a soft "similar to" request.

    genres: every one must be among the item's genres ("a funny sci-fi film").
    exclude_genres: none may be. year_from / year_to: inclusive range.
    similar_to: items (ids or titles) whose neighbours are wanted.
    exclude_items: items (ids or titles) never to show.
    critiques: narrowing relative to shown items ("newer than the second one").
    """

    genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    similar_to: tuple[str, ...] = ()
    exclude_items: tuple[str, ...] = ()
    critiques: tuple[Critique, ...] = ()

    def __post_init__(self) -> None:
        _normalise(self)

    def describe(self) -> str:
        parts = []
        if self.genres:
            parts.append(" and ".join(self.genres))
        if self.exclude_genres:
            parts.append("not " + " or ".join(self.exclude_genres))
        if self.year_from is not None and self.year_to is not None:
            years = (str(self.year_from) if self.year_from == self.year_to
                     else f"{self.year_from}-{self.year_to}")
            parts.append(f"from {years}")
        elif self.year_from is not None:
            parts.append(f"from {self.year_from} or later")
        elif self.year_to is not None:
            parts.append(f"from {self.year_to} or earlier")
        if self.similar_to:
            parts.append("similar to " + ", ".join(self.similar_to))
        for critique in self.critiques:
            parts.append(f"{critique.kind.value.replace('_', ' ')} than {critique.label or 'the list shown'}")
        return ", ".join(parts) or "no constraints"


@dataclass(frozen=True)
class Taste:
    """What someone told us, folded into a user vector without retraining.

    user: a user id the model was trained on, whose vector is the starting
    point (absent for someone new). liked / disliked / exclude: items (ids
    or titles); excluded items (seen, already shown) are never recommended.
    genres: genres they said they like, in their words.
    liked_how: per liked item, how they said it: "said" (in words), "button"
    (👍) or "rating:<stars>"; missing entries count as "said".
    genres_how: per stated genre, how they said it ("love westerns"); missing
    or empty entries count as "like <genre>".
    """

    liked: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    user: str | None = None
    liked_how: tuple[str, ...] = ()
    genres_how: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _normalise(self)

    def __bool__(self) -> bool:
        """Whether there is anything to personalise on."""
        return bool(self.liked or self.genres or self.disliked or self.user)

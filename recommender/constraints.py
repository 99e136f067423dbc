"""What a conversation asks of a recommendation list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constraints:
    """Hard filters and a soft "similar to" request.

    genres: every one must be among the item's genres ("a funny sci-fi film").
    exclude_genres: none may be. year_from / year_to: inclusive range.
    similar_to: items (ids or titles) whose neighbours are wanted.
    exclude_items: items (ids or titles) never to show.
    """

    genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    similar_to: tuple[str, ...] = ()
    exclude_items: tuple[str, ...] = ()

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
        return ", ".join(parts) or "no constraints"


@dataclass(frozen=True)
class Taste:
    """Stated preferences of someone the model has not been trained on."""

    liked: tuple[str, ...] = ()  # items (ids or titles)
    genres: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.liked or self.genres)

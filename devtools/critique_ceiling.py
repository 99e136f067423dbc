"""The ceiling of `make simulate-chat`'s critiquing: a person who knows the recommender's
ranking. Each turn they try every reaction the bot understands (each critique kind about each
shown item or the whole list, with or without "like it", a genre added or excluded, "more")
and say the one that ranks the target highest, while the target still fits. Offline: the
request is kept here the way the action server keeps it, and the recommender is called
directly (no NLU, no REST), so it bounds what any simulated person could reach."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from recommender.domain.catalog import Catalog, Item
from recommender.domain.constraints import Constraints, Taste
from recommender.domain.critiques import Critique, CritiqueKind, combined
from recommender.domain.errors import InvalidRequest
from recommender.serving.service import Recommendation, Recommender

PAGE = 5  # items per list, as the action server asks
KINDS = [kind for kind in CritiqueKind if kind not in (CritiqueKind.CHEAPER, CritiqueKind.PRICIER)]


@dataclass(frozen=True)
class Request:
    genres: tuple[str, ...]
    year_from: int
    year_to: int
    exclude_genres: tuple[str, ...] = ()
    similar_to: tuple[str, ...] = ()
    critiques: tuple[Critique, ...] = ()

    def constraints(self) -> Constraints:
        return Constraints(genres=self.genres, exclude_genres=self.exclude_genres, year_from=self.year_from,
                           year_to=self.year_to, similar_to=self.similar_to, critiques=self.critiques)

    def critiqued(self, kind: CritiqueKind, pivots: list[Item], like: bool = False) -> Request:
        critiques = tuple(combined(list(self.critiques), [Critique(kind, tuple(i.id for i in pivots))]))
        return replace(self, critiques=critiques, similar_to=(pivots[0].id,) if like else self.similar_to)


def reactions(request: Request, shown: list[Item], catalog: Catalog, wanted: set[str],
              sayable: set[str]) -> Iterator[Request]:
    """Every request one message about the list `shown` can lead to, for a person who wants an
    item of the genres `wanted` ("more", a genre of the list excluded, one of `wanted` added, a
    critique)."""
    yield request
    on_the_list = {genre for item in shown for genre in catalog.genres_of(item)}
    for genre in sorted((on_the_list & sayable) - wanted - set(request.exclude_genres)):
        yield replace(request, exclude_genres=request.exclude_genres + (genre,))
    for genre in sorted((wanted & sayable) - set(request.genres)):
        yield replace(request, genres=request.genres + (genre,))
    for kind in KINDS:
        yield request.critiqued(kind, shown)
        for item in shown:
            yield request.critiqued(kind, [item])
            yield request.critiqued(kind, [item], like=True)
    for item in shown:
        yield replace(request, similar_to=(item.id,))


def turns_knowing_the_ranking(recommender: Recommender, target: Item, genre: str, decade: int,
                              sayable: set[str], max_turns: int) -> int | None:
    """The turn at which the target is shown to a person who knows the ranking, or None."""
    wanted = set(recommender.catalog.genres_of(target))

    def best(request: Request, shown: list[Item], seen: list[str]) -> Request | None:
        ranked = [(position, candidate)
                  for candidate in reactions(request, shown, recommender.catalog, wanted, sayable)
                  if (position := _position(recommender, candidate, seen, target)) is not None]
        return min(ranked, key=lambda pair: pair[0])[1] if ranked else None

    return _turns(recommender, target, Request((genre,), decade, decade + 9), max_turns, best)


def turns_with_more(recommender: Recommender, target: Item, genre: str, decade: int,
                    max_turns: int) -> int | None:
    """The same person saying only "more" (offline): the baseline the ceiling compares with."""
    return _turns(recommender, target, Request((genre,), decade, decade + 9), max_turns,
                  lambda request, shown, seen: request)


def _turns(recommender: Recommender, target: Item, request: Request | None, max_turns: int,
           react: Callable[[Request, list[Item], list[str]], Request | None]) -> int | None:
    seen: list[str] = []
    for turn in range(1, max_turns + 1):
        if request is None:
            return None
        shown = [r.item for r in _ranked(recommender, request, seen, PAGE)]
        if target in shown:
            return turn
        if not shown:
            return None
        seen += [item.id for item in shown]
        request = react(request, shown, seen)
    return None


def _ranked(recommender: Recommender, request: Request, seen: list[str], k: int) -> list[Recommendation]:
    """As the action server asks for someone new: no stated taste, nothing shown twice."""
    return list(recommender.recommend(Taste(exclude=tuple(seen)), k, request.constraints()).items)


def _position(recommender: Recommender, request: Request, seen: list[str], target: Item) -> int | None:
    """Where the target ranks after `request` (None: it no longer fits, or the request fails)."""
    try:
        ids = [r.item.id for r in _ranked(recommender, request, seen, len(recommender.catalog))]
    except InvalidRequest:
        return None
    return ids.index(target.id) if target.id in ids else None

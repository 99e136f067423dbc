"""The ceiling of the critiquing simulation: a person who knows the ranking reaches the target
no later than paging with "more", and what they say keeps the target in the request."""

from __future__ import annotations

from devtools.critique_ceiling import Request, reactions, turns_knowing_the_ranking, turns_with_more
from devtools.simulate_chat import GENRE_WORDS, people
from recommender.domain.catalog import Dataset
from recommender.domain.constraints import Taste
from recommender.serving.service import Recommender


def test_knowing_the_ranking_is_never_slower_than_more(recommender: Recommender, movielens: Dataset) -> None:
    reached = 0
    for person in people(movielens, 12, seed=1):
        best = turns_knowing_the_ranking(recommender, person.target, person.genre, person.decade,
                                         set(GENRE_WORDS), 5)
        paging = turns_with_more(recommender, person.target, person.genre, person.decade, 5)
        assert paging is None or (best is not None and best <= paging)
        reached += best is not None
    assert reached >= 6


def test_every_reaction_is_one_message_away(recommender: Recommender, movielens: Dataset) -> None:
    catalog = movielens.catalog
    request = Request(("Comedy",), 1990, 1999)
    shown = [r.item for r in recommender.recommend(Taste(), 5, request.constraints()).items]
    wanted = {"Comedy", "Romance"}
    found = list(reactions(request, shown, catalog, wanted, set(GENRE_WORDS)))
    assert found[0] == request  # "more"
    assert all(len(r.critiques) <= 1 for r in found)
    assert {r.genres for r in found} == {("Comedy",), ("Comedy", "Romance")}
    excluded = {g for r in found for g in r.exclude_genres}
    assert excluded and not excluded & wanted
    assert excluded <= {g for item in shown for g in catalog.genres_of(item)}

"""The conversational simulation: who the simulated people are, what they say (never the
target's title), and a small run against the real stack over REST."""

from __future__ import annotations

import pytest

from devtools.simulate_chat import (
    GENRE_WORDS,
    STRATEGIES,
    Person,
    Ratings,
    _success,
    critique,
    people,
    ratio_interval,
    report,
    simulate,
)
from recommender.domain.catalog import Dataset, natural_title
from tests.chat import Chat


def test_each_person_has_a_held_out_liked_target_with_a_year_and_a_sayable_genre(movielens: Dataset) -> None:
    group = people(movielens, 20, seed=1)
    assert len(group) == 20 and len({p.sender for p in group}) == 20
    for person in group:
        assert person.target.year and person.genre in movielens.catalog.genres_of(person.target)
        assert natural_title(person.target.title).lower() not in person.opening().lower()
    assert people(movielens, 20, seed=1) == group


def test_what_a_person_says_about_a_list_comes_from_the_targets_attributes(movielens: Dataset) -> None:
    popularity, catalog = Ratings(movielens), movielens.catalog
    star_wars, fargo, toy_story = (catalog.get(i) for i in ("50", "100", "1"))
    sender = people(movielens, 1, seed=1)[0].sender
    wants_fargo = Person(sender, fargo, "Crime")
    # Fargo is a crime drama and thriller: a list without dramas gets "also a drama"
    said = critique(wants_fargo, [star_wars, toy_story], popularity, catalog, {"Crime"})
    assert said == ("also a drama", "Drama")
    # a genre most of the list has (3 of 4) and Fargo lacks: "not ..."
    said, genre = critique(wants_fargo, [star_wars, star_wars, star_wars, toy_story], popularity, catalog,
                           {"Crime", "Drama", "Thriller"})
    assert said == f"not {GENRE_WORDS[genre]}" and genre not in catalog.genres_of(fargo)
    # else about the shown item closest to it: Toy Story (1995) more than Star Wars (1977)
    said, genre = critique(wants_fargo, [star_wars, toy_story], popularity, catalog,
                           {"Crime", "Drama", "Thriller", "Action", "Adventure", "Romance", "Sci-Fi", "War",
                            "Animation", "Children's", "Comedy"})
    # Fargo: 508 ratings, 4.16 stars; Toy Story: 452 ratings, 3.88 stars
    assert (said, genre) == ("like the second one but newer, better known and better rated", None)


def test_a_less_known_target_says_so_about_the_item_named(movielens: Dataset) -> None:
    popularity, catalog = Ratings(movielens), movielens.catalog
    fargo = catalog.get("100")
    rarer = min((i for i in catalog.items if i.year == 1996 and set(catalog.genres_of(i)) >= {"Crime"}
                 and popularity.count(i) > 0), key=popularity.count)
    person = Person(people(movielens, 1, seed=1)[0].sender, rarer, "Crime")
    said, _ = critique(person, [fargo], popularity, catalog, set(GENRE_WORDS))
    assert said == "more like the first one, but less well known"


def test_popularity_pages_through_the_most_rated_of_the_genre_and_decade(movielens: Dataset) -> None:
    popularity, catalog = Ratings(movielens), movielens.catalog
    sender = people(movielens, 1, seed=1)[0].sender
    # the most-rated 90s crime films: Fargo (508), Pulp Fiction, L.A. Confidential, The Usual
    # Suspects, Se7en (236), then GoodFellas (226), Heat (223)...
    assert popularity.turns_to(Person(sender, catalog.get("100"), "Crime")) == 1
    assert popularity.turns_to(Person(sender, catalog.get("11"), "Crime")) == 1
    assert popularity.turns_to(Person(sender, catalog.get("182"), "Crime")) == 2
    assert popularity.turns_to(Person(sender, catalog.get("182"), "Crime"), page=1) == 6


def test_a_small_simulation_against_the_real_stack(chat: Chat, movielens: Dataset) -> None:
    result = simulate(chat.url, movielens, seeds=[1], count=4, max_turns=3, concurrency=4)
    for strategy in STRATEGIES:
        assert 0.0 <= result["success_at_3"][strategy] <= 1.0
    assert result["per_seed"][0]["people"] == 4 and "success_at_5" not in result
    assert "critiquing" in report(result)


@pytest.mark.parametrize("turns, expected", [([1, None, 3, 6], 0.5), ([None], 0.0)])
def test_success_at_n_counts_targets_reached_within_n_turns(turns, expected) -> None:
    assert _success(turns, 5) == expected


def test_the_ratio_interval_resamples_the_same_people_for_both_strategies() -> None:
    critiquing, more_only = [1] * 40 + [None] * 10, [2] * 20 + [None] * 30  # 40 vs 20 reached: 2x
    low, high = ratio_interval(critiquing, more_only)
    assert 1.0 < low < 2.0 < high < 3.5
    # each person counts for both sides of a resample: equal results give exactly 1x every time
    assert ratio_interval(more_only, more_only) == [1.0, 1.0]
    assert ratio_interval([None, 6], [None, 7]) is None  # nobody reached within 5 turns

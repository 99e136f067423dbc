"""The serving API on MovieLens with a small trained hybrid: constraints,
cold start, lookups and every kind of bad request."""

import numpy as np
import pytest

from recommender.domain.constraints import Constraints, Taste
from recommender.domain.errors import InvalidRequest, UnknownItem, UnknownUser

USER = "196"


def ids(recommendations) -> list[str]:
    return [r.item.id for r in recommendations.items]


def rated_by(recommender, user: str) -> set[str]:
    return {item.id for item, _ in recommender.user_history(user)}


def test_recommend_returns_k_unseen_items_best_first(recommender):
    found = recommender.recommend(USER, k=10)
    assert len(found) == 10 and found.reason is None
    scores = [r.score for r in found.items]
    assert scores == sorted(scores, reverse=True)
    assert not set(ids(found)) & rated_by(recommender, USER)
    assert len(set(ids(found))) == 10


def test_scores_are_the_model_scores(recommender, model, movielens):
    """With nothing said in the session: the model's scores, standardised over the catalog."""
    found = recommender.recommend(USER, k=3)
    raw = model.scores([movielens.user_index(USER)])[0].astype(np.float64)
    expected = (raw - raw.mean()) / (raw.std() + 1e-9)
    for rec in found.items:
        assert rec.score == pytest.approx(expected[movielens.catalog.index(rec.item.id)], rel=1e-5)


def test_wanted_genres_must_all_match(recommender):
    found = recommender.recommend(USER, 8, Constraints(genres=("funny", "sci fi")))
    assert len(found) == 8
    for rec in found.items:
        assert {"Comedy", "Sci-Fi"} <= set(rec.item.values("genre"))


def test_excluded_genres_never_appear(recommender):
    found = recommender.recommend(USER, 50, Constraints(exclude_genres=("drama", "horror")))
    assert len(found) == 50
    for rec in found.items:
        assert not {"Drama", "Horror"} & set(rec.item.values("genre"))


def test_year_range_is_inclusive(recommender):
    found = recommender.recommend(USER, 30, Constraints(year_from=1990, year_to=1994))
    assert len(found) == 30
    assert all(1990 <= rec.item.year <= 1994 for rec in found.items)
    assert {rec.item.year for rec in recommender.recommend(USER, 5, Constraints(year_from=1994,
                                                                             year_to=1994)).items} == {1994}


def test_open_ended_year_ranges(recommender):
    newer = recommender.recommend(USER, 10, Constraints(year_from=1997)).items
    assert all(r.item.year >= 1997 for r in newer)
    older = recommender.recommend(USER, 10, Constraints(year_to=1960)).items
    assert all(r.item.year <= 1960 for r in older)


def test_excluded_items_are_left_out(recommender):
    first = ids(recommender.recommend(USER, k=5))
    again = recommender.recommend(USER, 5, Constraints(exclude_items=tuple(first[:3])))
    assert not set(first[:3]) & set(ids(again))
    assert first[3:] == ids(again)[:2]


def test_excluded_items_may_be_named_by_title(recommender, movielens):
    top = recommender.recommend(USER, k=1).items[0].item
    again = recommender.recommend(USER, 5, Constraints(exclude_items=(top.title.lower(),)))
    assert top.id not in ids(again)


def test_similar_to_pulls_in_neighbours_of_the_seed(recommender):
    plain = recommender.recommend(USER, k=10)
    similar = recommender.recommend(USER, 10, Constraints(similar_to=("star wars",)))
    assert "50" not in ids(similar)
    neighbours = set(ids(recommender.similar_items("50", k=50)))
    assert len(set(ids(similar)) & neighbours) > len(set(ids(plain)) & neighbours)
    assert len(set(ids(similar)) & neighbours) >= 5


def test_constraints_combine(recommender):
    wanted = Constraints(genres=("comedy",), exclude_genres=("romance",), year_from=1990,
                         year_to=1999, similar_to=("toy story",))
    found = recommender.recommend(USER, 10, wanted)
    assert len(found) == 10
    for rec in found.items:
        genres = set(rec.item.values("genre"))
        assert "Comedy" in genres and "Romance" not in genres and 1990 <= rec.item.year <= 1999
        assert rec.item.id != "1"


def test_impossible_constraints_give_an_empty_answer_with_the_reason(recommender):
    found = recommender.recommend(USER, 5, Constraints(genres=("noir",), year_from=2020, year_to=2020))
    assert not found and found.items == ()
    assert "Film-Noir" in found.reason and "2020" in found.reason and "No film" in found.reason


def test_exhausted_constraints_say_everything_was_seen(recommender, movielens):
    # Every matching item excluded: the catalog has some, the user may see none.
    noir_1940s = [i.id for i in movielens.catalog.items
                  if "Film-Noir" in i.values("genre") and i.year and 1940 <= i.year <= 1949]
    wanted = Constraints(genres=("Film-Noir",), year_from=1940, year_to=1949, exclude_items=tuple(noir_1940s))
    found = recommender.recommend(USER, 5, wanted)
    assert not found and "already rated, shown or excluded" in found.reason


def test_k_larger_than_what_matches_returns_what_there_is(recommender, movielens):
    matching = [i for i in movielens.catalog.items if "Documentary" in i.values("genre")
                and i.id not in rated_by(recommender, USER)]
    found = recommender.recommend(USER, 1000, Constraints(genres=("documentary",)))
    assert len(found) == len(matching)


@pytest.mark.parametrize("k", [0, -3, 2.5, "5", None, True])
def test_k_must_be_a_positive_whole_number(recommender, k):
    with pytest.raises(InvalidRequest, match="positive whole number"):
        recommender.recommend(USER, k)


def test_unknown_user_is_a_clear_error(recommender):
    with pytest.raises(UnknownUser, match="don't know user"):
        recommender.recommend("no-such-user")


def test_unknown_genre_lists_the_known_ones(recommender):
    with pytest.raises(InvalidRequest, match="Sci-Fi"):
        recommender.recommend(USER, 5, Constraints(genres=("spreadsheets",)))


def test_reversed_year_range_is_a_clear_error(recommender):
    with pytest.raises(InvalidRequest, match="1999-1990"):
        recommender.recommend(USER, 5, Constraints(year_from=1999, year_to=1990))


def test_unknown_item_suggests_close_titles(recommender):
    with pytest.raises(UnknownItem) as error:
        recommender.item_details("qwertyuiop")
    assert error.value.reference == "qwertyuiop"
    with pytest.raises(UnknownItem) as error:
        recommender.recommend(USER, 5, Constraints(similar_to=("Star Warz Holiday Special",)))
    assert "50" in [item.id for item in error.value.suggestions]


def test_cold_start_from_liked_titles_and_genres_without_retraining(recommender, model):
    before = model.user_vectors.copy()
    taste = Taste(liked=("toy story", "aladdin"), genres=("animated",))
    found = recommender.recommend(taste, k=10)
    assert len(found) == 10
    assert not {"1", "95"} & set(ids(found))  # the liked titles themselves are not recommended
    np.testing.assert_array_equal(model.user_vectors, before)
    # The folded-in user leans to what they said, compared with someone who likes horror.
    horror = recommender.recommend(Taste(liked=("scream",), genres=("horror",)), k=10)
    def count(genre, found):
        return sum(genre in r.item.values("genre") for r in found.items)
    assert count("Children's", found) > count("Children's", horror)
    assert count("Horror", horror) > count("Horror", found)


def test_cold_start_from_genres_only(recommender):
    found = recommender.recommend(Taste(genres=("horror",)), k=10)
    assert sum("Horror" in r.item.values("genre") for r in found.items) >= 5


def test_cold_start_respects_constraints(recommender):
    found = recommender.recommend(Taste(liked=("fargo",)), 5, Constraints(year_to=1980))
    assert len(found) == 5 and all(r.item.year <= 1980 for r in found.items)


def test_empty_taste_is_a_clear_error(recommender):
    with pytest.raises(InvalidRequest, match="at least one genre or title"):
        recommender.recommend(Taste(), 5)


def test_similar_items_exclude_the_item_and_rank_by_similarity(recommender, model):
    found = recommender.similar_items("the empire strikes back", k=10)
    assert "172" not in ids(found) and len(found) == 10
    scores = [r.score for r in found.items]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 1.0 + 1e-6


def test_item_details_match_the_ratings(recommender, movielens):
    details = recommender.item_details("fargo")
    rows = movielens.interactions.items == movielens.catalog.index("100")
    assert details.item.id == "100" and details.item.year == 1996
    assert details.genres == ("Crime", "Drama", "Thriller")
    assert details.ratings == int(rows.sum()) == 508
    assert details.mean_rating == pytest.approx(float(movielens.interactions.ratings[rows].mean()))


def test_compare_prefers_the_higher_scored_item(recommender):
    comparison = recommender.compare(USER, "fargo", "heat")
    first, second = comparison.scores
    assert comparison.first.item.id == "100"
    assert comparison.preferred.id == ("100" if first >= second else comparison.second.item.id)
    assert first == pytest.approx(recommender.score(USER, "100"))


def test_compare_needs_two_different_items(recommender):
    with pytest.raises(InvalidRequest, match="two different"):
        recommender.compare(USER, "fargo", "Fargo (1996)")


def test_errors_survive_pickling_for_worker_processes(recommender):
    import pickle

    with pytest.raises(UnknownItem) as error:
        recommender.find_item("Star Warz Holiday Special")
    copy = pickle.loads(pickle.dumps(error.value))
    assert str(copy) == str(error.value) and copy.reference == error.value.reference
    assert [i.id for i in copy.suggestions] == [i.id for i in error.value.suggestions]


def test_a_rating_of_3_in_a_users_history_is_not_a_like(recommender, movielens):
    user = movielens.users[0].id
    profile = recommender._profile(user)
    inter = movielens.interactions
    rows = inter.users == movielens.user_index(user)
    stars = {int(item): float(rating) for item, rating in zip(inter.items[rows], inter.ratings[rows])}
    assert {item for item, _ in profile.liked} == {item for item, s in stars.items() if s >= 4}
    assert any(s == 3 for s in stars.values()), "this user rated something 3"

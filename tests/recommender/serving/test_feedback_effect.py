"""Feedback changes the very next recommendation, without retraining."""

import numpy as np
import pytest

from recommender.domain.constraints import Constraints, Taste
from recommender.domain.errors import InvalidRequest
from recommender.serving.service import SessionWeights

USER = "196"


def ids(found) -> list[str]:
    return [r.item.id for r in found.items]


def test_seen_shown_and_disliked_items_are_never_recommended_again(recommender):
    first = ids(recommender.recommend(USER, k=10))
    taste = Taste(user=USER, exclude=first[:3], disliked=first[3:5])
    again = ids(recommender.recommend(taste, k=10))
    assert not set(first[:5]) & set(again)
    assert first[5:] == [i for i in again if i in first[5:]]


def test_the_trained_vector_is_the_starting_point(recommender, movielens, model):
    plain = recommender.recommend(USER, k=10)
    same = recommender.recommend(Taste(user=USER), k=10)
    assert ids(plain) == ids(same)
    np.testing.assert_allclose([r.score for r in plain.items], [r.score for r in same.items], rtol=1e-5)


def test_likes_pull_scores_towards_what_was_liked(recommender, movielens):
    # Army of Darkness, The Shining, Nightmare on Elm St, Jaws, Scream
    liked = ["184", "200", "219", "234", "288"]
    horror = [movielens.catalog.index(i.id) for i in movielens.catalog.items
              if "Horror" in i.values("genre") and i.id not in liked]

    def horror_lift(user) -> float:
        scores = recommender._scores(recommender._profile(user))  # standardised: mean 0 before steering
        return float(scores[horror].mean())

    assert horror_lift(Taste(user=USER, liked=liked)) > horror_lift(USER)
    after = recommender.recommend(Taste(user=USER, liked=liked), k=20)
    assert not set(liked) & set(ids(after))


def test_disliked_genres_are_down_weighted(recommender):
    comedies = [r.item.id for r in recommender.recommend(USER, 30, Constraints(genres=("comedy",))).items][:6]
    before = recommender.recommend(USER, k=30)
    after = recommender.recommend(Taste(user=USER, disliked=comedies), k=30)
    def count(found):
        return sum("Comedy" in r.item.values("genre") for r in found.items)
    assert count(after) < count(before)


def test_ratings_shaped_feedback_for_a_new_user(recommender):
    taste = Taste(user="chat-12345", liked=("star wars", "empire strikes back"), disliked=("titanic",),
                  exclude=("return of the jedi",))
    found = recommender.recommend(taste, k=10)
    assert len(found) == 10
    assert not {"50", "172", "313", "181"} & set(ids(found))


def test_nothing_to_go_on_is_an_error_unless_constraints_narrow_it(recommender):
    with pytest.raises(InvalidRequest, match="at least one genre or title"):
        recommender.recommend(Taste(user="chat-new"), 5)
    popular_comedies = recommender.recommend(Taste(user="chat-new"), 5, Constraints(genres=("comedy",)))
    assert len(popular_comedies) == 5
    assert all("Comedy" in r.item.values("genre") for r in popular_comedies.items)
    # With no taste, the order is the model's item bias: the popular-leaning default.
    scores = [r.score for r in popular_comedies.items]
    assert scores == sorted(scores, reverse=True)


def test_explanations_for_feedback_cite_what_they_liked(recommender):
    taste = Taste(user="chat-77", liked=("toy story",))
    top = recommender.recommend(taste, k=1).items[0].item
    reasons = recommender.explain(taste, top.id).reasons
    similar = next(r for r in reasons if r.kind == "similar_to_liked")
    assert similar.evidence["liked"][0]["item"] == "1"
    assert "you said you like it" in similar.text


def _carrying(recommender, taste, genre, constraints=Constraints(), k=5):
    found = recommender.recommend(taste, k, constraints).items
    return sum(genre in recommender.catalog.genres_of(r.item) for r in found)


@pytest.mark.parametrize("user", [None, "196", "13"])
@pytest.mark.parametrize("genre, years", [("westerns", (1990, 1999)), ("horror", (None, None)),
                                          ("musical", (None, None)), ("documentary", (1990, 1999))])
def test_a_stated_genre_fills_most_of_the_next_five(recommender, movielens, user, genre, years):
    """Whenever at least 10 unseen items of the genre satisfy the constraints, >= 4 of 5 carry it."""
    name = recommender.find_genre(genre)
    wanted = Constraints(year_from=years[0], year_to=years[1])
    seen = set(recommender._profile(user).leave_out) if user else set()
    matching = np.flatnonzero(recommender._candidates(Constraints(genres=(name,), year_from=years[0],
                                                                  year_to=years[1])))
    if len(set(matching.tolist()) - seen) < 10:
        pytest.skip("fewer than 10 unseen items match")
    assert _carrying(recommender, Taste(user=user, genres=(genre,)), name, wanted) >= 4


def test_a_disliked_genre_stays_out_while_a_liked_one_leads(recommender):
    taste = Taste(genres=("comedy",), disliked=("scream", "halloween: the curse of michael myers"))
    found = recommender.recommend(taste, 10).items
    assert sum("Comedy" in recommender.catalog.genres_of(r.item) for r in found) >= 8
    assert not any("Horror" in recommender.catalog.genres_of(r.item) for r in found)


def test_the_bpr_update_moves_a_known_user_towards_likes_and_away_from_rejections(recommender, model):
    row = recommender._model_rows["196"]
    base = model.user_vectors[row]
    before = model.score_vectors(base[np.newaxis])[0]
    liked = [int(i) for i in np.argsort(before)[:3]]  # items the model ranks lowest for them
    rejected = [int(i) for i in np.argsort(-before)[:3]]  # and highest
    vector = model.adapt_user(base, liked, rejected, steps=20, learning_rate=0.5, prior=1.0)
    after = model.score_vectors(vector[np.newaxis])[0]
    assert (after[liked] > before[liked]).all() and (after[rejected] < before[rejected]).all()

    def rank(scores, items):
        return np.mean([(scores > scores[i]).sum() for i in items])

    assert rank(after, liked) < rank(before, liked) and rank(after, rejected) > rank(before, rejected)
    # with nothing said, the trained vector stays as it is
    assert np.array_equal(model.adapt_user(base), base)


def test_session_likes_reach_the_known_users_vector(recommender, model):
    liked = ["1", "71", "95"]
    plain = recommender.with_weights(SessionWeights(update_steps=0))
    stepped = recommender.with_weights(SessionWeights(update_steps=20, update_learning_rate=0.5))
    moved, kept = (r._profile(Taste(user="196", liked=tuple(liked))).vector for r in (stepped, plain))
    assert np.array_equal(kept, model.user_vectors[recommender._model_rows["196"]])
    items = [recommender.catalog.index(i) for i in liked]
    scores = model.score_vectors(np.stack([moved, kept]))
    assert (scores[0, items] > scores[1, items]).all()


def test_session_likes_pull_up_what_the_same_people_rated(recommender):
    liked = ("172", "181")  # The Empire Strikes Back, Return of the Jedi
    only = dict(said_similarity=0.0, update_steps=0, rejected_genre=0.0)
    plain, pulled = (recommender.with_weights(SessionWeights(said_corating=w, **only)) for w in (0.0, 1.0))
    taste = Taste(user=USER, liked=liked)
    corated = recommender.co_ratings.similarities([recommender.catalog.index(i) for i in liked])
    close = np.argsort(-corated)[:20]
    before, after = (r._scores(r._profile(taste)) for r in (plain, pulled))

    def rank(scores):
        return np.mean([(scores > scores[i]).sum() for i in close])

    assert rank(after) < rank(before)


def test_a_few_rejections_weigh_little_against_a_long_history(recommender):
    comedies = tuple(r.item.id for r in recommender.recommend(Taste(genres=("comedy",)), 4).items)
    known, new = (recommender._profile(Taste(user=u, disliked=comedies)) for u in (USER, None))
    assert known.rated > 20 and new.rated == 0
    penalty = {name: recommender._disliked_genre_share(p).max()
               for name, p in (("known", known), ("new", new))}
    assert penalty["new"] == pytest.approx(1.0)  # every rejection a comedy, nothing liked
    assert penalty["known"] < 4 / (4 + known.rated) + 1e-9

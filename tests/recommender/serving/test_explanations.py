"""Every reason an explanation gives is checked against the ratings and the model."""

import numpy as np
import pytest

from chatrec.contracts import LIKED_FROM_STARS
from recommender.domain.constraints import Constraints, Taste

USER = "196"


def ratings_of(movielens, user_id: str) -> dict[str, float]:
    inter = movielens.interactions
    rows = inter.users == movielens.user_index(user_id)
    return {movielens.catalog.items[i].id: float(r) for i, r in zip(inter.items[rows], inter.ratings[rows])}


def check_reason(reason, recommender, movielens, item_id, liked: dict[str, float | None],
                 constraints=Constraints()):
    """Fail unless the reason's evidence is exactly what the data and the model say."""
    item = movielens.catalog.get(item_id)
    index = movielens.catalog.index(item_id)
    if reason.kind == "similar_to_liked":
        similarity = recommender.model.item_similarities(index)
        for entry in reason.evidence["liked"]:
            assert entry["item"] in liked, "cites an item the user did not like"
            assert entry["rating"] == liked[entry["item"]]
            assert entry["similarity"] == pytest.approx(similarity[movielens.catalog.index(entry["item"])])
            assert entry["similarity"] > 0
            assert movielens.catalog.get(entry["item"]).label in reason.text
    elif reason.kind == "shared_feature":
        other = movielens.catalog.get(reason.evidence["liked_item"])
        assert other.id in liked
        for value in reason.evidence["values"]:
            assert value in item.values(reason.evidence["feature"])
            assert value in other.values(reason.evidence["feature"])
    elif reason.kind == "matches_request":
        for genre in reason.evidence["genres"]:
            assert genre in item.values("genre") and genre in constraints.genres
        if reason.evidence["year"] is not None:
            assert reason.evidence["year"] == item.year
            assert constraints.year_from <= item.year <= constraints.year_to
    elif reason.kind == "similar_users":
        inter = movielens.interactions
        raters = reason.evidence["raters"]
        assert set(raters) <= set(reason.evidence["neighbours"])
        for rater, rating in zip(raters, reason.evidence["ratings"]):
            assert ratings_of(movielens, rater)[item_id] == rating
        neighbours = set(reason.evidence["neighbours"])
        everyone = {movielens.users[u].id for u in inter.users[inter.items == index]}
        assert set(raters) == everyone & neighbours, "every neighbour who rated it is counted"
        assert reason.evidence["mean_rating"] == pytest.approx(np.mean(reason.evidence["ratings"]))
        assert f"{len(raters)} of the" in reason.text
    elif reason.kind == "similar_to_request":
        seed = movielens.catalog.index(reason.evidence["seed"])
        similarity = recommender.model.item_similarities(seed)
        assert reason.evidence["similarity"] == pytest.approx(similarity[index]) and similarity[index] > 0
        assert reason.evidence["rank"] == int((similarity > similarity[index]).sum())
        assert movielens.catalog.get(reason.evidence["seed"]).title in constraints.similar_to
    elif reason.kind == "stated_genre":
        assert set(reason.evidence["genres"]) <= set(item.values("genre"))
        assert all(word in reason.text for word in reason.evidence["said"])
    elif reason.kind == "rated_together":
        inter = movielens.interactions
        liked_item = movielens.catalog.index(reason.evidence["liked"])

        def raters(i):
            return set(inter.users[inter.items == i].tolist())

        assert reason.evidence["liked"] in liked, "cites an item the user did not like"
        assert reason.evidence["common_raters"] == len(raters(index) & raters(liked_item))
        assert reason.evidence["raters_of_liked"] == len(raters(liked_item))
        assert movielens.catalog.get(reason.evidence["liked"]).label in reason.text
    elif reason.kind == "overall_rating":
        rows = movielens.interactions.items == index
        assert reason.evidence["ratings"] == int(rows.sum())
    else:
        raise AssertionError(f"unexpected reason kind {reason.kind}")


def test_known_user_reasons_are_all_true(recommender, movielens):
    liked = {i: r for i, r in ratings_of(movielens, USER).items() if r >= LIKED_FROM_STARS}
    for rec in recommender.recommend(USER, k=5).items:
        explanation = recommender.explain(USER, rec.item.id)
        assert explanation.item.id == rec.item.id
        assert explanation.score == pytest.approx(rec.score, rel=1e-5)
        kinds = [r.kind for r in explanation.reasons]
        assert "similar_to_liked" in kinds and "similar_users" in kinds
        for reason in explanation.reasons:
            check_reason(reason, recommender, movielens, rec.item.id, liked)


def test_the_user_is_not_their_own_neighbour(recommender):
    explanation = recommender.explain(USER, recommender.recommend(USER, k=1).items[0].item.id)
    neighbours = next(r for r in explanation.reasons if r.kind == "similar_users").evidence["neighbours"]
    assert USER not in neighbours and len(neighbours) == recommender.neighbours


def test_requested_features_are_cited(recommender, movielens):
    wanted = Constraints(genres=("comedy",), year_from=1990, year_to=1999)
    top = recommender.recommend(USER, 1, wanted).items[0].item
    explanation = recommender.explain(USER, top.id, wanted)
    request = next(r for r in explanation.reasons if r.kind == "matches_request")
    assert request.evidence == {"genres": ["Comedy"], "year": top.year}
    liked = {i: r for i, r in ratings_of(movielens, USER).items() if r >= LIKED_FROM_STARS}
    for reason in explanation.reasons:
        check_reason(reason, recommender, movielens, top.id, liked,
                     Constraints(genres=("Comedy",), year_from=1990, year_to=1999))


def test_new_user_reasons_cite_what_they_said(recommender, movielens):
    taste = Taste(liked=("toy story", "fargo"), genres=("comedy",))
    liked = {"1": None, "100": None}
    for rec in recommender.recommend(taste, k=3).items:
        explanation = recommender.explain(taste, rec.item.id)
        similar = [r for r in explanation.reasons if r.kind == "similar_to_liked"]
        assert similar and "you said you like it" in similar[0].text
        for reason in explanation.reasons:
            check_reason(reason, recommender, movielens, rec.item.id, liked)


def test_a_session_like_is_cited_by_the_raters_it_shares(recommender, movielens):
    taste = Taste(user=USER, liked=("fargo",))
    liked = {**{i: r for i, r in ratings_of(movielens, USER).items() if r >= LIKED_FROM_STARS}, "100": None}
    found = recommender.recommend(taste, k=3).items
    explanations = [recommender.explain(taste, rec.item.id) for rec in found]
    together = [r for e in explanations for r in e.reasons if r.kind == "rated_together"]
    assert together and all(r.evidence["liked"] == "100" for r in together)
    assert "people who rated Fargo (1996) (you said you like it) rated it too" in together[0].text
    for rec, explanation in zip(found, explanations):
        for reason in explanation.reasons:
            check_reason(reason, recommender, movielens, rec.item.id, liked)


def test_an_item_nobody_close_rated_falls_back_to_checkable_facts(recommender, movielens):
    # A user who liked nothing (all ratings below 4) and an obscure item.
    inter = movielens.interactions
    low = next(u.id for u in movielens.users
               if inter.ratings[inter.users == movielens.user_index(u.id)].max() < LIKED_FROM_STARS)
    obscure = movielens.catalog.items[int(np.argmin(recommender.rating_counts))]
    explanation = recommender.explain(low, obscure.id)
    assert explanation.reasons
    for reason in explanation.reasons:
        check_reason(reason, recommender, movielens, obscure.id, {})


def test_shared_features_are_checked_on_a_catalog_that_has_them(products_recommender, products):
    """The products catalog has brands and tags; shared ones are cited and true."""
    user = "u01"
    seen = 0
    liked = {products.catalog.items[i].id: float(r) for i, r, u in
             zip(products.interactions.items, products.interactions.ratings, products.interactions.users)
             if products.users[u].id == user and r >= LIKED_FROM_STARS}
    for item in products.catalog.items:
        for reason in products_recommender.explain(user, item.id).reasons:
            if reason.kind == "shared_feature":
                seen += 1
                check_reason(reason, products_recommender, products, item.id, liked)
    assert seen > 0


def test_something_like_a_title_is_explained_by_its_closeness(recommender, movielens):
    request = Constraints(similar_to=("Groundhog Day",))
    for rec in recommender.recommend(Taste(genres=("Comedy",)), k=3, constraints=request).items:
        explanation = recommender.explain(Taste(genres=("Comedy",)), rec.item.id, request)
        closeness = [r for r in explanation.reasons if r.kind == "similar_to_request"]
        assert closeness and "Groundhog Day (1993)" in closeness[0].text
        for reason in explanation.reasons:
            check_reason(reason, recommender, movielens, rec.item.id, {},
                         Constraints(similar_to=("Groundhog Day",)))


def test_likes_are_quoted_as_they_were_given(recommender, store):
    """A button rating, a 👍 and a title said in words, through the real feedback store, as the
    bot's actions record them (how a like was given is a field, not read from the event id)."""
    store.record("telegram:quote", "rating", "1", "m1:rating:1", rating=5)  # Toy Story, 5 stars
    store.record("telegram:quote", "like", "71", "m2:like:71")  # The Lion King, 👍
    store.record("telegram:quote", "like", "95", "m3:said:aladdin: the movie",  # "I like Aladdin: the movie"
                 said_in_words=True)
    taste = store.feedback("telegram:quote").taste()
    assert taste.liked_how == ("rating:5", "button", "said")
    quoted = {}
    for rec in recommender.recommend(taste, k=10).items:
        for reason in recommender.explain(taste, rec.item.id).reasons:
            if reason.kind == "similar_to_liked":
                quoted.update((e["item"], e["how"]) for e in reason.evidence["liked"])
                for entry in reason.evidence["liked"]:
                    assert entry["how"] in reason.text
    assert quoted.get("1") == "you rated it 5/5"
    assert quoted.get("71") == "you liked it (👍)"
    assert quoted.get("95") == "you said you like it"


def test_a_new_persons_why_combines_request_stated_genre_and_similar_people(recommender, movielens):
    taste = Taste(genres=("westerns",))
    wanted = Constraints(year_from=1990, year_to=1999)
    top = recommender.recommend(taste, 1, wanted).items[0].item
    reasons = {r.kind: r for r in recommender.explain(taste, top.id, wanted).reasons}
    assert "You asked for 1990s" in reasons["matches_request"].text
    assert "you said you like westerns" in reasons["stated_genre"].text
    assert "similar_users" in reasons
    for reason in reasons.values():
        check_reason(reason, recommender, movielens, top.id, {}, wanted)


def test_a_stated_genre_is_quoted_with_the_verb_they_used(recommender, movielens):
    taste = Taste(genres=("Western", "comedies"), genres_how=("love westerns", "are into comedies"))
    top = recommender.recommend(taste, 1, Constraints(genres=("western",))).items[0].item
    stated = next(r for r in recommender.explain(taste, top.id).reasons if r.kind == "stated_genre")
    assert "you said you love westerns" in stated.text
    assert stated.evidence["said"][0] == "love westerns"
    check_reason(stated, recommender, movielens, top.id, {}, Constraints())


def test_reasons_in_chinese_say_the_same_with_the_same_evidence(recommender, movielens):
    taste = Taste(genres=("westerns",), genres_how=("喜欢西部片",))
    wanted = Constraints(year_from=1990, year_to=1999)
    top = recommender.recommend(taste, 1, wanted).items[0].item
    english = recommender.explain(taste, top.id, wanted).reasons
    chinese = recommender.explain(taste, top.id, wanted, language="zh").reasons
    assert [(r.kind, r.evidence) for r in english] == [(r.kind, r.evidence) for r in chinese]
    reasons = {r.kind: r.text for r in chinese}
    assert reasons["matches_request"].startswith("你想要1990年代")
    assert f"{top.year}年的" in reasons["matches_request"]
    assert reasons["stated_genre"] == "它属于西部，你说过你喜欢西部片。"
    assert reasons["similar_users"].startswith("和你口味最相近的")
    assert all(not r.isascii() for r in reasons.values())

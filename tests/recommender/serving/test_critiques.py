"""Critiques relative to shown items, on MovieLens and on the priced products catalog: each kind
filters on the pivot's own attribute, composes with the request, and is named in "why"."""

import statistics

import numpy as np
import pytest

from recommender.domain.constraints import Constraints, Taste
from recommender.domain.critiques import Critique, CritiqueKind, combined
from recommender.domain.errors import InvalidRequest

COMEDY_90S = {"genres": ("comedy",), "year_from": 1990, "year_to": 1999}
SOMEONE = Taste(genres=("comedy",))


def shown(recommender, constraints: Constraints = Constraints(**COMEDY_90S), k: int = 5) -> list:
    return [r.item for r in recommender.recommend(SOMEONE, k, constraints).items]


def critiqued(recommender, kind: CritiqueKind, pivots: list, k: int = 5, **request) -> list:
    critique = Critique(kind, tuple(item.id for item in pivots), pivots[0].label if len(pivots) == 1 else "")
    found = recommender.recommend(SOMEONE, k, Constraints(**{**COMEDY_90S, **request}, critiques=(critique,)))
    assert found.items, found.reason
    return [r.item for r in found.items]


def genres(recommender, item) -> set:
    return set(recommender.catalog.genres_of(item))


def counts(recommender, items) -> list[int]:
    return [int(recommender.rating_counts[recommender.catalog.index(item.id)]) for item in items]


def test_newer_than_the_second_one_shares_its_genre_and_keeps_the_request(recommender):
    second = shown(recommender)[1]
    found = critiqued(recommender, CritiqueKind.NEWER, [second])
    assert all(second.year < item.year <= 1999 for item in found)
    assert all(genres(recommender, item) & genres(recommender, second) for item in found)
    assert all("Comedy" in genres(recommender, item) for item in found)
    assert second.id not in {item.id for item in found}


def test_older_than_a_shown_item(recommender):
    pivot = shown(recommender)[0]
    found = critiqued(recommender, CritiqueKind.OLDER, [pivot], year_from=None, year_to=None)
    assert all(0 < item.year < pivot.year for item in found)


def test_less_well_known_than_the_list_lowers_the_median_number_of_ratings(recommender):
    before = shown(recommender)
    after = critiqued(recommender, CritiqueKind.LESS_POPULAR, before)
    assert statistics.median(counts(recommender, after)) < statistics.median(counts(recommender, before))
    assert max(counts(recommender, after)) < statistics.median(counts(recommender, before))


def test_more_popular_than_a_shown_item(recommender):
    pivot = shown(recommender)[4]
    found = critiqued(recommender, CritiqueKind.MORE_POPULAR, [pivot])
    assert min(counts(recommender, found)) > counts(recommender, [pivot])[0]


def test_better_rated_counts_only_items_enough_people_rated(recommender):
    pivot = shown(recommender)[2]
    found = critiqued(recommender, CritiqueKind.BETTER_RATED, [pivot])
    means = recommender.mean_ratings
    for item in found:
        index = recommender.catalog.index(item.id)
        assert means[index] > means[recommender.catalog.index(pivot.id)]
        assert recommender.rating_counts[index] >= 10


def test_not_that_genre_drops_the_asked_genre_of_the_item_named(recommender):
    pivot = shown(recommender)[0]
    found = critiqued(recommender, CritiqueKind.DIFFERENT_GENRE, [pivot])
    assert all("Comedy" not in genres(recommender, item) for item in found)
    assert all(1990 <= item.year <= 1999 for item in found)


def test_same_genre_but_different_keeps_a_genre_and_leaves_the_nearest_items(recommender):
    pivot = shown(recommender)[0]
    index = recommender.catalog.index(pivot.id)
    by_similarity = np.argsort(-recommender.model.item_similarities(index))
    nearest = {recommender.catalog.items[i].id for i in by_similarity[:21]}
    found = critiqued(recommender, CritiqueKind.SAME_GENRE, [pivot])
    assert all(genres(recommender, item) & genres(recommender, pivot) for item in found)
    assert not {item.id for item in found} & nearest


def test_a_critique_composes_with_like_x(recommender):
    pivot = shown(recommender)[1]
    found = critiqued(recommender, CritiqueKind.NEWER, [pivot], similar_to=(pivot.id,))
    assert all(item.year > pivot.year for item in found)


def test_a_new_critique_replaces_the_same_kind_and_keeps_the_others():
    newer, newer_still = Critique("newer", ("1",)), Critique("newer", ("3",))
    older = Critique("older", ("2",))
    hidden = Critique("less_popular", ("1", "2"))
    assert combined([newer, hidden], [newer_still]) == [hidden, newer_still]
    assert combined([newer], [hidden]) == [newer, hidden]
    assert combined([newer, hidden], [older]) == [newer, hidden, older]  # a range


def test_newer_then_older_than_a_later_item_narrows_to_the_years_between(recommender):
    first = shown(recommender)
    pivot = min(first, key=lambda item: item.year)
    newer = Critique(CritiqueKind.NEWER, (pivot.id,), pivot.label)
    after = [r.item for r in recommender.recommend(SOMEONE, 5, Constraints(
        **COMEDY_90S, critiques=(newer,))).items]
    upper = max(after, key=lambda item: item.year)
    assert upper.year > pivot.year + 1, "the test needs two years between the pivots"
    older = Critique(CritiqueKind.OLDER, (upper.id,), upper.label)
    found = recommender.recommend(SOMEONE, 5, Constraints(
        **COMEDY_90S, critiques=tuple(combined([newer], [older])))).items
    assert found and all(pivot.year < r.item.year < upper.year for r in found)


def test_less_well_known_then_better_known_than_a_later_item_narrows_to_a_band_of_ratings(recommender):
    first = shown(recommender)
    famous = max(first, key=lambda item: counts(recommender, [item])[0])
    hidden = Critique(CritiqueKind.LESS_POPULAR, (famous.id,), famous.label)
    after = critiqued(recommender, CritiqueKind.LESS_POPULAR, [famous])
    lower = min(after, key=lambda item: counts(recommender, [item])[0])
    known = Critique(CritiqueKind.MORE_POPULAR, (lower.id,), lower.label)
    found = [r.item for r in recommender.recommend(SOMEONE, 5, Constraints(
        **COMEDY_90S, critiques=tuple(combined([hidden], [known])))).items]
    (most,), (least,) = counts(recommender, [famous]), counts(recommender, [lower])
    assert found and all(least < count < most for count in counts(recommender, found))


def test_critiques_cross_processes_as_plain_data():
    critique = Critique.read({"kind": "newer", "items": ["12"], "label": "Fargo (1996)"})
    assert Constraints(critiques=[critique.as_dict()]).critiques == (critique,)
    with pytest.raises(InvalidRequest):
        Critique.read({"kind": "louder", "items": ["1"]})
    with pytest.raises(InvalidRequest):
        Critique.read({"kind": "newer", "items": []})


def test_movielens_has_no_price_and_says_so(recommender):
    pivot = shown(recommender)[0]
    with pytest.raises(InvalidRequest, match="no prices"):
        critiqued(recommender, CritiqueKind.CHEAPER, [pivot])


@pytest.mark.parametrize("kind, cheaper", [(CritiqueKind.CHEAPER, True), (CritiqueKind.PRICIER, False)])
def test_cheaper_and_pricier_read_the_catalogs_price_column(products_recommender, kind, cheaper):
    catalog = products_recommender.catalog
    pivot = next(item for item in catalog.items if item.title == "Burr Coffee Grinder")
    found = products_recommender.recommend(Taste(genres=("Kitchen",)), 5, Constraints(
        critiques=(Critique(kind, (pivot.id,), pivot.label),)))
    assert found.items
    for rec in found.items:
        assert (rec.item.price < pivot.price) if cheaper else (rec.item.price > pivot.price)
        assert set(catalog.genres_of(rec.item)) & set(catalog.genres_of(pivot))
    assert not np.isnan(catalog.prices).any()


def test_why_names_the_critique_it_satisfied(recommender):
    second = shown(recommender)[1]
    critique = Critique(CritiqueKind.NEWER, (second.id,), second.label)
    constraints = Constraints(**COMEDY_90S, critiques=(critique,))
    item = recommender.recommend(SOMEONE, 1, constraints).items[0].item
    expected = (("en", f"newer than {second.label}: it is from {item.year}"), ("zh", f"比{second.label}新"))
    for language, words in expected:
        reasons = recommender.explain(SOMEONE, item.id, constraints, language).reasons
        found = [r for r in reasons if r.kind == "critique"]
        assert found and words in found[0].text
        assert found[0].evidence == {"critique": "newer", "value": item.year, "reference": second.year}

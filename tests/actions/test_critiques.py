"""Critique words in English and Chinese, and the request after a critique, on real rasa_sdk trackers."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import context, critiques, replies
from actions.recommendations import critiqued, said_where_the_list_ends
from recommender.domain.critiques import CritiqueKind as K
from tests.actions.test_context import MOVIELENS, SHOWN, ordinal, tracker, year

WORDS = replies.catalog_words({"item_noun": "film", "item_nouns": "films", "genre_word": "genre"}, "en")


@pytest.mark.parametrize("text, kind", [
    ("like the second one but newer", K.NEWER), ("something more recent than the first one", K.NEWER),
    ("older please", K.OLDER), ("something less well known", K.LESS_POPULAR),
    ("a hidden gem", K.LESS_POPULAR),
    ("something everybody has seen", K.MORE_POPULAR), ("a better rated one", K.BETTER_RATED),
    ("not that genre", K.DIFFERENT_GENRE), ("a different genre than the third", K.DIFFERENT_GENRE),
    ("same genre but different", K.SAME_GENRE), ("同类型但不一样的", K.SAME_GENRE),
    ("cheaper", K.CHEAPER), ("more expensive than the second one", K.PRICIER),
    ("像第二部那样但新一点的", K.NEWER), ("老一点的", K.OLDER), ("来点冷门的", K.LESS_POPULAR),
    ("要更热门的", K.MORE_POPULAR), ("评分更高的", K.BETTER_RATED), ("换个类型", K.DIFFERENT_GENRE),
    ("便宜一点的", K.CHEAPER), ("贵一点的", K.PRICIER),
])
def test_each_critique_is_read_in_both_languages(text: str, kind: K) -> None:
    assert critiques.kinds(text) == [kind]


def test_one_message_can_state_several_critiques() -> None:
    assert critiques.kinds("like the third one but older, better known and better rated") == [
        K.OLDER, K.MORE_POPULAR, K.BETTER_RATED]
    assert critiques.kinds("more like the first one, but less well known") == [K.LESS_POPULAR]
    assert critiques.kinds("像第二部那样但更有名一点的") == [K.MORE_POPULAR]


@pytest.mark.parametrize("text", ["a horror movie newer than 1995", "older than 1970", "recommend a comedy",
                                  "show me more", "less than 5 stars", "推荐一部九十年代的喜剧电影"])
def test_a_year_bound_or_a_plain_request_is_no_critique(text: str) -> None:
    assert critiques.kinds(text) == []


def test_more_like_an_item_pointed_at_is_told_from_more_of_the_same() -> None:
    assert critiques.wants_similar("more like the first one")
    assert critiques.wants_similar("像第二部那样的")
    assert not critiques.wants_similar("show me more")


def test_like_the_second_one_but_newer_keeps_the_years_and_points_at_the_second() -> None:
    text = "like the second one but newer"
    before = {"genres": ["Comedy"], "year_from": 1990, "year_to": 1999}
    message = tracker(text, [ordinal(2), year(text, "newer")], constraints=before, last_list=SHOWN)
    request = critiqued(message, context.updated_request(message, MOVIELENS), critiques.said(message))
    assert (request["year_from"], request["year_to"]) == (1990, 1999)
    assert request["genres"] == ["Comedy"] and request["similar_to"] == ["B (1991)"]
    assert request["critiques"] == [{"kind": "newer", "items": ["20"], "label": "B (1991)"}]
    assert (replies.describe_request(request, WORDS)
            == "comedy films from 1990–1999 like B (1991), newer than it")


def test_a_critique_without_an_item_is_about_the_whole_last_list_and_adds_to_the_others() -> None:
    before = {"genres": ["Comedy"], "critiques": [{"kind": "newer", "items": ["20"], "label": "B (1991)"}]}
    message = tracker("something less well known", constraints=before, last_list=SHOWN)
    request = critiqued(message, {**before}, critiques.said(message))
    assert request["critiques"][1] == {"kind": "less_popular", "items": ["10", "20", "30"], "label": ""}
    assert request["critiques"][0]["kind"] == "newer"
    assert replies.describe_request(request, WORDS, "zh").endswith("，比B (1991)新，比上一批冷门")


def test_older_after_newer_is_a_range_and_a_new_genre_drops_the_critiques() -> None:
    before = {"critiques": [{"kind": "newer", "items": ["20"], "label": "B (1991)"}]}
    message = tracker("older than the first one", [ordinal(1)], constraints=before, last_list=SHOWN)
    request = critiqued(message, {**before, "year_from": None, "year_to": None}, critiques.said(message))
    assert [c["kind"] for c in request["critiques"]] == ["newer", "older"]
    fresh = context.updated_request(tracker("a horror", [{"entity": "genre", "value": "Horror"}],
                                            constraints=request), MOVIELENS)
    assert fresh["critiques"] == [] and fresh["genres"] == ["Horror"]


def test_a_genre_added_to_the_request_keeps_its_critiques() -> None:
    before = {"genres": ["Comedy"], "critiques": [{"kind": "newer", "items": ["20"], "label": "B (1991)"}]}
    message = tracker("also a romance", [{"entity": "genre", "value": "Romance"}], constraints=before)
    request = context.updated_request(message, MOVIELENS)
    assert request["genres"] == ["Comedy", "Romance"] and request["critiques"] == before["critiques"]


def test_with_nothing_shown_a_critique_word_is_an_ordinary_request() -> None:
    message = tracker("something less well known", constraints={"genres": ["Comedy"]})
    request = critiqued(message, {"genres": ["Comedy"], "critiques": []}, critiques.said(message))
    assert request["critiques"] == []


def test_a_price_needs_a_catalog_with_prices() -> None:
    assert not critiques.priced([K.CHEAPER], MOVIELENS)
    assert critiques.priced([K.CHEAPER], {**MOVIELENS, "priced": True})
    assert critiques.priced([K.NEWER], MOVIELENS)


def test_the_header_names_the_genres_excluded() -> None:
    words = {**WORDS, "genres": {"Romance": "Romance", "Horror": "Horror"}}
    request = {"genres": ["Comedy"], "exclude_genres": ["Romance", "Horror"], "year_from": 1990,
               "year_to": 1999, "critiques": [{"kind": "newer", "items": ["20"], "label": "B (1991)"}]}
    assert (replies.describe_request(request, words)
            == "comedy films from 1990–1999, not romance or horror, newer than B (1991)")
    chinese = {**words, "genres": {"Comedy": "喜剧", "Romance": "爱情", "Horror": "恐怖"},
               "item_nouns": "电影"}
    said = replies.describe_request(request, chinese, "zh")
    assert said == "1990–1999年的喜剧电影，不要爱情、恐怖，比B (1991)新"


@pytest.mark.parametrize("position, shown, answer", [
    (7, SHOWN, "I showed you 3 — which one do you mean?"),
    (2, [], "I haven't shown you a list yet. Ask me for a recommendation first."),
    (2, SHOWN, None),  # the second of three: a pivot, nothing to say
])
def test_a_position_past_the_list_is_answered_not_critiqued(position: int, shown: list,
                                                          answer: str | None) -> None:
    dispatcher = CollectingDispatcher()
    message = tracker("like the seventh one but newer", [ordinal(position)], last_list=shown)
    assert said_where_the_list_ends(dispatcher, message) is (answer is not None)
    assert [m["text"] for m in dispatcher.messages] == ([answer] if answer else [])

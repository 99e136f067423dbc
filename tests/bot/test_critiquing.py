"""Critiquing what was shown, over Rasa's REST channel with the real stack (same bot and models
as the other conversation tests): each item keeps the request, moves the asked way from the
item named, and "why" names the critique."""

from __future__ import annotations

import statistics
import uuid

import pytest

from recommender.domain.catalog import Dataset
from tests.chat import Chat, shown_ids, structured, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_sender() -> str:
    return f"test-critique:{uuid.uuid4().hex[:8]}"


def ratings_count(movielens: Dataset, item_id: str) -> int:
    return int((movielens.interactions.items == movielens.catalog.index(item_id)).sum())


def genres(movielens: Dataset, item_id: str) -> set[str]:
    return set(movielens.catalog.genres_of(movielens.catalog.get(item_id)))


def test_like_the_second_one_but_newer(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    first = shown_ids(chat.say(sender, "recommend a comedy from the 90s"))
    second = movielens.catalog.get(first[1])
    reply = chat.say(sender, "like the second one but newer")
    newer = shown_ids(reply)
    assert newer and second.id not in newer
    for item_id in newer:
        item = movielens.catalog.get(item_id)
        assert second.year < item.year <= 1999, (item.label, second.label)
        assert genres(movielens, item_id) & genres(movielens, second.id)
        assert "Comedy" in genres(movielens, item_id)
    (listing,) = structured(reply)
    assert second.label in listing["header"] and "newer than it" in listing["header"], listing["header"]

    why = texts(chat.say(sender, "why the first one?"))
    assert f"newer than {second.label}" in why, why


ORDINALS = ("first", "second", "third", "fourth", "fifth")


def test_newer_then_older_than_a_later_item_keeps_the_years_between(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    first = [movielens.catalog.get(i) for i in shown_ids(chat.say(sender, "recommend a comedy from the 90s"))]
    oldest = min(range(len(first)), key=lambda p: first[p].year)
    lower = first[oldest]
    then = [movielens.catalog.get(i)
            for i in shown_ids(chat.say(sender, f"like the {ORDINALS[oldest]} one but newer"))]
    assert then and all(item.year > lower.year for item in then)
    newest = max(range(len(then)), key=lambda p: then[p].year)
    upper = then[newest]
    assert upper.year > lower.year + 1, "a year between the two to narrow to"
    reply = chat.say(sender, f"like the {ORDINALS[newest]} one but older")
    between = [movielens.catalog.get(i) for i in shown_ids(reply)]
    assert between, texts(reply)
    assert all(lower.year < item.year < upper.year for item in between), [i.label for i in between]
    (listing,) = structured(reply)
    assert f"newer than {lower.label}" in listing["header"] and "older than it" in listing["header"]


def test_a_genre_added_keeps_the_critique_and_one_left_out_is_named(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    first = [movielens.catalog.get(i) for i in shown_ids(chat.say(sender, "recommend a comedy from the 90s"))]
    oldest = min(range(len(first)), key=lambda p: first[p].year)
    pivot = first[oldest]
    chat.say(sender, f"like the {ORDINALS[oldest]} one but newer")
    reply = chat.say(sender, "also a romance")
    shown = shown_ids(reply)
    assert shown and all({"Comedy", "Romance"} <= genres(movielens, i) for i in shown)
    assert all(movielens.catalog.get(i).year > pivot.year for i in shown)
    reply = chat.say(sender, "not a drama")
    (listing,) = structured(reply)
    assert "not drama" in listing["header"], listing["header"]
    assert all("Drama" not in genres(movielens, i) for i in shown_ids(reply))


def test_something_less_well_known_lowers_the_median_number_of_ratings(
    chat: Chat, movielens: Dataset
) -> None:
    sender = new_sender()
    before = shown_ids(chat.say(sender, "recommend a comedy from the 90s"))
    after = shown_ids(chat.say(sender, "something less well known"))
    assert after and not set(after) & set(before)
    assert (statistics.median(ratings_count(movielens, i) for i in after)
            < statistics.median(ratings_count(movielens, i) for i in before))
    assert all("Comedy" in genres(movielens, i) for i in after)


def test_not_that_genre_and_start_over(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    shown_ids(chat.say(sender, "recommend a comedy from the 90s"))
    other = shown_ids(chat.say(sender, "not that genre"))
    assert other and all("Comedy" not in genres(movielens, i) for i in other)
    assert "fresh start" in texts(chat.say(sender, "start over"))
    assert all("Comedy" in genres(movielens, i) for i in shown_ids(chat.say(sender, "recommend a comedy")))


def test_a_critique_of_an_item_past_the_list_asks_which_one_and_keeps_the_request(chat: Chat) -> None:
    assert "haven't shown you a list" in texts(chat.say(new_sender(), "like the second one but newer"))
    sender = new_sender()
    first = shown_ids(chat.say(sender, "recommend a comedy from the 90s"))
    reply = chat.say(sender, "like the seventh one but newer")
    assert "I showed you 5" in texts(reply) and not shown_ids(reply)
    more = chat.say(sender, "more")  # the comedies from the 90s, not a critique of them
    (listing,) = structured(more)
    assert listing["header"].startswith("More comed") and "1990" in listing["header"], listing["header"]
    assert "newer" not in listing["header"] and shown_ids(more) and not set(first) & set(shown_ids(more))


def test_a_price_critique_on_a_catalog_without_prices_is_answered_politely(chat: Chat) -> None:
    sender = new_sender()
    shown_ids(chat.say(sender, "recommend a comedy from the 90s"))
    assert "have no prices" in texts(chat.say(sender, "something cheaper"))


def test_critiquing_in_chinese(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    first = shown_ids(chat.say(sender, "推荐一部九十年代的喜剧电影"))
    second = movielens.catalog.get(first[1])
    reply = chat.say(sender, "像第二部那样但新一点的")
    (listing,) = structured(reply)
    assert listing["language"] == "zh" and "比它新" in listing["header"], listing["header"]
    assert all(second.year < movielens.catalog.get(i).year <= 1999 for i in shown_ids(reply))


def test_a_genre_said_with_a_negation_is_left_out(chat: Chat, movielens: Dataset) -> None:
    reply = chat.say(new_sender(), "recommend a comedy but not a romance")
    shown = shown_ids(reply)
    assert shown and all("Comedy" in genres(movielens, i) and "Romance" not in genres(movielens, i)
                         for i in shown)
    (listing,) = structured(reply)
    assert "not romance" in listing["header"], listing["header"]

"""The whole conversation on a catalog that is not MovieLens: the products example
(data/catalogs/products), with its own recommender model and Rasa model."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.catalog_nlu import natural_title
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset
from recommender.storage.feedback import FeedbackStore
from tests.chat import Chat, running_chat, shown_ids, structured, texts, train_small_rasa_model

FILM_WORDS = re.compile(r"\b(film|films|movie|movies|watch)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def products() -> Dataset:
    return load_dataset("products")


@pytest.fixture(scope="module")
def products_chat(tmp_path_factory, products: Dataset) -> Iterator[Chat]:
    model = train_small_rasa_model(tmp_path_factory.mktemp("products-rasa"), "products")
    with running_chat(tmp_path_factory.mktemp("products-chat"), model, products) as chat:
        yield chat


def popular_titles(products: Dataset) -> list[str]:
    counts: dict[int, int] = {}
    for item in products.interactions.items:
        counts[int(item)] = counts.get(int(item), 0) + 1
    order = sorted(range(len(products.catalog)), key=lambda i: (-counts.get(i, 0), i))
    return [natural_title(products.catalog.items[i].title) for i in order]


def test_a_whole_conversation_speaks_of_products(products_chat: Chat, products: Dataset) -> None:
    sender = "test:products"
    said: list[dict] = []

    def say(text: str) -> list[dict]:
        said.extend(reply := products_chat.say(sender, text))
        return reply

    assert "products" in texts(say("hi"))
    listing = say("recommend kitchen products")
    kitchen = shown_ids(listing)
    assert kitchen and all("Kitchen" in products.catalog.genres_of(products.catalog.get(i)) for i in kitchen)
    assert "kitchen products" in texts(listing)
    why = say("why the first one?")
    assert structured(why, "item") and products.catalog.get(kitchen[0]).title.split()[0] in texts(why)
    first, second = popular_titles(products)[:2]
    assert structured(say(f"what is {first} about?"), "item")
    assert structured(say(f"{first} or {second}?"), "compare")
    assert shown_ids(say(f"something like {first}"))
    assert "Glad you like" in texts(say("I like the first one"))
    assert FeedbackStore(products_chat.env["CHATREC_DATABASE_URL"]).export(sender)["stored"]
    assert "cannot be undone" in texts(say("delete my data"))
    assert "deleted everything" in texts(say("yes"))
    assert FeedbackStore(products_chat.env["CHATREC_DATABASE_URL"]).export(sender)["stored"] is False
    everything = texts(said)
    assert not FILM_WORDS.search(everything), FILM_WORDS.findall(everything)


def test_a_year_the_catalog_does_not_reach_gets_a_plain_answer(
    products_chat: Chat, products: Dataset
) -> None:
    newest = max(item.year for item in products.catalog.items if item.year)
    answer = texts(products_chat.say("test:years", "recommend kitchen products from 1980"))
    assert "oldest products are from" in answer and not FILM_WORDS.search(answer)
    answer = texts(products_chat.say("test:years", "recommend books after 2099"))
    assert f"newest products are from {newest}" in answer


def categories(products: Dataset, ids: list[str]) -> list[set[str]]:
    return [set(products.catalog.genres_of(products.catalog.get(i))) for i in ids]


@pytest.mark.parametrize("text, category", [
    ("recommend something for the kitchen", "Kitchen"), ("kitchen stuff please", "Kitchen"),
    ("got anything outdoorsy?", "Outdoor"), ("推荐点厨房用品", "Kitchen"),
    ("有没有户外的东西", "Outdoor"),
])
def test_a_category_is_understood_in_any_phrasing(products_chat: Chat, products: Dataset, text: str,
                                                  category: str) -> None:
    shown = shown_ids(products_chat.say(f"test:category:{text}", text))
    assert shown and all(category in found for found in categories(products, shown)), (text, shown)


def test_recent_books_are_books_from_the_newest_five_years(products_chat: Chat, products: Dataset) -> None:
    newest = max(item.year for item in products.catalog.items if item.year)
    shown = shown_ids(products_chat.say("test:recent-books", "any recent books?"))
    assert shown
    for item in shown:
        assert "Books" in products.catalog.genres_of(products.catalog.get(item))
        assert products.catalog.get(item).year > newest - 5


def test_the_products_conversation_in_chinese(products_chat: Chat, products: Dataset) -> None:
    sender = "test:products-zh"
    greeting = texts(products_chat.say(sender, "你好"))
    assert "商品" in greeting and not FILM_WORDS.search(greeting) and "电影" not in greeting
    (listing,) = structured(products_chat.say(sender, "推荐一些厨房用品"))
    assert listing["language"] == "zh" and "厨房用品" in listing["header"] and "商品" in listing["header"]
    assert all("Kitchen" in found for found in categories(products, [i["id"] for i in listing["items"]]))


@pytest.mark.parametrize("text, cheaper", [("something cheaper than the first one", True),
                                           ("more expensive than the first one", False)])
def test_cheaper_and_pricier_than_a_shown_product(products_chat: Chat, products: Dataset, text: str,
                                                  cheaper: bool) -> None:
    sender = f"test:price:{cheaper}"
    first = products.catalog.get(shown_ids(products_chat.say(sender, "recommend kitchen products"))[0])
    shown = shown_ids(products_chat.say(sender, text))
    assert shown, text
    for item in (products.catalog.get(i) for i in shown):
        assert (item.price < first.price) if cheaper else (item.price > first.price), (item, first)

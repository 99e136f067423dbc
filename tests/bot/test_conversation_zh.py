"""The whole conversation in Chinese, and a person switching language, with the real stack over
Rasa's REST channel (the same bot and model as the English conversations)."""

from __future__ import annotations

import uuid

import pytest

from recommender.domain.catalog import Dataset
from recommender.storage.feedback import FeedbackStore
from tests.chat import Chat, shown_ids, structured, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_sender() -> str:
    return f"test-zh:{uuid.uuid4().hex[:8]}"


def chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)


def test_a_chinese_request_gets_a_chinese_list_of_that_genre_and_decade(
    chat: Chat, movielens: Dataset
) -> None:
    sender = new_sender()
    reply = chat.say(sender, "推荐一部九十年代的喜剧电影")
    (listing,) = structured(reply)
    assert listing["language"] == "zh" and "喜剧" in listing["header"] and "1990–1999年" in listing["header"]
    assert chinese(listing["footer"])
    items = [movielens.catalog.get(item["id"]) for item in listing["items"]]
    assert len(items) == 5
    assert all("Comedy" in movielens.catalog.genres_of(i) and 1990 <= i.year <= 1999 for i in items)
    assert all("喜剧" in item["genres"] for item in listing["items"])  # genre names in Chinese
    assert [a["title"] for a in listing["items"][0]["actions"]] == [
        "👍 喜欢", "👎 不感兴趣", "✓ 看过了", "为什么？"]

    why = chat.say(sender, "为什么推荐第二部？")
    (answer,) = structured(why, "item")
    assert answer["items"][0]["id"] == listing["items"][1]["id"]
    assert answer["header"].startswith("为什么推荐") and "你想要喜剧" in answer["footer"], answer["footer"]


def test_feedback_in_chinese_is_stored(chat: Chat) -> None:
    sender = new_sender()
    shown = shown_ids(chat.say(sender, "来点八十年代的动作片"))
    assert len(shown) == 5
    assert "不会再推荐" in texts(chat.say(sender, "第一部我看过了"))
    assert "很高兴" in texts(chat.say(sender, "我喜欢第二部"))
    assert "4/5" in texts(chat.say(sender, "给第三部打4分"))
    assert "不合你的口味" in texts(chat.say(sender, "第四部不感兴趣"))
    feedback = FeedbackStore(chat.env["CHATREC_DATABASE_URL"]).feedback(sender)
    assert feedback.seen == (shown[0],) and shown[1] in feedback.liked and feedback.disliked == (shown[3],)
    assert dict(zip(feedback.liked, feedback.liked_how))[shown[2]] == "rating:4"  # 4 stars: a like
    more = shown_ids(chat.say(sender, "换一批"))
    assert len(more) == 5 and not set(more) & set(shown)


def test_details_and_compare_in_chinese(chat: Chat) -> None:
    sender = new_sender()
    details = texts(chat.say(sender, "Fargo 讲的是什么？"))
    assert "Fargo (1996)" in details and "个人打分" in details
    compared = texts(chat.say(sender, "Fargo 和 Heat 哪个好？"))
    assert "Fargo (1996)" in compared and "Heat (1995)" in compared and "我会为你选" in compared


def test_forget_me_in_chinese(chat: Chat) -> None:
    sender = new_sender()
    shown = shown_ids(chat.say(sender, "推荐几部科幻电影"))
    chat.say(sender, "喜欢第一部")
    store = FeedbackStore(chat.env["CHATREC_DATABASE_URL"])
    assert store.feedback(sender).liked == (shown[0],)
    assert "删除" in texts(chat.say(sender, "删除我的数据"))
    assert "都删除了" in texts(chat.say(sender, "是的"))
    assert store.feedback(sender).liked == ()


def test_replies_follow_the_language_of_each_message(chat: Chat) -> None:
    sender = new_sender()
    assert "recommend" in texts(chat.say(sender, "hello there")).lower()
    assert chinese(texts(chat.say(sender, "你好")))
    english = structured(chat.say(sender, "recommend a western"))[0]
    assert english["language"] == "en" and english["header"].startswith("Here are")
    assert chinese(texts(chat.say(sender, "为什么推荐第一部")))
    # no words to go by: the conversation's language, then the platform's guess (Telegram)
    assert chinese(texts(chat.say(sender, "/greet")))
    assert chinese(texts(chat.say(new_sender(), "/greet", {"language_code": "zh-hans"})))
    assert not chinese(texts(chat.say(new_sender(), "/greet", {"language_code": "en"})))

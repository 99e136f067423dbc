"""Which language a message is in, and Chinese numbers."""

import pytest

from chatrec.language import Language, chinese_number, detect, from_code, of_message

EN, ZH = Language.ENGLISH, Language.CHINESE


@pytest.mark.parametrize("text, language", [
    ("推荐一部九十年代的喜剧电影", ZH), ("类似Fargo的电影", ZH), ("来点像 Fargo 那样的片子", ZH),
    ("推薦一部喜劇", ZH), ("Toy Story 怎么样？", ZH), ("recommend a comedy from the 90s", EN),
    ("why the second one?", EN), ("I love 功夫 movies and westerns", EN),
    ("", None), ("👍", None), ("4", None), ("/feedback_positive{\"item_id\": \"1\"}", None),
    ("/affirm", None),
])
def test_a_message_is_in_the_language_most_of_it_is_written_in(text: str, language: Language | None) -> None:
    assert detect(text) == language


def test_a_message_without_language_keeps_the_conversation_then_the_platform_guess() -> None:
    assert of_message("👍", hint="zh-hans", previous="en") == EN
    assert of_message("👍", hint="zh-hans") == ZH
    assert of_message("/start", hint="en-GB") == EN
    assert of_message("你好", hint="en", previous="en") == ZH  # the message itself decides
    assert of_message("hello", previous="zh") == EN  # a person may switch
    assert of_message("42") == EN
    assert from_code("zh_TW") == ZH and from_code("pt-BR") is None and from_code(None) is None


@pytest.mark.parametrize("text, number", [
    ("四", 4), ("两", 2), ("十", 10), ("十五", 15), ("九十", 90), ("二十三", 23),
    ("九五", 95), ("零", 0), ("百", None), ("四五六七", 4567), ("十十", None),
    ("", None), ("4", None),
])
def test_chinese_numbers(text: str, number: int | None) -> None:
    assert chinese_number(text) == number

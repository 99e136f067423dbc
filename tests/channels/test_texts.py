"""The adapters' own texts, and an item of a reply rendered from its fields in its language."""

from __future__ import annotations

from channels.texts import TEXTS, item_line
from chatrec.contracts import ReplyItem
from chatrec.language import Language

FARGO = ReplyItem("275", "Fargo", 1996, ("Crime", "Drama"), position=2)


def test_an_item_reads_as_its_fields_in_english_and_chinese() -> None:
    assert item_line(FARGO, "en") == "2. Fargo (1996) — Crime, Drama"
    chinese = ReplyItem("275", "Fargo", 1996, ("犯罪", "剧情"), note="12个人打分，平均4.1/5。")
    assert item_line(chinese, "zh") == "Fargo (1996) — 犯罪、剧情。12个人打分，平均4.1/5。"
    assert item_line(ReplyItem("1", "Toy Story", note="Rated 4.1/5 by 2 people."), None) == \
        "Toy Story. Rated 4.1/5 by 2 people."


def test_the_channel_escapes_every_field_and_emphasises_the_title() -> None:
    tom = ReplyItem("7", "Tom & Jerry", 1992, ("<Kids>",), note="A & B", position=1)
    line = item_line(tom, "en", escape=lambda text: text.replace("&", "&amp;").replace("<", "&lt;"),
                     strong=lambda text: f"*{text}*")
    assert line == "1. *Tom &amp; Jerry* (1992) — &lt;Kids>. A &amp; B"


def test_every_text_is_in_both_languages() -> None:
    assert TEXTS[Language.ENGLISH].keys() == TEXTS[Language.CHINESE].keys()

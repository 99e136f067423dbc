"""Ordinal and rating expressions become what the actions need (years: tests/actions/test_years.py)."""

import pytest

from bot.components.normalise import ordinal_position, rating_value


@pytest.mark.parametrize("text, expected", [
    ("the first one", 1), ("first", 1), ("the second one", 2), ("2nd", 2), ("#3", 3),
    ("number 4", 4), ("the third", 3), ("the last one", -1), ("that last one", -1), ("one", 1),
])
def test_ordinals(text, expected):
    assert ordinal_position(text) == expected


def test_not_an_ordinal():
    assert ordinal_position("that one") is None  # "that one" is the last item discussed, not a position
    assert ordinal_position("whichever") is None


@pytest.mark.parametrize("text, expected", [
    ("5", 5.0), ("four", 4.0), ("4 out of 5", 4.0), ("3/5", 3.0), ("4.5", 4.5), ("8 out of 10", 4.0),
])
def test_ratings(text, expected):
    assert rating_value(text) == pytest.approx(expected)


def test_ratings_out_of_range_are_refused():
    assert rating_value("7") is None
    assert rating_value("great") is None


@pytest.mark.parametrize("text, expected", [
    ("第二部", 2), ("第一个", 1), ("第3部", 3), ("第三", 3), ("最后一个", -1), ("最后那部", -1),
    ("倒数第二个", -2), ("第十个", 10),
])
def test_chinese_ordinals(text, expected):
    assert ordinal_position(text) == expected


@pytest.mark.parametrize("text, expected", [("四", 4.0), ("两", 2.0), ("五", 5.0), ("4", 4.0), ("3.5", 3.5)])
def test_chinese_ratings(text, expected):
    assert rating_value(text) == pytest.approx(expected)


def test_chinese_ratings_out_of_range_are_refused():
    assert rating_value("八") is None
    assert rating_value("很好") is None

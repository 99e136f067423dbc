"""Constraints and tastes accept what a JSON task payload gives and reject nonsense clearly."""

import pytest

from recommender.domain.constraints import Constraints, Taste
from recommender.domain.errors import InvalidRequest


def test_lists_strings_and_numeric_strings_are_normalised():
    wanted = Constraints(genres=["comedy", " sci fi "], exclude_genres="horror", year_from="1990",
                         year_to=1999, similar_to=["Fargo"], exclude_items=None)
    assert wanted == Constraints(genres=("comedy", "sci fi"), exclude_genres=("horror",),
                                 year_from=1990, year_to=1999, similar_to=("Fargo",))
    assert (Taste(liked="toy story", genres=["animation"])
            == Taste(liked=("toy story",), genres=("animation",)))


def test_blank_values_are_dropped():
    assert Constraints(genres=["", "  "], year_from="") == Constraints()
    assert not Taste(liked=[""], genres=[])


@pytest.mark.parametrize("kwargs, message", [
    ({"year_from": "the nineties"}, "must be a year"),
    ({"year_to": 99999}, "not a plausible year"),
    ({"genres": 5}, "list of names"),
    ({"similar_to": [1, 2]}, "list of names"),
])
def test_nonsense_is_a_clear_error(kwargs, message):
    with pytest.raises(InvalidRequest, match=message):
        Constraints(**kwargs)


def test_describe_says_what_was_asked():
    assert Constraints().describe() == "no constraints"
    assert Constraints(genres=("Comedy", "Sci-Fi"), year_from=1990, year_to=1999).describe() == \
        "Comedy and Sci-Fi, from 1990-1999"
    assert Constraints(exclude_genres=("Horror",), year_from=2000).describe() == \
        "not Horror, from 2000 or later"
    assert Constraints(year_to=1960, similar_to=("Fargo",)).describe() == \
        "from 1960 or earlier, similar to Fargo"

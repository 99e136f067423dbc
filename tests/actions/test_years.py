"""Year expressions on two catalogs: MovieLens (films of 1922-1998) and products (2015-2023)."""

import pytest

from actions.years import outside, year_range

MOVIELENS, PRODUCTS = (1922, 1998), (2015, 2023)

CASES = [
    # text,                        MovieLens,      products
    ("since 1990",                 (1990, 1998),   (1990, 2023)),
    ("from 2016 onwards",          (2016, 2016),   (2016, 2023)),
    ("1995 or later",              (1995, 1998),   (1995, 2023)),
    ("after 1995",                 (1996, 1998),   (1996, 2023)),
    ("newer than 1995",            (1996, 1998),   (1996, 2023)),
    ("after 2019",                 (2020, 2020),   (2020, 2023)),
    ("before 1980",                (1922, 1979),   (1979, 1979)),
    ("older than 2020",            (1922, 2019),   (2015, 2019)),
    ("until 1990",                 (1922, 1990),   (1990, 1990)),
    ("between 1995 and 1990",      (1990, 1995),   (1990, 1995)),
    ("from 1990 to 1995",          (1990, 1995),   (1990, 1995)),
    ("1980-1985",                  (1980, 1985),   (1980, 1985)),
    ("the 80s",                    (1980, 1989),   (1980, 1989)),
    ("the '80s",                   (1980, 1989),   (1980, 1989)),
    ("eighties",                   (1980, 1989),   (1980, 1989)),
    ("the 1980s",                  (1980, 1989),   (1980, 1989)),
    ("the 20s",                    (1920, 1929),   (2020, 2029)),
    ("the late 80s",               (1986, 1989),   (1986, 1989)),
    ("1995",                       (1995, 1995),   (1995, 1995)),
    ("from 1995",                  (1995, 1995),   (1995, 1995)),
    ("90s",                        (1990, 1999),   (1990, 1999)),
    ("80's",                       (1980, 1989),   (1980, 1989)),
    ("1990 to 1985",               (1985, 1990),   (1985, 1990)),
    ("'95",                        (1995, 1995),   (1995, 1995)),
    ("'05",                        (2005, 2005),   (2005, 2005)),
    ("'18",                        (1918, 1918),   (2018, 2018)),
    ("recent",                     (1994, 1998),   (2019, 2023)),
    ("the latest",                 (1994, 1998),   (2019, 2023)),
    ("new",                        (1994, 1998),   (2019, 2023)),
    ("classic",                    (1922, 1947),   (2015, 2020)),
]


@pytest.mark.parametrize("text,movielens,products", CASES)
def test_year_expressions_on_both_catalogs(text, movielens, products):
    assert year_range(text, *MOVIELENS) == movielens
    assert year_range(text, *PRODUCTS) == products


def test_not_a_year():
    assert year_range("a comedy", *MOVIELENS) is None


def test_ranges_outside_the_catalog_are_named():
    assert outside((2020, 2020), *MOVIELENS) == "newest"
    assert outside((1980, 1989), *PRODUCTS) == "oldest"
    assert outside((1990, 2030), *MOVIELENS) is None

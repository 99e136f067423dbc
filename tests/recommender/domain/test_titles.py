"""Title and genre lookup tolerate case, articles, punctuation, years and typos."""

import pytest

from recommender.domain.titles import GenreVocabulary, TitleIndex, title_key


@pytest.fixture(scope="module")
def titles(recommender) -> TitleIndex:
    return recommender.titles


def test_title_key_normalises_articles_years_case_and_accents():
    assert title_key("Godfather, The (1972)") == "godfather"
    assert title_key("the godfather") == "godfather"
    assert title_key("Misérables, Les") == "miserables"
    assert title_key("  STAR WARS!!  ") == "star wars"
    assert title_key("") == ""


@pytest.mark.parametrize("typed, expected_id", [
    ("the godfather", "127"),           # leading article, lower case
    ("Godfather, The", "127"),          # catalog form
    ("godfathr", "127"),                # typo
    ("star wars", "50"),
    ("Star Wars (1977)", "50"),
    ("Toy Story (1995)", "1"),          # year in brackets
    ("toy story", "1"),
    ("TOY STORY", "1"),
    ("fargo", "100"),
    ("Fargo.", "100"),                  # punctuation
    ("the empire strikes back", "172"),
    ("empire strikes bak", "172"),      # typo at the end
    ("les miserables", "543"),          # accents and a French article
    ("Double Life of Veronique", "1005"),  # alternative title in brackets
])
def test_finds_the_item(titles, typed, expected_id):
    assert titles.find(typed).id == expected_id


def test_godfather_prefers_the_exact_title_over_the_sequel(titles):
    matches = titles.search("godfather", limit=3)
    assert [m.item.id for m in matches[:2]] == ["127", "187"]
    assert matches[0].score == 100


def test_unknown_or_empty_titles_find_nothing(titles):
    assert titles.find("qwertyuiop zxcv") is None
    assert titles.search("") == []
    assert titles.search("!!!") == []


@pytest.fixture(scope="module")
def genres(recommender) -> GenreVocabulary:
    return recommender.genres


@pytest.mark.parametrize("typed, genre", [
    ("sci fi", "Sci-Fi"), ("sci-fi", "Sci-Fi"), ("scifi", "Sci-Fi"), ("Science Fiction", "Sci-Fi"),
    ("comedy", "Comedy"), ("comedies", "Comedy"), ("funny", "Comedy"), ("comdy", "Comedy"),
    ("horror", "Horror"), ("scary", "Horror"), ("thrillers", "Thriller"),
    ("romantic", "Romance"), ("animated", "Animation"), ("kids", "Children's"),
    ("film noir", "Film-Noir"), ("noir", "Film-Noir"), ("westerns", "Western"),
    ("documentaries", "Documentary"),
])
def test_genre_words_map_to_catalog_genres(genres, typed, genre):
    assert genres.find(typed) == genre


def test_unknown_genre_words_map_to_nothing(genres):
    assert genres.find("spreadsheet") is None
    assert genres.find("") is None


def test_synonyms_for_genres_the_catalog_lacks_are_ignored():
    vocabulary = GenreVocabulary(["Kitchen"], {"sci fi": "Sci-Fi", "cooking": "Kitchen"})
    assert vocabulary.find("cooking") == "Kitchen"
    assert vocabulary.find("sci fi") is None


def test_short_common_words_do_not_match_every_title(titles):
    for word in ("it", "the", "a"):
        assert titles.search(word) == []


def test_a_partial_title_finds_the_titles_containing_it(titles):
    found = {m.item.id for m in titles.search("star trek", limit=10)}
    assert {"222", "230", "227"} <= found  # First Contact, The Wrath of Khan, VI

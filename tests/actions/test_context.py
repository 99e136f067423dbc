"""Reading the conversation: request refinement and item references, on real rasa_sdk trackers."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions import context


def tracker(text: str, entities: list[dict] = (), intent: str = "request_recommendation",
            **slots: object) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": list(entities),
              "message_id": "m1"}
    return Tracker("tester", slots, latest, [{"event": "user", "timestamp": 1.0, "parse_data": latest}],
                   False, None, None, "action_listen")


def genre(value: str) -> dict:
    return {"entity": "genre", "value": value}


MOVIELENS = {"first_year": 1922, "last_year": 1998}


def year(text: str, words: str) -> dict:
    """A year entity covering `words` of `text`."""
    start = text.index(words)
    return {"entity": "year", "value": words, "start": start, "end": start + len(words)}


def ordinal(position: int) -> dict:
    return {"entity": "ordinal", "value": "x", "normalised": {"position": position}}


SHOWN = [{"id": "10", "title": "A (1990)"}, {"id": "20", "title": "B (1991)"},
         {"id": "30", "title": "C (1992)"}]


def test_new_kinds_of_constraint_are_added() -> None:
    request = context.updated_request(tracker("from the 90s", [year("from the 90s", "the 90s")],
                                              constraints={"genres": ["Comedy"]}), MOVIELENS)
    assert request["genres"] == ["Comedy"] and (request["year_from"], request["year_to"]) == (1990, 1999)
    request = context.updated_request(tracker("like Fargo", [{"entity": "title", "value": "Fargo"}],
                                              constraints=request), MOVIELENS)
    assert request["similar_to"] == ["Fargo"] and request["genres"] == ["Comedy"]


def test_a_new_genre_replaces_the_old_unless_it_is_added() -> None:
    before = {"genres": ["Comedy"]}
    assert context.updated_request(tracker("a horror", [genre("Horror")], constraints=before),
                                   MOVIELENS)["genres"] == ["Horror"]
    added = context.updated_request(tracker("also romantic", [genre("Romance")], constraints=before),
                                    MOVIELENS)
    assert added["genres"] == ["Comedy", "Romance"]


def test_a_bound_left_outside_the_year_entity_still_counts() -> None:
    text = "a horror movie newer than 1995"
    request = context.updated_request(tracker(text, [year(text, "1995")]), MOVIELENS)
    assert (request["year_from"], request["year_to"]) == (1996, 1998)
    text = "since 1990 please"
    request = context.updated_request(tracker(text, [year(text, "1990")]), MOVIELENS)
    assert (request["year_from"], request["year_to"]) == (1990, 1998)


def test_item_references_in_order_of_precedence() -> None:
    assert context.item_reference(tracker("x", [{"entity": "item_id", "value": "20"}], last_list=SHOWN)) == \
        context.ItemReference("20", "B (1991)")
    assert context.item_reference(tracker("why fargo", [{"entity": "title", "value": "fargo"}],
                                          last_list=SHOWN)).reference == "fargo"
    assert context.item_reference(tracker("the second", [ordinal(2)], last_list=SHOWN)).reference == "20"
    assert context.item_reference(tracker("the last", [ordinal(-1)], last_list=SHOWN)).reference == "30"
    assert context.item_reference(tracker("the ninth", [ordinal(9)], last_list=SHOWN)) is None
    assert context.item_reference(tracker("that one", last_list=SHOWN,
                                          last_item={"id": "7", "title": "G"})).reference == "7"
    assert context.item_reference(tracker("that one", last_list=SHOWN)) is None  # ambiguous


def test_item_pairs_for_comparison() -> None:
    titles = [{"entity": "title", "value": "Fargo"}, {"entity": "title", "value": "Heat"}]
    assert context.item_pair(tracker("Fargo or Heat", titles)) == ("Fargo", "Heat")
    assert context.item_pair(tracker("first or third", [ordinal(1), ordinal(3)],
                                     last_list=SHOWN)) == ("10", "30")
    assert context.item_pair(tracker("or Heat?", titles[1:],
                                     last_item={"id": "7", "title": "G"})) == ("7", "Heat")
    assert context.item_pair(tracker("compare", [])) is None


def test_negative_tastes() -> None:
    assert context.is_negative("I don't like musicals")
    assert context.is_negative("i hate horror")
    assert not context.is_negative("I love westerns")


def test_message_id_is_stable() -> None:
    assert context.message_id(tracker("hi")) == "m1"


def spanned(text: str, words: str, value: str) -> dict:
    start = text.index(words)
    return {"entity": "genre", "value": value, "start": start, "end": start + len(words)}


def test_how_a_genre_was_stated_is_kept() -> None:
    text = "I really love westerns and I'm into comedies"
    said = tracker(text, [spanned(text, "westerns", "Western"), spanned(text, "comedies", "Comedy")],
                   intent="inform_preference")
    assert context.liking_phrases(said) == {"Western": "love westerns", "Comedy": "are into comedies"}
    noted = context.noted_genres(said, ["Western", "Comedy"])
    assert noted == {"liked_genres": ["Western", "Comedy"],
                     "genre_phrases": {"Western": "love westerns", "Comedy": "are into comedies"}}
    # later, "I like dramas": the earlier phrases stay, the new genre gets its own
    later = tracker("I like dramas", [spanned("I like dramas", "dramas", "Drama")],
                    intent="inform_preference",
                    liked_genres=noted["liked_genres"], genre_phrases=noted["genre_phrases"])
    assert context.noted_genres(later, ["Drama"])["genre_phrases"] == {
        "Western": "love westerns", "Comedy": "are into comedies", "Drama": "like dramas"}
    assert context.stated_genres(later) == {"genres": ["Western", "Comedy"],
                                            "genre_phrases": {"Western": "love westerns",
                                                              "Comedy": "are into comedies"}}


def test_a_genre_cut_short_by_the_nlu_is_widened_to_one_the_catalog_knows() -> None:
    text = "a film noir from 1998"
    cut = {"entity": "genre", "value": "film", "start": 2, "end": 6}
    vocabulary = {**MOVIELENS, "genre_phrases": ["film-noir", "comedy", "sci-fi"]}
    assert context.updated_request(tracker(text, [cut]), vocabulary)["genres"] == ["film noir"]
    whole = {"entity": "genre", "value": "Comedy", "start": 2, "end": 8}
    assert context.updated_request(tracker("a comedy noir", [whole]), vocabulary)["genres"] == ["Comedy"]


def test_a_genre_said_with_a_negation_is_excluded_from_the_request() -> None:
    def entity(text: str, words: str) -> dict:
        start = text.index(words)
        return {"entity": "genre", "value": words, "start": start, "end": start + len(words)}

    for text, wanted, unwanted in (("a comedy but not a romance", "comedy", "romance"),
                                   ("recommend something with no horror", None, "horror"),
                                   ("推荐喜剧，不要恐怖片", "喜剧", "恐怖片")):
        found = [entity(text, word) for word in (wanted, unwanted) if word]
        request = context.updated_request(tracker(text, found, constraints={"genres": [unwanted]}), MOVIELENS)
        assert request["exclude_genres"] == [unwanted] and unwanted not in request["genres"], text
        assert request["genres"] == ([wanted] if wanted else []), text
    special = "来部特别的恐怖片"
    request = context.updated_request(tracker(special, [entity(special, "恐怖片")]), MOVIELENS)
    assert request["genres"] == ["恐怖片"] and request["exclude_genres"] == []

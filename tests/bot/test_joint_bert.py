"""Tag alignment and span decoding, on tricky input, without training."""

import pytest

from bot.components.joint_bert import OUTSIDE, bio_tags, spans


def test_bio_tags_follow_word_pieces_and_skip_special_tokens():
    # "[CLS] a sci - fi film [SEP]" with offsets into "a sci-fi film"
    offsets = [(0, 0), (0, 1), (2, 5), (5, 6), (6, 8), (9, 13), (0, 0)]
    assert bio_tags(offsets, [(2, 8, "genre")]) == [None, OUTSIDE, "B-genre", "I-genre", "I-genre", OUTSIDE, None]


def test_repeated_words_get_separate_entities():
    text = "comedy or comedy"
    offsets = [(0, 6), (7, 9), (10, 16)]
    assert bio_tags(offsets, [(0, 6, "genre"), (10, 16, "genre")]) == ["B-genre", OUTSIDE, "B-genre"]
    found = spans(text, offsets, ["B-genre", OUTSIDE, "B-genre"], [0.9, 0.9, 0.8])
    assert [(e["start"], e["end"], e["value"]) for e in found] == [(0, 6, "comedy"), (10, 16, "comedy")]


def test_spans_give_exact_character_offsets_with_punctuation_and_a_title_at_the_end():
    text = "hmm, something like the godfather"
    offsets = [(0, 3), (3, 4), (5, 14), (15, 19), (20, 23), (24, 27), (27, 33)]
    tags = [OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE, "B-title", "I-title", "I-title"]
    (entity,) = spans(text, offsets, tags, [1.0] * 7)
    assert (entity["start"], entity["end"], entity["value"], entity["entity"]) == (20, 33, "the godfather", "title")


def test_a_tagged_word_piece_widens_to_the_whole_word():
    text = "why godfathr?"
    offsets = [(0, 3), (4, 7), (7, 10), (10, 12), (12, 13)]
    (entity,) = spans(text, offsets, [OUTSIDE, OUTSIDE, "B-title", OUTSIDE, OUTSIDE], [0.7] * 5)
    assert entity["value"] == "godfathr" and (entity["start"], entity["end"]) == (4, 12)


def test_adjacent_entities_of_different_types_stay_apart():
    text = "sci-fi 1995"
    offsets = [(0, 3), (3, 4), (4, 6), (7, 11)]
    found = spans(text, offsets, ["B-genre", "I-genre", "I-genre", "B-year"], [0.9] * 4)
    assert [(e["value"], e["entity"]) for e in found] == [("sci-fi", "genre"), ("1995", "year")]
    assert found[0]["confidence"] == pytest.approx(0.9)


def test_a_hyphenated_word_is_never_cut():
    text = "a sci-fi film"
    offsets = [(0, 1), (2, 5), (5, 6), (6, 8), (9, 13)]
    (entity,) = spans(text, offsets, [OUTSIDE, "B-genre", OUTSIDE, OUTSIDE, OUTSIDE], [0.5] * 5)
    assert entity["value"] == "sci-fi"
    (year,) = spans("the 80's", [(0, 3), (4, 6), (6, 7), (7, 8)], ["B-year", "I-year", OUTSIDE, OUTSIDE], [0.5] * 4)
    assert year["value"] == "the 80's"

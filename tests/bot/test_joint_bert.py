"""Tag alignment and span decoding, on tricky input, without training."""

import pytest
import torch

from bot.components.joint_bert import OUTSIDE, bio_tags, core_offsets, sortish_batches, spans


def test_bio_tags_follow_word_pieces_and_skip_special_tokens():
    # "[CLS] a sci - fi film [SEP]" with offsets into "a sci-fi film"
    offsets = [(0, 0), (0, 1), (2, 5), (5, 6), (6, 8), (9, 13), (0, 0)]
    assert bio_tags(offsets, [(2, 8, "genre")]) == [
        None, OUTSIDE, "B-genre", "I-genre", "I-genre", OUTSIDE, None]


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
    assert (entity["start"], entity["end"], entity["value"], entity["entity"]) == (
        20, 33, "the godfather", "title")


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
    (year,) = spans("the 80's", [(0, 3), (4, 6), (6, 7), (7, 8)], ["B-year", "I-year", OUTSIDE, OUTSIDE],
                    [0.5] * 4)
    assert year["value"] == "the 80's"


def test_a_span_in_chinese_text_is_never_widened_over_neighbouring_characters():
    text = "推荐一部九十年代的喜剧电影"
    # XLM-R pieces: ▁ 推荐 一部 九十 年代 的 喜 剧 电影
    offsets = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 9), (9, 10), (10, 11), (11, 13)]
    tags = [OUTSIDE, OUTSIDE, "B-year", "I-year", OUTSIDE, "B-genre", "I-genre", OUTSIDE]
    found = spans(text, offsets, tags, [0.9] * 8)
    assert [(e["value"], e["entity"]) for e in found] == [("九十年代", "year"), ("喜剧", "genre")]
    (title,) = spans("类似Fargo的电影", [(0, 2), (2, 4), (4, 5), (5, 6), (6, 8)],
                     [OUTSIDE, "B-title", OUTSIDE, OUTSIDE, OUTSIDE], [0.8] * 5)
    assert title["value"] == "Fargo"  # widened over the Latin word only


def test_particles_and_units_glued_to_a_piece_are_left_out_of_entities():
    text = "来一部1995年的电影，我给五星"
    # pieces: 来 一部 1995 年的 电影 , 我 给 五星
    offsets = [(0, 1), (1, 3), (3, 7), (7, 9), (9, 11), (11, 12), (12, 13), (13, 14), (14, 16)]
    cores = core_offsets(text, offsets)
    assert cores[3] == (7, 8) and cores[8] == (14, 15)  # "年的" -> "年", "五星" -> "五"
    assert bio_tags(cores, [(3, 8, "year"), (14, 15, "rating")])[2:5] == ["B-year", "I-year", OUTSIDE]
    tags = [OUTSIDE, OUTSIDE, "B-year", "I-year", OUTSIDE, OUTSIDE, OUTSIDE, OUTSIDE, "B-rating"]
    assert [e["value"] for e in spans(text, cores, tags, [0.9] * 9)] == ["1995年", "五"]
    (start, end), = core_offsets("的", [(0, 1)])
    assert start == end  # a piece of particles only: like a special token


def test_sortish_batches_cover_every_example_once_with_similar_lengths_together():
    lengths = torch.tensor([3, 30, 4, 31, 5, 29, 6, 32] * 10)
    batches = sortish_batches(lengths, 4, torch.Generator().manual_seed(0), pool=20)
    assert sorted(torch.cat(batches).tolist()) == list(range(80))
    spread = [int(lengths[b].max() - lengths[b].min()) for b in batches]
    assert max(spread) <= 3  # short and long never share a batch


def test_loading_an_encoder_prints_no_library_tables_or_bars(capsys, caplog):
    """MiniLM's folder carries pooler weights we do not use: transformers would print its
    LOAD REPORT table and a progress bar at every start."""
    from bot.components.joint_bert import JointBert

    model = JointBert(["greet", "bye"], ["genre"], encoder="all-minilm-l6-v2")
    captured = capsys.readouterr()
    assert model.layers == 6
    assert "LOAD REPORT" not in captured.err + captured.out + caplog.text
    assert "Loading weights" not in captured.err + captured.out

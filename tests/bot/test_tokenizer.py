"""Rasa's tokens for mixed Chinese and English text: every annotated span falls on token boundaries."""

from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.tokenizer import WhitespaceHanTokenizer


def tokens(text: str) -> list[tuple[str, int, int]]:
    message = Message(data={TEXT: text})
    WhitespaceHanTokenizer(WhitespaceHanTokenizer.get_default_config()).process([message])
    return [(t.text, t.start, t.end) for t in message.get(TOKENS_NAMES[TEXT])]


def test_each_chinese_character_is_a_token_and_spaced_words_stay_whole():
    assert [t for t, _, _ in tokens("类似Fargo的电影，要好笑！")] == [
        "类", "似", "Fargo", "的", "电", "影", "，", "要", "好", "笑", "！"]
    assert tokens("给它打4分") == [("给", 0, 1), ("它", 1, 2), ("打", 2, 3), ("4", 3, 4), ("分", 4, 5)]
    assert [t for t, _, _ in tokens("don't recommend a sci-fi movie, 4.5/5")] == [
        "don't", "recommend", "a", "sci", "-", "fi", "movie", ",", "4.5", "/", "5"]
    assert [t for t, _, _ in tokens("Terminator 2PK")] == ["Terminator", "2", "PK"]


def test_annotated_chinese_spans_fall_on_token_boundaries():
    text = "推荐一部九十年代的喜剧电影"
    found = tokens(text)
    starts, ends = {start for _, start, _ in found}, {end for _, _, end in found}
    for span in ("九十年代", "喜剧"):
        start = text.index(span)
        assert start in starts and start + len(span) in ends


def misaligned(path: str, tokenizer) -> list[str]:
    """Rasa's 'Misaligned entity annotation' warnings for a data file under `tokenizer`."""
    import warnings

    from rasa.nlu.extractors.extractor import EntityExtractorMixin
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(path)
    tokenizer.process_training_data(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EntityExtractorMixin.check_correct_entity_annotations(data)
    return [str(w.message) for w in caught if "Misaligned" in str(w.message)]


def test_every_chinese_annotation_is_aligned_where_whitespace_tokens_misalign_them():
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    from launcher.stack import BOT

    ours = WhitespaceHanTokenizer(WhitespaceHanTokenizer.get_default_config())
    for path in (BOT / "data" / "nlu_zh.yml", BOT / "tests" / "nlu_heldout_zh.yml", BOT / "data" / "nlu.yml"):
        assert misaligned(str(path), ours) == [], path
    rasas = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    assert len(misaligned(str(BOT / "tests" / "nlu_heldout_zh.yml"), rasas)) > 100

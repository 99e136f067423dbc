"""The helpers every benchmark and report uses: one percentile definition, docs sections."""

from __future__ import annotations

import pytest

from chatrec.reports import percentile, write_section


def test_percentiles_interpolate_between_measurements() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # any order
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0 and percentile([], 95) == 0.0


def test_a_section_is_replaced_and_the_others_kept(tmp_path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_section(doc, "a", "A", "first")
    write_section(doc, "b", "B", "other")
    write_section(doc, "a", "A", "second")
    text = doc.read_text()
    assert "second" in text and "first" not in text and "other" in text
    assert text.index("## A") < text.index("## B")

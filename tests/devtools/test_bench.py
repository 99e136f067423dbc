"""The benchmark's pieces work (its numbers are reported by `make bench`, not asserted here)."""

import time

import numpy as np

from devtools import bench


def test_latency_summarises_every_call():
    seen = []

    def call(i: int) -> None:  # every tenth call takes at least 20 ms
        seen.append(i)
        if i % 10 == 9:
            time.sleep(0.02)

    result = bench.latency(call, calls=50)
    assert result["calls"] == 50 and len(seen) == 60  # 10 warm-up calls
    assert result["p99_ms"] >= 20 > result["p50_ms"], "the slow tenth shows in p99, not in the median"


def test_synthetic_data_has_power_law_popularity():
    dataset = bench.synthetic_dataset(users=2000, items=1000, interactions=20_000, genres=5)
    counts = sorted(np.bincount(dataset.interactions.items, minlength=1000))
    assert len(dataset.users) == 2000 and len(dataset.catalog) == 1000
    assert counts[-1] > 20 * max(counts[len(counts) // 2], 1)  # the head dwarfs the median item


def test_scale_part_runs_end_to_end_on_a_small_size(tmp_path):
    small = {"users": 400, "items": 200, "interactions": 5_000, "genres": 5, "epochs": 1}
    result = bench.scale_part(small)
    assert len(result["epoch_seconds"]) == 1 and result["peak_rss_mb"] > 0
    assert result["latency"]["recommend(user, 10)"]["calls"] == bench.CALLS
    assert result["latency"]["recommend(user + 3 session likes, 10)"]["calls"] == bench.CALLS
    assert result["serving_seconds"] > 0


def test_render_and_write_keep_other_sections(tmp_path):
    ml = {"params": {"epochs": 3, "no_components": 8}, "ratings": 10, "users": 2, "items": 5,
          "threads": 1, "fit_seconds": 1.0, "fit_seconds_per_epoch": 0.33, "peak_rss_mb": 100.0,
          "latency": {"recommend(user, 10)": {"p50_ms": 1.0, "p99_ms": 2.0, "mean_ms": 1.1, "calls": 5}}}
    text = bench.render(ml, None, "test machine")
    assert "test machine" in text and "recommend(user, 10)" in text
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Celery\n\nkeep me\n")
    bench.write_section(doc, "recommender-bench", "Recommender", text)
    bench.write_section(doc, "recommender-bench", "Recommender", text.replace("test machine", "second run"))
    written = doc.read_text()
    assert "keep me" in written and "second run" in written and "test machine" not in written
    assert written.count("<!-- recommender-bench:start -->") == 1


def test_synthetic_data_has_exactly_the_distinct_pairs_asked_for():
    dataset = bench.synthetic_dataset(users=200, items=100, interactions=3_000, genres=4)
    inter = dataset.interactions
    pairs = set(zip(inter.users.tolist(), inter.items.tolist()))
    assert len(inter) == len(pairs) == 3_000

"""The tracker-store part of `make bench-chat`, on a short run (the load part needs the trained bot)."""

from devtools.bench_chat import bench_tracker_store


def test_tracker_store_bench_times_both_stores_on_the_same_conversation(tmp_path):
    (row,) = bench_tracker_store(tmp_path, lengths=(3,), repeats=2)
    turns, events, rasas, ours, ratio = row
    assert (turns, events) == (3, 1 + 3 * 10)
    assert float(rasas) > 0 and float(ours) > 0 and ratio.endswith("×")

"""The simulated-user loop records real feedback and uses it in the next round."""

import json

import numpy as np
import pytest

from recommender.domain.constraints import Taste
from recommender.evaluation import metrics as evaluation
from recommender.experiments import simulation
from recommender.storage.feedback import FeedbackStore


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'sim.sqlite3'}")
    store.migrate()
    return store


def test_the_loop_records_feedback_and_never_repeats(recommender, store):
    hidden = {"50", "172", "181", "1", "100", "127", "98", "174"}
    hits = simulation._rounds(recommender, simulation.StoredFeedback(store, "sim:1"), Taste(user="196"), hidden)
    events = store.export("sim:1")["events"]
    assert len(hits) == simulation.ROUNDS and all(0 <= h <= simulation.K for h in hits)
    assert len(events) == simulation.ROUNDS * simulation.K
    items = [e["item_id"] for e in events]
    assert len(set(items)) == len(items)  # nothing shown twice
    assert all((e["kind"] == "like") == (e["item_id"] in hidden) for e in events)
    assert sum(e["kind"] == "like" for e in events) == sum(hits)


def test_the_static_baseline_stores_nothing(recommender, store):
    hits = simulation._rounds(recommender, None, Taste(genres=("comedy",)), {"1"})
    assert len(hits) == simulation.ROUNDS and store.export("sim:2")["stored"] is False


def test_the_memory_feedback_means_what_the_store_means(recommender, store):
    hidden = {"50", "172", "181", "1", "100", "127", "98", "174"}
    stored = simulation._rounds(recommender, simulation.StoredFeedback(store, "sim:3"), Taste(user="196"), hidden)
    memory = simulation._rounds(recommender, simulation.MemoryFeedback(), Taste(user="196"), hidden)
    assert stored == memory


def test_group_summary_table_and_json(recommender, store, tmp_path):
    people = [(f"sim:{u}", Taste(user=u), {"50", "100"}) for u in ("196", "186", "22")]
    group = simulation._group(recommender, store, people, "test")
    assert group["users"] == 3
    for side in simulation.ARMS:
        assert len(group[side]["precision"]) == simulation.ROUNDS
    static = np.array([simulation._rounds(recommender, None, start, hidden) for _, start, hidden in people])
    assert group["static"]["hit_rate"] == pytest.approx((static > 0).mean(axis=0).tolist())
    assert group["static"]["precision"] == pytest.approx((static / simulation.K).mean(axis=0).tolist())
    # each group and arm stores its own feedback, under its own identities
    assert store.export("test:rerank_only:sim:196")["stored"] and store.export("test:loop:sim:196")["stored"]
    assert not store.export("test:static:sim:196")["stored"]
    row = {"stated_genre": 1.0, "said_similarity": 0.0, "said_corating": 0.2, "rejected_genre": 0.5,
           "update_steps": 0, "update_learning_rate": 0.0, "loop": {g: 0.2 for g in simulation.GROUPS},
           "ratio": {g: 1.0 for g in simulation.GROUPS}}
    validation = {"genre": [], "static": {g: 0.2 for g in simulation.GROUPS}, "loop": [row],
                  "chosen": {"stated_genre": 1.0}}
    bound = {"hits_added": 7, "static": [0.2, 0.1], "retrained": [0.2, 0.2]}
    results = {"known": group, "known_latest": group, "new": group, "weights": {"stated_genre": 1.0},
               "validation": validation, "retrain_bound": bound}
    text = simulation.render(results, "test machine")
    assert "re-rank only P@5" in text and "round 3" in text
    assert "all 7 round-1 hits" in text and "P@5 0.200 in rounds 2-3, against 0.150" in text
    simulation.write_json(results, tmp_path / "simulation.json")
    report = json.loads((tmp_path / "simulation.json").read_text())
    for name in ("known_users", "known_latest_users", "new_users"):
        assert set(simulation.ARMS) <= set(report[name])
        assert report[name]["loop"] == group["loop"]["precision"]
    assert report["known_users_retrain_bound"] == bound
    assert [t["group"] for t in report["targets"]] == ["known_latest", "new", "known"]
    assert [t["target"] for t in report["targets"]] == [1.05, 1.15, 1.0]
    assert all(t["met"] == (t["loop_x_static"] >= t["target"]) for t in report["targets"])


def _row(**ratios: float) -> dict:
    return {"ratio": ratios}


def test_the_chosen_weights_make_no_group_worse_when_some_setting_can():
    bold = _row(known=0.95, known_latest=1.3, new=1.2)  # the largest sum, but known users lose
    harmless = _row(known=1.0, known_latest=1.1, new=1.15)
    timid = _row(known=1.01, known_latest=1.0, new=1.0)
    assert simulation.choose([bold, harmless, timid]) is harmless
    assert simulation.choose([bold]) is bold  # nothing harmless: the largest gain


def test_latest_split_holds_out_each_users_latest_ratings(movielens):
    earlier, latest = evaluation.latest_split(movielens.interactions, 0.2)
    assert len(earlier) + len(latest) == len(movielens.interactions)
    for user in (0, 5, 100):
        first, last = earlier.timestamps[earlier.users == user], latest.timestamps[latest.users == user]
        assert len(last) >= 0.2 * (len(first) + len(last)) - 1 and first.max() <= last.min()

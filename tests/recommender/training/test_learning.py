"""When the model learns: the trigger, the lease and the watermark in the feedback
database (SQLite and PostgreSQL), and a gate that cannot drift."""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest

from chatrec.settings import environment
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.training import learning, retraining
from recommender.training.learning import LEASE_SECONDS, REQUEST_SECONDS, Learning
from tests.recommender.conftest import promote_tiny_version


def likes(store: FeedbackStore, person: str, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        store.record(person, "like", str(i + 1), f"like-{i}")


def test_impressions_never_trigger(store):
    state = Learning(store)
    store.record_many("telegram:1", [("shown", str(i), f"s{i}", None) for i in range(1, 200)])
    assert not state.claim_request(retrain_after=3)
    likes(store, "telegram:1", 3)
    assert state.claim_request(retrain_after=3)


def test_one_caller_queues_it_and_a_stale_request_can_be_claimed_again(store):
    state = Learning(store)
    likes(store, "telegram:1", 5)
    now = time.time()
    claims = []
    threads = [threading.Thread(target=lambda: claims.append(state.claim_request(5, now))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claims.count(True) == 1
    assert not state.claim_request(5, now + 1)  # queued, not run yet
    assert state.claim_request(5, now + REQUEST_SECONDS + 1)  # never served (learning worker down): again


def test_a_finished_retrain_rearms_only_after_another_batch(store):
    state = Learning(store)
    likes(store, "telegram:1", 4)
    assert state.claim_request(4)
    state.finish(store.last_event_id())  # promoted or rejected: the same
    assert state.pending() == 0 and not state.claim_request(4)
    likes(store, "telegram:1", 3, start=10)
    assert not state.claim_request(4)
    likes(store, "telegram:1", 1, start=20)
    assert state.claim_request(4)


def test_a_fresh_database_counts_its_own_events(tmp_path, store):
    """No id is remembered in the model folder: a new database triggers after its own N events."""
    likes(store, "telegram:1", 50)
    Learning(store).finish(store.last_event_id())
    fresh = FeedbackStore(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    fresh.migrate()
    likes(fresh, "telegram:2", 3)
    assert Learning(fresh).claim_request(3)


def test_the_lease_is_single_flight_and_expires_when_its_holder_dies(store):
    state = Learning(store)
    with state.lease("worker-a") as held:
        assert held and state.holder() == "worker-a"
        with state.lease("worker-b") as second:
            assert not second
    assert state.holder() is None
    # a holder killed mid-retrain never releases: its lease runs out
    assert state._take("killed", time.time() - LEASE_SECONDS - 1)
    with state.lease("worker-b") as held:
        assert held


def test_the_lease_is_renewed_while_held(store, monkeypatch):
    monkeypatch.setattr(learning, "LEASE_SECONDS", 0.6)
    state = Learning(store)
    with state.lease("long-fit") as held:
        assert held
        time.sleep(1.5)  # longer than the lease: renewed by its thread
        with state.lease("other") as other:
            assert not other


def test_three_candidates_each_a_little_worse_cannot_drift_down():
    reference = served = 0.4760
    decisions = []
    for _ in range(3):
        candidate = served - 0.004
        promoted, why = retraining.gate(candidate, served, reference, tolerance=0.005)
        decisions.append(promoted)
        if promoted:
            served = candidate
    assert decisions == [True, False, False]
    assert served >= reference - 0.005
    assert "worse than reference 0.4760" in why


def test_retrain_gates_against_the_best_promoted_model(tmp_path, movielens, store):
    """The served model is a little worse than an earlier one: a candidate as good as the
    served model is still rejected, because it is worse than the reference."""
    models = tmp_path / "models"
    first = promote_tiny_version(models, movielens)
    with environment({"CHATREC_MODELS_DIR": str(models)}):
        folder = models / movielens.name
        best = folder / "00000000-best"  # an earlier, better version on the same split
        shutil.copytree(folder / first, best)
        meta = json.loads((best / "meta.json").read_text())
        meta["metrics"]["test"]["ndcg@5"] += 0.02
        (best / "meta.json").write_text(json.dumps(meta))
        store.record("telegram:1", "like", "50", "x")
        decision = retraining.retrain(movielens, store, threads=1)
        assert decision.reference_metric == pytest.approx(meta["metrics"]["test"]["ndcg@5"])
        assert decision.candidate_metric >= decision.current_metric - retraining.GATE_TOLERANCE
        assert not decision.promoted and "worse than reference" in decision.reason
        assert artifacts.current_version(movielens.name) == first


def test_retrain_uses_the_split_recorded_with_the_served_model(tmp_path, movielens, store):
    models = tmp_path / "models"
    first = promote_tiny_version(models, movielens)
    with environment({"CHATREC_MODELS_DIR": str(models)}):
        path = models / movielens.name / first / "meta.json"
        meta = json.loads(path.read_text())
        meta["split"] = {"kind": "random", "seed": 7, "test_fraction": 0.25}
        path.write_text(json.dumps(meta))
        store.record("telegram:1", "like", "50", "x")
        decision = retraining.retrain(movielens, store, threads=1, tolerance=1.0)
        # the only version measured on that split is the served one
        assert decision.promoted and decision.reference_metric == decision.current_metric
        assert artifacts.read_meta(movielens.name, decision.new_version)["split"] == meta["split"]


def test_retrain_when_due_skips_busy_and_nothing_new_and_moves_the_watermark(tmp_path, movielens, store):
    models = tmp_path / "models"
    first = promote_tiny_version(models, movielens)
    with environment({"CHATREC_MODELS_DIR": str(models)}):
        state = Learning(store)
        assert learning.retrain_when_due(store, movielens.name, "w1").reason == "nothing new"
        store.record("telegram:1", "like", "50", "x")
        with state.lease("someone-else"):
            assert learning.retrain_when_due(store, movielens.name, "w1").reason == "busy"
        outcome = learning.retrain_when_due(store, movielens.name, "w1")
        assert outcome.decision is not None and outcome.decision.current_version == first
        assert state.state().watermark == store.last_event_id() and state.pending() == 0
        assert state.state().requested_at is None and state.holder() is None

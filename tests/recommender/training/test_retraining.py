"""The learning loop: retrain on dataset + feedback, a gate that keeps worse models out, rollback."""

import json
import os
import subprocess
import sys

import pytest

from chatrec.settings import environment
from launcher.processes import ROOT
from recommender.domain.constraints import Taste
from recommender.model.hybrid import ModelParams
from recommender.serving.service import (
    WEIGHTS_SIMULATED,
    SessionWeights,
    default_weights_record,
    load_recommender,
    weights_record,
)
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.training import retraining
from tests.recommender.conftest import promote_tiny_version


@pytest.fixture
def models(tmp_path, movielens):
    folder = tmp_path / "models"
    first = promote_tiny_version(folder, movielens)
    with environment({"CHATREC_MODELS_DIR": str(folder)}):
        yield folder, first


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
    store.migrate()
    return store


def test_feedback_users_become_trained_users(models, movielens, store):
    folder, first = models
    for i, item in enumerate(["50", "172", "181", "1", "100"]):
        store.record("telegram:5", "like", item, f"l{i}")
    store.record("telegram:5", "dislike", "313", "d1")
    store.record("telegram:5", "shown", "7", "s1")
    decision = retraining.retrain(movielens, store, threads=1)
    assert decision.promoted and decision.current_version == first
    assert artifacts.current_version(movielens.name) == decision.new_version
    meta = artifacts.read_meta(movielens.name, decision.new_version)
    assert meta["feedback_events"] == 7 and meta["last_event_id"] == store.last_event_id()
    assert meta["previous_version"] == first and "ndcg@5" in meta["metrics"]["test"]
    # the first version carried no session weights: its successor records the defaults it served
    assert meta[artifacts.SESSION_WEIGHTS] == {**default_weights_record(), "inherited_from": first}

    served = load_recommender(movielens.name)
    chat_id = store.feedback("telegram:5").recommender_id
    assert served.model.user_ids[-1] == chat_id  # likes trained, dislikes and impressions not
    profile = served._profile(Taste(user=chat_id))
    assert profile.model_row == len(served.model.user_ids) - 1


def test_a_retrained_version_keeps_its_predecessors_session_weights(models, movielens, store):
    _, first = models
    chosen = SessionWeights(stated_genre=1.5, said_corating=0.3, update_steps=20, update_learning_rate=0.5)
    record = weights_record(chosen, WEIGHTS_SIMULATED, simulation={"seed": 42, "measured_version": first})
    simulated = artifacts.derive(movielens.name, first, {artifacts.SESSION_WEIGHTS: record})
    artifacts.promote(movielens.name, simulated)
    store.record("telegram:7", "like", "50", "l1")
    decision = retraining.retrain(movielens, store, threads=1)
    assert decision.promoted and decision.current_version == simulated
    meta = artifacts.read_meta(movielens.name, decision.new_version)
    assert meta[artifacts.SESSION_WEIGHTS] == {**record, "inherited_from": simulated}
    assert load_recommender(movielens.name).weights == chosen


def test_with_feedback_keeps_only_positive_feedback(movielens, store):
    store.record("a", "like", "50", "1")
    store.record("a", "rating", "100", "2", rating=4)
    store.record("a", "rating", "127", "3", rating=1)
    store.record("a", "dislike", "1", "4")
    store.record("a", "shown", "7", "5")
    store.record("b", "seen", "50", "6")
    merged = retraining.with_feedback(movielens, store.training_rows())
    assert len(merged.users) == len(movielens.users) + 2
    assert len(merged.interactions) == len(movielens.interactions) + 3
    extra = {(merged.users[u].id, merged.catalog.items[i].id)
             for u, i in zip(merged.interactions.users[-3:], merged.interactions.items[-3:])}
    a, b = store.feedback("a").recommender_id, store.feedback("b").recommender_id
    assert extra == {(a, "50"), (a, "100"), (b, "50")}


def test_a_rating_of_3_trains_as_a_positive_and_2_does_not(movielens, store):
    store.record("c", "rating", "50", "1", rating=3)  # "seen": watched, neither liked nor disliked
    store.record("c", "rating", "100", "2", rating=2)
    merged = retraining.with_feedback(movielens, store.training_rows())
    added = merged.interactions.items[len(movielens.interactions):]
    assert [merged.catalog.items[i].id for i in added] == ["50"]


def test_a_damaged_candidate_is_not_promoted(models, movielens, store):
    folder, first = models
    store.record("telegram:9", "like", "50", "x")
    damaged = ModelParams(no_components=2, epochs=1, learning_rate=0.0001, seed=1)
    decision = retraining.retrain(movielens, store, params=damaged, threads=1)
    assert not decision.promoted and decision.new_version is None
    assert decision.candidate_metric < decision.current_metric
    assert artifacts.current_version(movielens.name) == first
    lines = (folder / movielens.name / "decisions.jsonl").read_text().splitlines()
    logged = [json.loads(line) for line in lines]
    assert logged[-1]["promoted"] is False and "kept the served model" in logged[-1]["reason"]


def test_rollback_is_one_command(models, movielens, store):
    folder, first = models
    store.record("telegram:1", "like", "50", "x")
    second = retraining.retrain(movielens, store, threads=1).new_version
    assert artifacts.current_version(movielens.name) == second
    done = subprocess.run([sys.executable, "-m", "recommender", "rollback"], cwd=ROOT,
                          env={**os.environ, "CHATREC_MODELS_DIR": str(folder)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert first in done.stdout
    assert artifacts.current_version(movielens.name) == first


def test_retrain_needs_a_served_model(tmp_path, movielens, store):
    with environment({"CHATREC_MODELS_DIR": str(tmp_path / "empty")}):
        with pytest.raises(FileNotFoundError, match="make train"):
            retraining.retrain(movielens, store)
        with pytest.raises(FileNotFoundError, match="no earlier model version"):
            retraining.rollback(movielens.name)

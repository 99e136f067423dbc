"""Session weights are part of a model version: stored in its meta.json, served by whatever
loads it, the defaults only for a version that carries none."""

import pytest

from chatrec.settings import environment
from recommender.domain.constraints import Taste
from recommender.serving.service import (
    STORED_WEIGHTS,
    WEIGHTS_SIMULATED,
    SessionWeights,
    load_recommender,
    weights_of,
    weights_record,
)
from recommender.storage import artifacts

CHOSEN = SessionWeights(stated_genre=2.0, said_similarity=0.25, said_corating=0.3, rejected_genre=1.0,
                        update_steps=20, update_learning_rate=0.5)


@pytest.fixture
def models_dir(tmp_path):
    with environment({"CHATREC_MODELS_DIR": str(tmp_path)}):
        yield tmp_path


def test_a_record_round_trips_and_never_stores_the_arm_switch():
    record = weights_record(CHOSEN, WEIGHTS_SIMULATED, simulation={"seed": 42})
    assert set(record["weights"]) == set(STORED_WEIGHTS) and "learn" not in record["weights"]
    assert weights_of({artifacts.SESSION_WEIGHTS: record}) == CHOSEN
    assert record["source"] == WEIGHTS_SIMULATED and record["simulation"] == {"seed": 42}


def test_a_version_without_weights_gets_the_defaults_and_unknown_names_are_ignored():
    assert weights_of({}) == SessionWeights()
    partial = {artifacts.SESSION_WEIGHTS: {"weights": {"stated_genre": 0.5, "a_retired_knob": 3.0}}}
    assert weights_of(partial) == SessionWeights(stated_genre=0.5)


def test_the_recommender_of_a_version_uses_its_weights(models_dir, products, products_recommender):
    record = weights_record(CHOSEN, WEIGHTS_SIMULATED, simulation={"seed": 42})
    version = artifacts.save(products_recommender.model, products, {},
                             extra={artifacts.SESSION_WEIGHTS: record})
    artifacts.promote("products", version)
    assert artifacts.read_meta("products", version)[artifacts.SESSION_WEIGHTS] == record
    served = load_recommender("products")
    assert served.weights == CHOSEN
    taste = Taste(genres=("Outdoor",), liked=("p01",), disliked=("p02", "p03"))
    expected = products_recommender.with_weights(CHOSEN).recommend(taste, 5)
    assert [r.item.id for r in served.recommend(taste, 5).items] == [r.item.id for r in expected.items]


def test_an_older_version_is_served_with_the_defaults(models_dir, products, products_recommender):
    version = artifacts.save(products_recommender.model, products, {})
    assert artifacts.SESSION_WEIGHTS not in artifacts.read_meta("products", version)
    assert load_recommender("products", version).weights == SessionWeights()

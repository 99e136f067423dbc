"""`make train` versions record the default session weights, marked as not chosen by the simulation."""

import pytest

from chatrec.settings import environment
from recommender.serving.service import WEIGHTS_DEFAULT, SessionWeights, load_recommender, weights_record
from recommender.storage import artifacts
from recommender.training.production import train
from recommender.training.tuning import SearchSpace

pytestmark = pytest.mark.integration  # it trains a model


def test_a_trained_version_records_the_defaults(tmp_path, products):
    with environment({"CHATREC_MODELS_DIR": str(tmp_path)}):
        version = train(products, SearchSpace.quick(), threads=1)
        record = artifacts.read_meta("products", version)[artifacts.SESSION_WEIGHTS]
        assert record["source"] == WEIGHTS_DEFAULT and "not chosen" in record["note"]
        assert record["weights"] == weights_record(SessionWeights(), WEIGHTS_DEFAULT)["weights"]
        assert load_recommender("products").weights == SessionWeights()

"""The worker serves the promoted version with that version's session weights."""

from chatrec.settings import environment
from recommender.serving.service import WEIGHTS_SIMULATED, SessionWeights, weights_record
from recommender.storage import artifacts
from recommender.tasks.worker import _Served


def test_the_worker_serves_the_weights_of_the_version_it_loads(tmp_path, products, products_recommender):
    chosen = SessionWeights(stated_genre=1.5, said_corating=0.3)
    with environment({"CHATREC_MODELS_DIR": str(tmp_path), "CHATREC_DATASET": "products"}):
        plain = artifacts.save(products_recommender.model, products, {})
        artifacts.promote("products", plain)
        served = _Served()
        assert served.recommender().weights == SessionWeights()
        steered = artifacts.derive("products", plain, {
            artifacts.SESSION_WEIGHTS: weights_record(chosen, WEIGHTS_SIMULATED)})
        artifacts.promote("products", steered)
        served._load("products", steered)  # what the background loader does on a new version
        assert served.version == steered and served.recommender().weights == chosen

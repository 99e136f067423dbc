"""Train the model that is served: tune, measure, refit on everything, version.

1. Tune on a validation split carved from the 80 % training split.
2. Fit the chosen parameters on the 80 % and measure on the held-out 20 %
   (these are the metrics stored with the version).
3. Refit on all interactions, save as a new version and promote it. The version
   records the default session weights, marked as not chosen by the simulation:
   its parameters are new, so `make simulate` chooses weights for it.
"""

from __future__ import annotations

import logging

from recommender.domain.catalog import Dataset
from recommender.evaluation.metrics import evaluate, random_split, to_matrix
from recommender.model.hybrid import default_threads
from recommender.serving.service import default_weights_record
from recommender.storage import artifacts
from recommender.training.fit import fit_hybrid
from recommender.training.tuning import SearchSpace, hybrid_features, tune_lightfm

log = logging.getLogger(__name__)


def train(dataset: Dataset, space: SearchSpace = SearchSpace(), seed: int = 42,
          threads: int | None = None, promote: bool = True) -> str:
    threads = threads or default_threads()
    n_users, n_items = len(dataset.users), len(dataset.catalog)
    train_part, test_part = random_split(dataset.interactions, 0.2, seed)
    fit_part, valid_part = random_split(train_part, 0.2, seed + 1)
    fit_m, valid_m, train_m, test_m = (to_matrix(p, n_users, n_items)
                                       for p in (fit_part, valid_part, train_part, test_part))
    features = hybrid_features(dataset)
    params, trials = tune_lightfm(dataset, features, fit_m, valid_m, space, threads)
    log.info("chose %s", params)
    measured = fit_hybrid(dataset, train_part, features, params, threads)
    test_metrics = evaluate(measured.scores, train_m, test_m).metrics
    model = fit_hybrid(dataset, dataset.interactions, features, params, threads)
    version = artifacts.save(model, dataset, {
        "test": test_metrics,
        "validation": max(trials, key=lambda t: t.score).metrics,
    }, extra={"split": {"kind": "random", "seed": seed, "test_fraction": 0.2},
              artifacts.SESSION_WEIGHTS: default_weights_record()})
    if promote:
        artifacts.promote(dataset.name, version)
    return version

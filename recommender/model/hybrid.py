"""The LightFM hybrid model.

LightFM learns an embedding and a bias per feature; an item's
representation is the weighted sum over its features (identity, genres,
decade, any other catalog features), and likewise for users (identity, age
band, gender, occupation). A score is `user · item + item bias`.

After each epoch the representations are computed once; scoring them is
plain NumPy (recommender/model/embeddings.py), and that is what is stored and served.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from recommender.model.embeddings import Embeddings
from recommender.model.features import FeatureSpace


@dataclass(frozen=True)
class ModelParams:
    no_components: int = 64
    learning_rate: float = 0.05
    item_alpha: float = 0.0
    user_alpha: float = 0.0
    max_sampled: int = 10
    epochs: int = 30
    seed: int = 42


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class HybridModel(Embeddings):
    """LightFM with WARP loss over a FeatureSpace (identity-only = pure CF)."""

    def __init__(self, features: FeatureSpace, params: ModelParams = ModelParams()) -> None:
        empty = np.empty((0, params.no_components), np.float32)
        super().__init__(empty, np.empty(0, np.float32), empty, features.user_ids)
        self.features = features
        self.params = params
        self.epochs_trained = 0
        self._lightfm = LightFM(
            no_components=params.no_components,
            loss="warp",
            learning_rate=params.learning_rate,
            item_alpha=params.item_alpha,
            user_alpha=params.user_alpha,
            max_sampled=params.max_sampled,
            random_state=np.random.RandomState(params.seed),
        )

    def fit(
        self,
        interactions: sp.coo_matrix,
        epochs: int | None = None,
        num_threads: int | None = None,
        after_epoch: Callable[[HybridModel, int], None] | None = None,
    ) -> HybridModel:
        """Train on a binary user x item matrix; `after_epoch(model, epoch)` may evaluate."""
        epochs = self.params.epochs if epochs is None else epochs
        for _ in range(epochs):
            self._lightfm.fit_partial(
                interactions,
                user_features=self.features.user_features,
                item_features=self.features.item_features,
                epochs=1,
                num_threads=num_threads or default_threads(),
            )
            self.epochs_trained += 1
            self._refresh()
            if after_epoch is not None:
                after_epoch(self, self.epochs_trained)
        return self

    def _refresh(self) -> None:
        biases, vectors = self._lightfm.get_item_representations(self.features.item_features)
        self.item_biases, self.item_vectors = biases.astype(np.float32), vectors.astype(np.float32)
        _, self.user_vectors = self._lightfm.get_user_representations(self.features.user_features)
        self.user_vectors = self.user_vectors.astype(np.float32)

"""The LightFM hybrid model.

LightFM learns an embedding and a bias per feature; an item's
representation is the weighted sum over its features (identity, genres,
decade, knowledge-graph relations), and likewise for users (identity, age
band, gender, occupation). A score is `user · item + item bias`.

After training, the representations are computed once and scoring is plain
NumPy, which also lets us score users the model has never seen: a new
user's vector is folded in from the items and genres they like, and a
known user's trained vector is moved by a few BPR steps on the session's
feedback (item representations fixed).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from lightfm import LightFM

from recommender.features import FeatureSpace


DISLIKE_WEIGHT = 0.5


@dataclass(frozen=True)
class ModelParams:
    no_components: int = 64
    learning_rate: float = 0.05
    item_alpha: float = 0.0
    user_alpha: float = 0.0
    max_sampled: int = 10
    epochs: int = 30
    seed: int = 42

    def with_(self, **changes: object) -> "ModelParams":
        return ModelParams(**{**asdict(self), **changes})


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class HybridModel:
    """LightFM with WARP loss over a FeatureSpace (identity-only = pure CF)."""

    def __init__(self, features: FeatureSpace, params: ModelParams = ModelParams()) -> None:
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
        self.item_vectors = np.empty((0, params.no_components), np.float32)
        self.item_biases = np.empty(0, np.float32)
        self.user_vectors = np.empty((0, params.no_components), np.float32)

    def fit(
        self,
        interactions: sp.coo_matrix,
        epochs: int | None = None,
        num_threads: int | None = None,
        after_epoch: Callable[["HybridModel", int], None] | None = None,
    ) -> "HybridModel":
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

    def scores(self, users: Sequence[int] | np.ndarray) -> np.ndarray:
        """Scores of every item for known users (rows) by index."""
        return self.score_vectors(self.user_vectors[np.asarray(users)])

    def score_vectors(self, user_vectors: np.ndarray) -> np.ndarray:
        return user_vectors @ self.item_vectors.T + self.item_biases

    def fold_in(self, liked: Sequence[int] = (), genre_items: Sequence[Sequence[int]] = (),
                disliked: Sequence[int] = ()) -> np.ndarray:
        """A new user's vector from what they said, without retraining.

        Every piece of evidence counts once: each liked item adds its
        representation, and each stated genre adds the centroid of that
        genre's items ("I like comedies" points at what comedy fans liked).
        Disliked items are then subtracted, each at DISLIKE_WEIGHT of a like.
        (A known user's vector is moved by `adapt_user` instead.)
        """
        parts, weights = [], []
        for index in liked:
            parts.append(self.item_vectors[index])
            weights.append(1)
        for items in genre_items:
            if len(items):
                parts.append(self.item_vectors[np.asarray(items)].mean(axis=0))
                weights.append(1)
        total = sum(weights)
        vector = (np.average(parts, axis=0, weights=weights) if parts
                  else np.zeros(self.params.no_components))
        if len(disliked):
            share = len(disliked) / (total + len(disliked))
            vector = vector - DISLIKE_WEIGHT * share * self.item_vectors[np.asarray(disliked)].mean(axis=0)
        return vector.astype(np.float32)

    def adapt_user(self, base: np.ndarray, liked: Sequence[int] = (), disliked: Sequence[int] = (),
                   steps: int = 20, learning_rate: float = 0.05, prior: float = 1.0,
                   negatives: int = 50, seed: int = 0) -> np.ndarray:
        """A known user's vector moved by session feedback: BPR gradient steps on the user
        embedding alone (item representations fixed), with a Gaussian prior centred on
        the trained vector (MAP). Pairs: each liked item above each rejected item and
        above `negatives` sampled items; each rejected item below the sampled items."""
        liked, disliked = np.asarray(liked, dtype=int), np.asarray(disliked, dtype=int)
        if not (len(liked) or len(disliked)):
            return base.astype(np.float32)
        sampled = np.random.default_rng(seed).choice(len(self.item_biases), negatives, replace=False)
        pairs = [(i, j) for i in liked for j in (*disliked, *sampled) if i != j]
        pairs += [(j, d) for d in disliked for j in sampled if j != d]
        better, worse = (np.array(side) for side in zip(*pairs))
        difference = self.item_vectors[better] - self.item_vectors[worse]  # (pairs, dims)
        bias = self.item_biases[better] - self.item_biases[worse]
        vector = base.astype(np.float64).copy()
        for _ in range(steps):
            margin = difference @ vector + bias
            weight = 1.0 / (1.0 + np.exp(margin))  # sigma(-margin): how wrong each pair is
            gradient = weight @ difference / len(pairs) - prior * (vector - base)
            vector += learning_rate * gradient
        return vector.astype(np.float32)

    def item_similarities(self, item: int) -> np.ndarray:
        """Cosine similarity of one item's representation to every item's."""
        unit = self.item_vectors / (np.linalg.norm(self.item_vectors, axis=1, keepdims=True) + 1e-9)
        return unit @ unit[item]

    def user_similarities(self, vector: np.ndarray) -> np.ndarray:
        unit = self.user_vectors / (np.linalg.norm(self.user_vectors, axis=1, keepdims=True) + 1e-9)
        return unit @ (vector / (np.linalg.norm(vector) + 1e-9))

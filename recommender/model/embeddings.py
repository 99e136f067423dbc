"""What a trained model serves with: item and user representations as plain arrays.

Scoring is `user · item + item bias`. Someone the model has never seen gets
a vector folded in from the items and genres they like; a known user's
trained vector is moved by a few BPR steps on the session's feedback (item
representations fixed). Stored as `embeddings.npz` (recommender/storage/artifacts.py):
loading reads arrays, never code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

DISLIKE_WEIGHT = 0.5
FILE = "embeddings.npz"


class Embeddings:
    def __init__(self, item_vectors: np.ndarray, item_biases: np.ndarray, user_vectors: np.ndarray,
                 user_ids: Sequence[str]) -> None:
        self.item_vectors = item_vectors
        self.item_biases = item_biases
        self.user_vectors = user_vectors
        self.user_ids = list(user_ids)  # row of user_vectors -> user id

    def save(self, folder: Path) -> None:
        np.savez(folder / FILE, item_vectors=self.item_vectors, item_biases=self.item_biases,
                 user_vectors=self.user_vectors, user_ids=np.array(self.user_ids, dtype=str))

    @classmethod
    def load(cls, folder: Path) -> Embeddings:
        with np.load(folder / FILE, allow_pickle=False) as arrays:
            return cls(arrays["item_vectors"], arrays["item_biases"], arrays["user_vectors"],
                       arrays["user_ids"].tolist())

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
                  else np.zeros(self.item_vectors.shape[1]))
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
        if not (len(liked) or len(disliked)):
            return base.astype(np.float32)
        sampled = np.random.default_rng(seed).choice(len(self.item_biases), negatives, replace=False)
        pairs = [(int(i), int(j)) for i in liked for j in (*disliked, *sampled) if i != j]
        pairs += [(int(j), int(d)) for d in disliked for j in sampled if j != d]
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

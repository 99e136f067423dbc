"""Which items the same people rated: the item-item signal behind "people who rated X also rated Y".

Cosine similarity between items' columns of the binary user x item matrix,
computed one row at a time from a sparse matrix, so it needs no dense
item x item table even for a large catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


class CoRatings:
    def __init__(self, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> None:
        rated = sparse.csr_matrix((np.ones(len(items), dtype=np.float32), (items, users)),
                                  shape=(n_items, n_users))
        rated.data[:] = 1.0  # a user who rated an item twice still counts once
        self._rated = rated  # item -> its raters
        self._rated_by = rated.T.tocsr()  # user -> what they rated (built once, not per call)
        self._norms = np.sqrt(np.asarray(rated.sum(axis=1)).ravel())

    def similarities(self, items: Sequence[int]) -> np.ndarray:
        """Per catalog item: its mean cosine similarity to `items` (0 for items nobody rated)."""
        rows = self._rated[np.asarray(items, dtype=int)]
        overlap = (rows @ self._rated_by).toarray()  # (len(items), n_items): raters in common
        scale = np.outer(self._norms[np.asarray(items, dtype=int)], self._norms) + 1e-9
        return (overlap / scale).mean(axis=0)

    def raters(self, item: int) -> np.ndarray:
        """The users (indices) who rated `item`."""
        return self._rated[item].indices

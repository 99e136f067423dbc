"""The baselines score what co-occurs with a user's items above what does not."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.evaluation.baselines import EASE, ItemKNN, Popularity

# items 0 and 1 go together, 2 and 3 go together; item 4 is the most popular
ROWS = [[1, 1, 0, 0, 1], [1, 1, 0, 0, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1], [1, 0, 0, 0, 0],
        [0, 0, 1, 0, 0]]


@pytest.mark.parametrize("model", [ItemKNN(neighbours=2), EASE(regularization=1.0)])
def test_neighbours_of_a_users_items_come_first(model) -> None:
    train = sp.csr_matrix(np.array(ROWS, dtype=np.float32))
    scores = model.fit(train).scores(np.array([4, 5]))
    assert scores[0, 1] > scores[0, 2] and scores[0, 1] > scores[0, 3]  # liked 0: 1 before 2 and 3
    assert scores[1, 3] > scores[1, 0] and scores[1, 3] > scores[1, 1]  # liked 2: 3 before 0 and 1


def test_popularity_ranks_by_count() -> None:
    train = sp.csr_matrix(np.array(ROWS, dtype=np.float32))
    scores = Popularity().fit(train).scores(np.array([0, 1]))
    assert scores.shape == (2, 5) and list(np.argsort(-scores[0], kind="stable")[:1]) == [4]

"""Co-ratings: the cosine similarity of items by the people who rated them."""

import numpy as np
import pytest

from recommender.model.corating import CoRatings

# users 0-2, items 0-3: item 0 rated by users 0, 1; item 1 by 0, 1 (and user 0 twice);
# item 2 by user 2; item 3 by nobody
USERS = np.array([0, 1, 0, 1, 0, 2])
ITEMS = np.array([0, 0, 1, 1, 1, 2])


def test_items_rated_by_the_same_people_are_closest():
    co = CoRatings(USERS, ITEMS, n_users=3, n_items=4)
    assert co.similarities([0]) == pytest.approx([1.0, 1.0, 0.0, 0.0], abs=1e-6)


def test_a_repeated_rating_counts_once_and_nobody_rated_is_zero():
    co = CoRatings(USERS, ITEMS, n_users=3, n_items=4)
    assert co.similarities([1])[0] == pytest.approx(1.0, abs=1e-6)
    assert co.similarities([3]) == pytest.approx([0.0, 0.0, 0.0, 0.0])


def test_several_items_average_their_similarities():
    co = CoRatings(USERS, ITEMS, n_users=3, n_items=4)
    assert co.similarities([0, 2]) == pytest.approx([0.5, 0.5, 0.5, 0.0], abs=1e-6)

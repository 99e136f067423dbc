"""The recommender fixtures, for the simulation's ceiling."""

from tests.recommender.conftest import model, recommender  # noqa: F401 (fixtures)

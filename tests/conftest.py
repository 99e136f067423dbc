"""Fixtures shared across the test packages (the running bot stack: tests/chat.py), and the
test tiers: every test is marked `unit`, `integration` or `e2e` by what it needs.

- e2e: a trained Rasa model, or the whole bot answering over HTTP;
- integration: real worker processes, Redis, PostgreSQL, model training, subprocesses;
- unit: everything else (`make test-fast`, under a minute).
"""

from __future__ import annotations

import pytest

from tests.chat import chat, rasa_model  # noqa: F401 (fixtures)
from tests.recommender.conftest import movielens  # noqa: F401 (fixture)

E2E_FIXTURES = {"chat", "products_chat", "rasa_model", "model_path"}
INTEGRATION_FIXTURES = {"stack", "served_models", "redis_server", "store", "actions", "url", "models",
                        "model", "recommender", "products_recommender"}
INTEGRATION_MODULES = {"test_action_server", "test_run_modes", "test_rasa_cli", "test_retraining",
                       "test_experiment", "test_tasks", "test_learning", "test_telegram", "test_slack",
                       "test_bench_chat", "test_evaluate_nlu", "test_simulation", "test_bench",
                       "test_feedback", "test_router", "test_lock_store"}


def tier(item: pytest.Item) -> str:
    used = set(getattr(item, "fixturenames", ()))
    if used & E2E_FIXTURES:
        return "e2e"
    if used & INTEGRATION_FIXTURES or item.module.__name__.rsplit(".", 1)[-1] in INTEGRATION_MODULES:
        return "integration"
    return "unit"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(name) for name in ("unit", "integration", "e2e")):
            item.add_marker(tier(item))

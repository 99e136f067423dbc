"""Fixtures shared across the test packages: the running bot stack (tests/chat.py)."""

from tests.chat import chat, movielens, rasa_model  # noqa: F401 (fixtures)

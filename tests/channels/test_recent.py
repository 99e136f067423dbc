"""The adapters' memory of handled updates and shown buttons stays bounded."""

from __future__ import annotations

import pickle

from channels.recent import Recent


def test_only_the_newest_keys_are_kept() -> None:
    recent = Recent(3)
    for key in "abcd":
        recent[key] = True
    assert list(recent) == ["b", "c", "d"]
    recent["b"] = False  # written again: the newest now
    recent["e"] = True
    assert list(recent) == ["d", "b", "e"] and recent["b"] is False


def test_it_survives_pickling_with_its_size_and_order() -> None:
    recent = Recent(3)
    for key in "abcd":
        recent[key] = key.upper()
    again = pickle.loads(pickle.dumps(recent))
    assert list(again.items()) == [("b", "B"), ("c", "C"), ("d", "D")] and again.size == 3
    again["e"] = "E"
    assert list(again) == ["c", "d", "e"]

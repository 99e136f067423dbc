"""The adapters' memory of handled updates and shown buttons stays bounded."""

from __future__ import annotations

from channels.recent import Recent


def test_only_the_newest_keys_are_kept() -> None:
    recent = Recent(3)
    for key in "abcd":
        recent[key] = True
    assert list(recent) == ["b", "c", "d"]
    recent["b"] = False  # written again: the newest now
    recent["e"] = True
    assert list(recent) == ["d", "b", "e"] and recent["b"] is False

"""A mapping that keeps only its newest keys: the Telegram updates and Slack deliveries already handled."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class Recent(OrderedDict):
    """Remembers the last `size` keys written; older ones are forgotten."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __reduce__(self) -> tuple:
        """Pickled with its size and keys in order (the Telegram adapter keeps it across restarts)."""
        return type(self), (self.size,), None, None, iter(self.items())

    def __setitem__(self, key: Hashable, value: object) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)

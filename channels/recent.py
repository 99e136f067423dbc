"""A mapping that keeps only its newest keys: update ids already handled, buttons shown."""

from __future__ import annotations

from collections import OrderedDict
from typing import Hashable


class Recent(OrderedDict):
    """Remembers the last `size` keys written; older ones are forgotten."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Hashable, value: object) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)

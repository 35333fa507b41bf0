"""A mapping that keeps only its most recently set keys: per-process memory of what was seen lately (refused
clients, people the directory listed, cases' surfaces), bounded however long the process runs."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most ``limit`` keys; setting one makes it the newest, and past the limit the oldest is forgotten.

    ``get`` does not reorder, so it may be called from other threads while one thread (the event loop) sets."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a Recent mapping needs room for one key")
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def forget(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

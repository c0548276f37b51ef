"""The stack of open activities a running cell or ``with Activity()`` block makes current (the hub's
``current_activity()`` reads its top). Pure bookkeeping: no I/O."""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["CurrentStack"]

T = TypeVar("T")


class CurrentStack(Generic[T]):
    """Innermost-last, thread-safe; an item is on it at most once."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def top(self) -> T | None:
        with self._lock:
            return self._items[-1] if self._items else None

    def push(self, item: T) -> None:
        with self._lock:
            if item not in self._items:
                self._items.append(item)

    def pop(self, item: T) -> None:
        """Remove `item` wherever it is (no-op if it is not on the stack)."""
        with self._lock:
            if item in self._items:
                self._items.remove(item)


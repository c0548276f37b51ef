"""Sliding-window request budgets (pure bookkeeping; the caller passes the time)."""
from __future__ import annotations

import math
from collections import deque

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """At most `limit` accepted hits in any `window` seconds. `limit=None` never refuses."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._hits and self._hits[0] <= now - self.window:
            self._hits.popleft()

    def acquire(self, now: float) -> int | None:
        """Count a hit and return None, or return whole seconds until one is free (>= 1) without counting."""
        if self.limit is None:
            return None
        self._expire(now)
        if len(self._hits) >= self.limit:
            return max(1, math.ceil(self._hits[0] + self.window - now))
        self._hits.append(now)
        return None

    def used(self, now: float) -> int:
        self._expire(now)
        return len(self._hits)

    def clear(self) -> None:
        self._hits.clear()

"""Sliding-window request budgets (pure bookkeeping; the caller passes the time)."""
from __future__ import annotations

import math
from collections import deque

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """Hits accepted in the last `window` seconds; `acquire` refuses beyond the limit it is given (the
    owner's current setting, so changing that setting applies at once). `limit=None` never refuses."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._hits: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._hits and self._hits[0] <= now - self.window:
            self._hits.popleft()

    def acquire(self, now: float, limit: int | None) -> int | None:
        """Count a hit and return None, or return whole seconds until one is free (>= 1) without counting."""
        if limit is None:
            return None
        self._expire(now)
        if len(self._hits) >= limit:
            oldest_to_expire = self._hits[len(self._hits) - limit] if limit > 0 else now
            return max(1, math.ceil(oldest_to_expire + self.window - now))
        self._hits.append(now)
        return None

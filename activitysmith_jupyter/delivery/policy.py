"""When a stream update may go out: the per-activity iOS budget and the per-account request budget.

Pure bookkeeping with no I/O and no threads; the caller passes the time (monotonic seconds).

iOS throttles a Live Activity that keeps updating more often than about once per 2 minutes; the API
flags it with ``warning`` once an activity has had more than 12 updates *and* averaged more than one
update per 120 s since it started. `UpdatePolicy` turns that into a schedule: update number ``k``
(the start is update 1) may go no earlier than ``release_time(k)`` seconds after the start, where

* the first few come quickly (``early``: 5 s, 15 s, 45 s, 90 s after the start), so a short job
  shows movement on the Lock Screen right away;
* from the last early update on, the schedule climbs linearly to reach ``sustained_interval * k``
  at ``k = free_updates + 1`` (the first update the 12-update allowance no longer covers);
* from then on, update ``k`` waits until ``sustained_interval * k`` (135 s: 12.5 % under the 1 per
  120 s average), so the average never exceeds the iOS budget however long the job runs.

Since every bound is "no earlier than", sending later than allowed (a slow loop, a busy account
budget, a retry) can never break it.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from ..api.retry import exponential_backoff

__all__ = ["UpdatePolicy", "RequestBudget", "StreamPacing"]


@dataclass(frozen=True, kw_only=True)
class UpdatePolicy:
    """Earliest times for the updates of one Live Activity (seconds after it started).

    early: offsets of updates 2, 3, ... (the start is update 1 at offset 0), increasing.
    free_updates: updates iOS/the API tolerate before the average rate counts (the API says 12).
    sustained_interval: long-run spacing; must exceed 120 s (the API's 1 per 2 minutes).
    min_interval: never two updates of one activity closer than this.
    """

    early: tuple[float, ...] = (5.0, 15.0, 45.0, 90.0)
    free_updates: int = 12
    sustained_interval: float = 135.0
    min_interval: float = 2.0

    def __post_init__(self) -> None:
        if self.sustained_interval <= 0 or self.min_interval < 0 or self.free_updates < 1:
            raise ValueError("sustained_interval must be > 0, min_interval >= 0, free_updates >= 1")
        if any(b < a for a, b in zip((0.0, *self.early), self.early)):
            raise ValueError("early offsets must be increasing and >= 0")
        if len(self.early) + 1 > self.free_updates:
            raise ValueError("more early updates than free_updates allows")

    def release_time(self, k: int) -> float:
        """Earliest offset (seconds after the start) of update number `k` (1 = the start itself)."""
        if k <= 1:
            return 0.0
        if k - 2 < len(self.early):
            return self.early[k - 2]
        anchor_k = len(self.early) + 1
        anchor_t = self.early[-1] if self.early else 0.0
        paid_k = self.free_updates + 1
        paid_t = self.sustained_interval * paid_k
        if k >= paid_k:
            return self.sustained_interval * k
        # linear from (anchor_k, anchor_t) to (paid_k, paid_t)
        return anchor_t + (paid_t - anchor_t) * (k - anchor_k) / (paid_k - anchor_k)

    def next_time(self, *, started: float | None, count: int, last: float | None) -> float:
        """Earliest monotonic time for the next update of a stream.

        started: when the activity started (None: not started yet -> now is fine).
        count: updates it has had so far, the start included. last: when the latest one was sent.
        """
        if started is None:
            return -math.inf
        t = started + self.release_time(count + 1)
        if last is not None:
            t = max(t, last + self.min_interval)
        return t


class StreamPacing:
    """What `UpdatePolicy` needs to know about one stream (mutable, owned by the dispatcher)."""

    __slots__ = ("started", "count", "last", "failures", "hold_until")

    def __init__(self) -> None:
        self.started: float | None = None
        self.count = 0
        self.last: float | None = None
        self.failures = 0  # refused updates in a row (400/402/403/...)
        self.hold_until = -math.inf

    def record(self, *, operation: str | None, sent_at: float, answered_at: float) -> None:
        """Account for one PUT answered with `operation` (started/updated/rotated/noop/paused).

        Every answered PUT counts as an update (a ``noop`` or ``paused`` one too: conservative, and a
        paused stream is not polled faster than the policy allows). The start is measured from the
        answer, never earlier than the server's own start time."""
        if self.started is None or operation in ("started", "rotated"):
            self.started, self.count = answered_at, 1
        else:
            self.count += 1
        self.last = sent_at
        self.failures, self.hold_until = 0, -math.inf

    def refused(self, now: float, *, base: float = 60.0, cap: float = 900.0) -> None:
        """An update was refused for good: hold this stream's next ones back (1 min, doubling, <= 15 min)."""
        self.hold_until = now + exponential_backoff(self.failures, base=base, cap=cap)
        self.failures += 1

    def next_time(self, policy: UpdatePolicy) -> float:
        return max(self.hold_until, policy.next_time(started=self.started, count=self.count, last=self.last))


class RequestBudget:
    """At most `limit` requests in any `window` seconds, with `reserve` of them kept for terminal sends.

    Hits are recorded with the time the answer came back (never earlier than the server's own stamp),
    so the server's sliding window can never hold more than ours.
    """

    def __init__(self, limit: int = 60, *, reserve: int = 10, window: float = 60.0) -> None:
        if limit < 1 or not 0 <= reserve < limit:
            raise ValueError("need limit >= 1 and 0 <= reserve < limit")
        self.limit, self.reserve, self.window = limit, reserve, window
        self._hits: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._hits and self._hits[0] <= now - self.window:
            self._hits.popleft()

    def used(self, now: float) -> int:
        self._expire(now)
        return len(self._hits)

    def wait_time(self, now: float, *, terminal: bool) -> float:
        """0 if a request may go now, else seconds until one may."""
        self._expire(now)
        cap = self.limit if terminal else self.limit - self.reserve
        over = len(self._hits) - cap
        if over < 0:
            return 0.0
        return max(0.0, self._hits[over] + self.window - now)

    def record(self, at: float) -> None:
        self._hits.append(at)

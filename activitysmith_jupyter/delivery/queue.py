"""The dispatcher's queue and its choice of what goes next: pure bookkeeping, no I/O, no threads.

The caller (`dispatch.Dispatcher`) holds its lock around every method and passes the time in.

* Stream updates coalesce per stream key: the newest state replaces one still waiting.
* Ends and pushes are terminal: never coalesced away; an end goes after the updates of its key.
* A job waits for its own retry time, a 429 pause, the account budget (ends and pushes have a
  reserve), the stream's `UpdatePolicy` pacing, and -- for a start the device had no room for --
  a free Live Activity slot.
"""
from __future__ import annotations

import math
from typing import Any

from .policy import RequestBudget, StreamPacing, UpdatePolicy

__all__ = ["PUSH_KEY", "Job", "JobQueue"]

PUSH_KEY = "\x00push"  # pushes keep their order among themselves


class Job:
    __slots__ = ("kind", "key", "body", "attempts", "not_before", "ambiguous")

    def __init__(self, kind: str, key: str, body: dict[str, Any] | None) -> None:
        self.kind = kind  # "update" | "end" | "push"
        self.key = key
        self.body = body
        self.attempts = 0
        self.not_before = -math.inf
        self.ambiguous = False  # an earlier attempt may have reached the server

    @property
    def terminal(self) -> bool:
        return self.kind != "update"

    @property
    def label(self) -> str | None:
        """The stream key for log lines (None for a push)."""
        return None if self.key == PUSH_KEY else self.key


class JobQueue:
    """Pending jobs in order, plus what the choice of the next one needs to know per stream."""

    def __init__(self, policy: UpdatePolicy) -> None:
        self.policy = policy
        self.jobs: list[Job] = []
        self.in_flight: Job | None = None
        self.paused_until = -math.inf  # a 429's Retry-After, for every request
        self._waiting: dict[str, Job] = {}  # stream key -> its queued update
        self._pacing: dict[str, StreamPacing] = {}
        self._policies: dict[str, UpdatePolicy] = {}  # per-stream overrides of `policy`
        self._slot_waits: dict[str, float] = {}  # stream key -> next start attempt (device was full)

    # ------------------------------------------------------------------------------ adding

    def add_update(self, key: str, body: dict[str, Any], policy: UpdatePolicy | None) -> bool:
        """Queue a stream PUT; True when it replaced a waiting one (coalesced).

        The newest state replaces a waiting update, but not a waiting start: the start goes out with the
        state it was made with (what the phone first shows does not depend on how soon the sender ran)
        and the newer state waits behind it."""
        if policy is not None:
            self._policies[key] = policy
        job = self._waiting.get(key)
        if job is not None and not self._starts(job):
            job.body = body
            return True
        self._waiting[key] = job = Job("update", key, body)
        self.jobs.append(job)
        return False

    def add_end(self, key: str, body: dict[str, Any] | None) -> bool:
        """Queue the end of a stream; True when it superseded a waiting update (coalesced).

        A waiting update is superseded by an end that carries a state -- unless it would start the
        activity (none started, starting or queued to start, or it waits behind the end of the last
        one): then it goes first, so there is something to end. (A start that fails is put back before
        the end: `requeue`.) The end also lifts the hold of a refused stream: its final state is worth
        one more try now."""
        waiting = self._waiting.pop(key, None)
        coalesced = False
        if waiting is not None and body and "content_state" in body and not self._starts(waiting):
            self.jobs.remove(waiting)
            coalesced = True
        pacing = self._pacing.get(key)
        if pacing is not None:
            pacing.hold_until = -math.inf
        self.jobs.append(Job("end", key, body))
        return coalesced

    def _starts(self, job: Job) -> bool:
        """Whether the queued update `job` would start its activity: the last one is ending, or none has
        started, is being started (in flight) or waits to start ahead of it."""
        key = job.key
        if self.ending(key):
            return True
        pacing = self._pacing.get(key)
        flying = self.in_flight
        if (pacing is not None and pacing.started is not None) or (
                flying is not None and flying.key == key and flying.kind == "update"):
            return False
        return not any(other.key == key and other.kind == "update" for other in self.jobs[:self.jobs.index(job)])

    def add_push(self, body: dict[str, Any]) -> None:
        self.jobs.append(Job("push", PUSH_KEY, body))

    def requeue(self, job: Job, *, not_before: float, reached: bool) -> bool:
        """Put a failed job back first in line (it was the first of its key). False if it is not worth
        sending again: a newer update of its key is queued, or an end is and the activity has
        started (a start is kept: the end needs something to end)."""
        if job.kind == "update":
            pacing = self._pacing.get(job.key)
            started = pacing is not None and pacing.started is not None
            if any(other.key == job.key and (other.kind == "update" or started) for other in self.jobs):
                return False
        job.attempts += 1
        job.ambiguous = job.ambiguous or reached
        job.not_before = not_before
        self.jobs.insert(0, job)
        if job.kind == "update":
            self._waiting[job.key] = job
        return True

    def drop_all(self) -> int:
        """Forget every queued job (not the one in flight); returns how many."""
        dropped = len(self.jobs)
        self.jobs.clear()
        self._waiting.clear()
        self._slot_waits.clear()
        return dropped

    # ------------------------------------------------------------------------------ outcomes

    def delivered(self, job: Job, *, operation: str | None, sent_at: float, answered_at: float) -> None:
        """Account for a job that took effect (`operation`: the stream PUT's answer, if readable)."""
        if job.kind == "update":
            self._pacing.setdefault(job.key, StreamPacing()).record(
                operation=operation, sent_at=sent_at, answered_at=answered_at)
            self._slot_waits.pop(job.key, None)
        elif job.kind == "end":  # the next PUT starts a new activity; a slot is free: waiting starts may go
            self._pacing.pop(job.key, None)
            self._policies.pop(job.key, None)
            for key in self._slot_waits:
                self._slot_waits[key] = answered_at

    def refused(self, job: Job, now: float) -> None:
        """An update was refused for good (400/402/403...): hold the stream's next ones back."""
        if job.kind == "update":
            self._pacing.setdefault(job.key, StreamPacing()).refused(now)

    def wait_for_slot(self, key: str, until: float) -> None:
        """The device had no room for this stream's start: try again at `until`, or when a slot frees."""
        self._slot_waits[key] = until

    # ------------------------------------------------------------------------------ reading

    def __len__(self) -> int:
        """Jobs queued (the one in flight not included)."""
        return len(self.jobs)

    @property
    def pending(self) -> int:
        return len(self.jobs) + (self.in_flight is not None)

    @property
    def waiting_for_slot(self) -> tuple[str, ...]:
        return tuple(self._slot_waits)

    def ending(self, key: str) -> bool:
        """An end of `key` is queued or in flight (its pacing is dropped only once the end was sent)."""
        flying = self.in_flight
        return (flying is not None and flying.key == key and flying.kind == "end") or any(
            job.key == key and job.kind == "end" for job in self.jobs)

    def _next_time(self, key: str) -> float:
        pacing = self._pacing.get(key)
        paced = -math.inf if pacing is None else pacing.next_time(self._policies.get(key, self.policy))
        return max(paced, self._slot_waits.get(key, -math.inf))

    def next_update_time(self, key: str) -> float:
        """See `Dispatcher.next_update_time`."""
        flying = self.in_flight
        if key in self._waiting or (flying is not None and flying.key == key and flying.kind == "update"):
            return math.inf
        return -math.inf if self.ending(key) else self._next_time(key)

    def take(self, now: float, budget: RequestBudget, *, rush: bool) -> tuple[Job | None, float | None]:
        """The first job that may go now (removed from the queue), or the earliest time one may.

        rush: someone is flushing; waiting updates skip the per-activity pacing (not a slot wait)."""
        earliest: float | None = None
        blocked: set[str] = set()
        for index, job in enumerate(self.jobs):
            if job.key in blocked:
                continue
            blocked.add(job.key)  # later jobs of this key wait for this one
            ready = max(job.not_before, self.paused_until)
            if job.kind == "update":
                ready = max(ready, self._slot_waits.get(job.key, -math.inf) if rush else self._next_time(job.key))
            ready = max(ready, now + budget.wait_time(now, terminal=job.terminal))
            if ready <= now:
                del self.jobs[index]
                if job.kind == "update" and self._waiting.get(job.key) is job:
                    del self._waiting[job.key]
                return job, None
            earliest = ready if earliest is None else min(earliest, ready)
        return None, earliest

"""Spark stages and tasks, as the phone reads them: "stage 3/5 · 1.24k/2k tasks". Pure: no pyspark, no
I/O; classic sessions (the status tracker) and Spark Connect (progress handlers) both count with it.

Skipped stages (a shuffle another job already wrote) never run a task: once known skipped they leave the
count, and a finished query is 100 % whatever its task counts say (Spark Connect's ``done``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..hub.outcome import Snapshot
from ..hub.wording import format_compact

__all__ = ["StageCount", "tally"]


@dataclass(frozen=True)
class StageCount:
    """One stage as last seen: its tasks in all, completed and failed, and whether it is over."""

    stage_id: int
    tasks: int
    completed: int
    failed: int = 0
    finished: bool = False  # ran to its end (or its job / query ended)
    skipped: bool = False  # ended without running (its output was already there)

    @property
    def over(self) -> bool:
        return self.finished or (self.tasks > 0 and self.completed >= self.tasks)


def tally(stages: Iterable[StageCount], *, done: bool = False, failed_jobs: int = 0,
          elapsed: float | None = None) -> Snapshot | None:
    """The snapshot of `stages` (any order; the last look at each), None before any stage is known.
    `done`: every query / job of them ended (100 %). `failed_jobs`: jobs that failed so far."""
    counted = sorted((s for s in stages if not s.skipped), key=lambda s: s.stage_id)
    if not counted:
        return None
    total = sum(s.tasks for s in counted)
    n = total if done else sum(min(s.completed, s.tasks) if not s.finished else s.tasks for s in counted)
    over = len(counted) if done else sum(1 for s in counted if s.over)
    current = min(over + 1, len(counted))
    failed_tasks = sum(s.failed for s in counted)
    description = f"stage {current}/{len(counted)}"
    parts = [description, f"{format_compact(n)}/{format_compact(total)} tasks"]
    if failed_tasks:
        parts.append(f"{format_compact(failed_tasks)} failed tasks")
    if failed_jobs:
        parts.append(f"{failed_jobs} failed job{'s' if failed_jobs > 1 else ''}")
    rate = n / elapsed if elapsed and n else None
    return Snapshot(n=float(n), total=float(total) if total else None, unit="tasks", description=description,
                    subtitle=" · ".join(parts), rate=rate, elapsed=elapsed, number_format=format_compact)

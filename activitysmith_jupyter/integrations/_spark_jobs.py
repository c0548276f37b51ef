"""The jobs of one activity on a classic ``SparkContext``, read from its status tracker.

Which jobs: those with the activity's job tag (``SparkStatusTracker.getJobIdsForTag``), or, without a
tag, every job started since the activity began (job ids count up from 0 in a SparkContext). Each look
is a few py4j calls: the ids, then the job and its stages for every job not over yet (an ended job's
count is kept, never asked again). The tracker is weakly consistent: a job or stage it does not know
(yet, or any more) is left out of this look.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._spark_tally import StageCount, tally

if TYPE_CHECKING:
    from ..hub.outcome import Snapshot

__all__ = ["ClassicJobs", "next_job_id"]

_ENDED = ("SUCCEEDED", "FAILED")
_MAX_PROBES = 64  # job ids looked up per poll to find the newest (a burst of tiny jobs catches up later)
_RECENT = 256  # untagged jobs: only the newest ones are asked about (older ones ended long ago)

_hint_lock = threading.Lock()
_next_id_hint: dict[int, int] = {}  # id(SparkContext's JVM tracker) -> a job id not started yet, at most


def next_job_id(tracker: Any, key: int) -> int:
    """The id the next job will get (ids count up from 0): from the running jobs and a few lookups."""
    with _hint_lock:
        hint = _next_id_hint.get(key, 0)
    active = [int(j) for j in tracker.getActiveJobIds()]
    hint = max([hint, *(j + 1 for j in active)])
    for _ in range(_MAX_PROBES):
        if tracker.getJobInfo(hint) is None:
            break
        hint += 1
    with _hint_lock:
        _next_id_hint[key] = max(hint, _next_id_hint.get(key, 0))
    return hint


class ClassicJobs:
    """Counts the stages and tasks of one activity's jobs on `context` (a classic ``SparkContext``)."""

    def __init__(self, context: Any, *, tag: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.tag = tag
        self._clock = clock
        self._started = clock()
        self._tracker = context._jsc.statusTracker()  # Java's: null for an unknown job / stage
        self._scala = context._jsc.sc().statusTracker() if tag is not None else None  # has getJobIdsForTag
        self._key = id(context)
        self._since = 0
        if tag is None:  # the jobs from now on, and those already running (the activity just began)
            self._since = min([next_job_id(self._tracker, self._key), *(int(j) for j in self._tracker.getActiveJobIds())])
        self._ended: dict[int, tuple[list[StageCount], bool]] = {}  # job id -> (stages, failed)
        self._stages_done: dict[int, StageCount] = {}  # stage id -> its count, once every task completed

    def job_ids(self) -> list[int]:
        if self._scala is not None:
            return sorted(int(j) for j in self._scala.getJobIdsForTag(self.tag))
        upto = next_job_id(self._tracker, self._key)
        return list(range(max(self._since, upto - _RECENT), upto))

    def snapshot(self) -> Snapshot | None:
        """The count of every job of the activity as the tracker knows it now (None: no stage yet)."""
        stages: list[StageCount] = []
        failed = 0
        running = False
        for job_id in self.job_ids():
            known = self._ended.get(job_id) or self._look(job_id)
            if known is None:
                running = True  # not in the tracker yet
                continue
            counts, job_failed = known
            stages.extend(counts)
            failed += job_failed
            running = running or job_id not in self._ended
        return tally(stages, done=not running and bool(stages), failed_jobs=failed,
                     elapsed=self._clock() - self._started)

    def _look(self, job_id: int) -> tuple[list[StageCount], bool] | None:
        job = self._tracker.getJobInfo(job_id)
        if job is None:
            return None
        status = str(job.status())
        ended = status in _ENDED
        counts = []
        for stage_id in (int(s) for s in job.stageIds()):
            done = self._stages_done.get(stage_id)
            if done is not None:  # every task of it completed: not asked again
                counts.append(done)
                continue
            stage = self._tracker.getStageInfo(stage_id)
            if stage is None:  # not submitted yet, or no longer retained
                continue
            tasks, completed = int(stage.numTasks()), int(stage.numCompletedTasks())
            count = StageCount(stage_id, tasks, completed, int(stage.numFailedTasks()),
                               finished=status == "SUCCEEDED", skipped=ended and completed == 0)
            if 0 < tasks <= completed:
                self._stages_done[stage_id] = count
            counts.append(count)
        result = (counts, status == "FAILED")
        if ended:
            self._ended[job_id] = result
        return result

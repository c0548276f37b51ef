"""Which run is in which kernel: one small JSON file per run, written by the kernel, read by the server.

The directory is ``<Jupyter runtime dir>/activitysmith-runs`` (the server extension exports it to its
kernels as ``ACTIVITYSMITH_RUNS_DIR``): mode 0700, files 0600, so only this user reads it. A record
holds no secret and nothing of the notebook's content: the run id, the kernel's id and process id, the
run's title, when it started and, once it ended, when and how. The run id is
``secrets.token_urlsafe(16)`` (128 random bits) and says nothing; it is the file's name.

The kernel writes the record when the run's first state is queued and marks it ended when the run ends
(before its final state is queued), so a Stop button of an ended run finds "ended" and never interrupts
a later run of the same kernel. Ended records older than a day are removed when a new run starts.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

__all__ = ["ENV_RUNS_DIR", "RUN_ID", "RUNS_DIR_NAME", "RunRecord", "mark_ended", "new_run_id", "prune",
           "read_record", "runs_dir", "write_record"]

log = logging.getLogger("activitysmith_jupyter")

ENV_RUNS_DIR = "ACTIVITYSMITH_RUNS_DIR"
RUNS_DIR_NAME = "activitysmith-runs"
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{22,86}$")  # token_urlsafe(16) and longer; nothing that walks a path
_KEEP_ENDED = 86400.0  # seconds an ended record is kept for its stale buttons ("already ended")

RunState = Literal["running", "ended"]


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    kernel_id: str
    pid: int  # the kernel process: a restarted kernel keeps its id, not its process
    title: str
    started: float  # time.time()
    state: RunState = "running"
    ended: float | None = None
    outcome: str | None = None  # hub/outcome.py's Outcome once ended

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        data: Any = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a run record is a JSON object")
        record = cls(run_id=str(data["run_id"]), kernel_id=str(data["kernel_id"]), pid=int(data["pid"]),
                     title=str(data["title"]), started=float(data["started"]),
                     state="ended" if data.get("state") == "ended" else "running",
                     ended=None if data.get("ended") is None else float(data["ended"]),
                     outcome=None if data.get("outcome") is None else str(data["outcome"]))
        return record


def new_run_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def runs_dir(runtime_dir: str) -> str:
    """The records' directory inside a Jupyter runtime directory."""
    return os.path.join(runtime_dir, RUNS_DIR_NAME)


def _path(directory: str, run_id: str) -> str:
    if not RUN_ID.match(run_id):
        raise ValueError("not a run id")
    return os.path.join(directory, run_id + ".json")


def write_record(directory: str, record: RunRecord) -> None:
    """Write (or replace) `record` atomically: a 0600 temporary file renamed over the old one."""
    path = _path(directory, record.run_id)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".run-", suffix=".tmp", dir=directory)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record.to_json())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_record(directory: str, run_id: str) -> RunRecord | None:
    """The record of `run_id`, or None: no such run, not a run id, or an unreadable file."""
    try:
        with open(_path(directory, run_id), encoding="utf-8") as f:
            record = RunRecord.from_json(f.read())
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if record.run_id == run_id else None


def mark_ended(directory: str, run_id: str, outcome: str, *, at: float | None = None) -> None:
    """Mark the run ended (its record stays a day, for the stale buttons). Never raises."""
    try:
        record = read_record(directory, run_id)
        if record is not None and record.state != "ended":
            write_record(directory, replace(record, state="ended", ended=time.time() if at is None else at,
                                            outcome=outcome))
    except Exception as exc:  # noqa: BLE001 - the run's end must go on
        log.warning("could not mark the run record %s ended: %s", directory, exc)


def prune(directory: str, *, now: float | None = None, keep: float = _KEEP_ENDED) -> None:
    """Remove ended records older than `keep` seconds. Never raises."""
    limit = (time.time() if now is None else now) - keep
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        run_id, ext = os.path.splitext(name)
        if ext != ".json" or not RUN_ID.match(run_id):
            continue
        record = read_record(directory, run_id)
        if record is not None and record.state == "ended" and (record.ended or 0.0) < limit:
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass

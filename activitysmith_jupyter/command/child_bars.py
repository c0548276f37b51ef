"""The parent's end of the pipe over which ``activitysmith run``'s Python children report their tqdm bars.

The child side is ``_child/sitecustomize.py`` (put first on the child's PYTHONPATH): it writes one JSON
line per change of its outermost bar, ``{"pid": 123, "state": {...} | null}``. Only the pipe's number
and inode travel, in ``ACTIVITYSMITH_RUN_REPORT``; nothing secret does. Several processes may write
(multiprocessing workers inherit the pipe); the bar of the process seen first that has one wins, which
is the main script's outer bar in the usual case.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["CHILD_DIR", "ENV_VAR", "BarPipe", "child_environment", "snapshot_fields"]

log = logging.getLogger("activitysmith_jupyter")

ENV_VAR = "ACTIVITYSMITH_RUN_REPORT"
CHILD_DIR = str(Path(__file__).with_name("_child"))


def child_environment(base: Mapping[str, str], *, fd: int) -> dict[str, str]:
    """`base` with our sitecustomize first on PYTHONPATH and the pipe named in ACTIVITYSMITH_RUN_REPORT."""
    env = dict(base)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != CHILD_DIR]
    env["PYTHONPATH"] = os.pathsep.join([CHILD_DIR, *rest])
    env[ENV_VAR] = f"{fd}:{os.fstat(fd).st_ino}"
    return env


def snapshot_fields(state: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a `Snapshot` for one reported bar state (bad values dropped)."""
    def number(name: str) -> float | None:
        v = state.get(name)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    desc = state.get("desc")
    unit = state.get("unit")
    fields: dict[str, Any] = {"n": number("n"), "total": number("total") or None, "rate": number("rate"),
                              "elapsed": number("elapsed")}
    fields["unit"] = unit if isinstance(unit, str) and unit else "it"
    fields["description"] = desc.strip().rstrip(":") or None if isinstance(desc, str) else None
    return fields


class BarPipe:
    """Reads bar reports from the read end of a pipe on a daemon thread; calls `on_state(fields | None)`
    when the driving bar changes (None: the children have no live bar)."""

    def __init__(self, on_state: Callable[[dict[str, Any] | None], None]) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_inheritable(self.write_fd, True)
        self._on_state = on_state
        self._states: dict[int, dict[str, Any] | None] = {}  # pid -> latest state, in first-seen order
        self._driving: Any = None
        self._stopped = False
        self._thread = threading.Thread(target=self._read, name="activitysmith-run-bars", daemon=True)

    def start(self) -> BarPipe:
        self._thread.start()
        return self

    def close_write_end(self) -> None:
        """After the child started: only the children hold the write end now. Once only: a second
        close would hit whatever file reused the number (a socket of the dispatcher, say)."""
        fd, self.write_fd = self.write_fd, -1
        if fd >= 0:
            os.close(fd)

    def drain(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the reports still in the pipe (EOF once the children exited)."""
        if self._thread.is_alive():
            self._thread.join(timeout)

    def stop(self) -> None:
        """Stop reporting. Grandchildren may keep the write end open, so the reader is not waited for;
        the read end stays open (closing it under a blocked read could hand its number to another file)."""
        self.close_write_end()
        self._stopped = True

    def feed_line(self, line: bytes) -> None:
        if self._stopped:
            return
        try:
            report = json.loads(line)
            pid = int(report["pid"])
            state = report.get("state")
        except (ValueError, KeyError, TypeError):
            log.debug("ignoring a malformed bar report: %r", line[:200])
            return
        self._states[pid] = state if isinstance(state, dict) else None
        driving = next((s for s in self._states.values() if s is not None), None)
        if driving is None and self._driving is None:
            return
        self._driving = driving
        try:
            self._on_state(None if driving is None else snapshot_fields(driving))
        except Exception:  # noqa: BLE001 - a reader thread never dies of its consumer
            log.debug("bar report consumer failed", exc_info=True)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line.strip():
                    self.feed_line(line)

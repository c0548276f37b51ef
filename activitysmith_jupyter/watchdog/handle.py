"""The parent's side of the watchdog: one per process, started by the first activity that needs it.

`Watchdog` spawns ``python -m activitysmith_jupyter.watchdog`` in its own session (a kernel killed with
its process group leaves the watchdog alive) with the pipe as its stdin, and owns one daemon thread
that writes the messages (the caller's thread only queues them) and a heartbeat every
`protocol.BEAT_SECONDS` (more often while an activity with a short `stall_after` is watched: see
`protocol.beat_interval`). The API key goes down the pipe in the first message: never the command line,
never a file. After a fork the child process gets no watchdog of its parent's (and closes the pipe).
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

from ..delivery.exit_budget import begin_exit
from . import protocol

__all__ = ["Watchdog", "process_kind"]

log = logging.getLogger("activitysmith_jupyter")

SILENCE_BEATS = 2  # a gap of more beats than this between two writes: the interpreter did not run
MAX_SILENCES = 16
_STOP = b""


def process_kind() -> str:
    """"Kernel" inside a Jupyter kernel, else "Process" (the word of "… died after 12m")."""
    app = sys.modules.get("ipykernel.kernelapp")
    if app is not None and getattr(app, "IPKernelApp", None) is not None and app.IPKernelApp.initialized():
        return "Kernel"
    return "Process"


class Watchdog:
    """A running watchdog process and the thread that feeds it (see the module docstring)."""

    def __init__(self, *, kind: str | None = None, executable: str = sys.executable) -> None:
        self.pid = os.getpid()
        self.kind = kind or process_kind()
        self.last_error: BaseException | None = None
        self.monitoring = False  # the resource monitor was switched on (watchdog/__init__ decides)
        self.monitoring_target = 0
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._endings: dict[str, tuple[Any, int]] = {}  # key -> (dispatcher we wait on, number of the "ending" line)
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)  # queued / written counts moved
        self._queued = 0
        self._written = 0
        self._pipe_lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self._hello = protocol.encode("hello", pid=self.pid, kind=self.kind)
        self._targets: dict[tuple[str | None, str], int] = {}
        self._executable = executable
        self._started = threading.Event()
        self._spawn_lock = threading.Lock()  # the spawn and a clean exit never overlap
        self._exiting = False
        self._last_write = time.monotonic()
        self.beat = protocol.BEAT_SECONDS  # seconds between two heartbeats (see `beat_for`)
        self._silences: list[tuple[float, float]] = []  # (from, to): the writer could not run (GIL held ...)
        self._thread = threading.Thread(target=self._run, name="activitysmith-watchdog", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_started(self, timeout: float = 10.0) -> bool:
        """Block until the watchdog process exists (tests, and `status`)."""
        return self._started.wait(timeout) and self.process is not None

    # -- what the parent says (any thread; never blocks) ---------------------------------------------
    def send(self, op: str, **fields: Any) -> int:
        """Queue a message; returns its number (the writer writes them in that order)."""
        line = protocol.encode(op, **fields)
        with self._lock:
            return self._put(line)

    def _put(self, line: bytes) -> int:  # under self._lock: numbering and queue order agree
        self._queued += 1
        self._queue.put(line)
        return self._queued

    def target(self, api_key: str | None, base_url: str) -> int:
        """The id the watchdog knows this API (key, base URL) by; the first use sends it down the pipe."""
        with self._lock:
            found = self._targets.get((api_key, base_url))
            if found is not None:
                return found
            found = self._targets[(api_key, base_url)] = len(self._targets)
        self.send("target", id=found, api_key=api_key, base_url=base_url)
        return found

    def drained(self, timeout: float = 10.0) -> bool:
        """Wait until everything sent so far is written to the pipe (False: the watchdog is gone, or
        `timeout` seconds passed)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._queued
            while self._written < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._started.is_set() and not self._thread.is_alive()):
                    return False
                self._progress.wait(min(remaining, 0.1))
            return True

    def silence_since(self, since: float) -> float:
        """The longest silence (no heartbeat could be written) that ended after `since` (monotonic)."""
        now = time.monotonic()
        with self._lock:
            silences = [*self._silences, (self._last_write, now)]  # and the one going on (GIL just released)
        return max((end - max(start, since) for start, end in silences
                    if end > since and end - start > SILENCE_BEATS * self.beat), default=0.0)

    def beat_for(self, stall_after: float | None) -> None:
        """An activity with `stall_after` is watched: beat often enough for the watchdog to see its
        stall in time (never less often again in this process: a beat is one short write)."""
        self.beat = min(self.beat, protocol.beat_interval(stall_after))

    def ending(self, key: str, dispatcher: Any, state: dict[str, Any], push: dict[str, Any] | None) -> None:
        """The activity `key` queued its end on `dispatcher`: the watchdog holds it until it landed."""
        line = protocol.encode("ending", key=key, state=state, push=push)
        with self._lock:  # "closed" may follow only once this line is written (see _confirm_endings)
            self._endings[key] = (dispatcher, self._put(line))

    # -- the thread ---------------------------------------------------------------------------------
    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self._executable, "-m", "activitysmith_jupyter.watchdog"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True, env=_child_env())

    def _run(self) -> None:
        with self._spawn_lock:  # an exit that came first means no watchdog (its ends are the parent's own)
            if self._exiting:
                self._started.set()
                return
            try:
                self.process = self._spawn()
            except OSError as exc:
                self._fail(exc, "could not start the watchdog process")
                self._started.set()
                return
        self._started.set()
        if not self._write(self._hello):
            return
        self._hello = b""
        while True:
            timeout = 0.2 if self._endings else self.beat
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                line = protocol.encode("beat")
            if line is _STOP:
                return
            if not self._write_queued(line):
                return
            if not self._confirm_endings():
                return

    def _write(self, line: bytes) -> bool:
        process = self.process
        if process is None or process.stdin is None or os.getpid() != self.pid:
            return False
        try:
            with self._pipe_lock:
                process.stdin.write(line)
                process.stdin.flush()
                now = time.monotonic()
                if now - self._last_write > SILENCE_BEATS * self.beat:
                    with self._lock:
                        self._silences = [*self._silences[-(MAX_SILENCES - 1):], (self._last_write, now)]
                self._last_write = now
            return True
        except (OSError, ValueError) as exc:  # the watchdog died: the process goes on without one
            self._fail(exc, "the watchdog process is gone")
            return False

    def _confirm_endings(self) -> bool:
        """Tell the watchdog which queued ends their dispatcher has delivered (nothing pending)."""
        with self._lock:
            done = [k for k, (d, number) in self._endings.items() if number <= self._written and not _pending(d)]
            for key in done:
                del self._endings[key]
        return all(self._write(protocol.encode("closed", key=key)) for key in done)

    def confirm_now(self) -> None:
        """Write what is queued, then "closed" for each end its dispatcher delivered, from this thread."""
        if os.getpid() == self.pid and self.process is not None:
            self._drain()
            self._confirm_endings()

    def _fail(self, exc: BaseException, what: str) -> None:
        self.last_error = exc
        log.warning("%s: %s", what, exc)

    def _at_exit(self) -> None:
        """A clean exit: let queued ends land within the process's exit budget (``exit_budget``), confirm
        them, then close the pipe (EOF). The watchdog sends what did not land (it holds every queued end
        and push) and ends what is still open as "died", in the background: the exit does not wait."""
        if os.getpid() != self.pid:
            return
        deadline = begin_exit()
        with self._spawn_lock:  # waits for a spawn under way (a short script exits before it is done)
            self._exiting = True
        if self.process is None:
            return
        with self._lock:
            dispatchers = list({id(d): d for d, _ in self._endings.values()}.values())
        for d in dispatchers:
            try:
                d.flush(max(0.0, deadline - time.monotonic()))
            except Exception as exc:  # noqa: BLE001 - exit goes on
                log.debug("flush at exit failed: %s", exc)
        self._queue.put(_STOP)
        self._thread.join(max(0.1, deadline - time.monotonic()))
        self._drain()
        self._confirm_endings()
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass

    def _drain(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not _STOP:
                self._write_queued(line)

    def _write_queued(self, line: bytes) -> bool:
        """Write a line taken from the queue and count it (for `drained`)."""
        if not self._write(line):
            return False
        if not line.startswith(b'{"op":"beat"'):
            with self._lock:
                self._written += 1
                self._progress.notify_all()
        return True

    def after_fork_in_child(self) -> None:
        """A forked child must not write to, nor hold open, its parent's pipe (or the watchdog would see
        no end of file when the parent dies). The descriptor is pointed at /dev/null rather than closed,
        so the file object's own close later cannot close a descriptor the child reused."""
        process = self.process
        if process is not None and process.stdin is not None:
            try:
                null = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(null, process.stdin.fileno())
                finally:
                    os.close(null)
            except (OSError, ValueError):
                pass

    def __repr__(self) -> str:
        pid = self.process.pid if self.process is not None else None
        return f"Watchdog(pid={pid}, watching={self.pid}, alive={self.alive})"


def _pending(dispatcher: Any) -> bool:
    try:
        return bool(dispatcher.stats.pending)
    except Exception:  # noqa: BLE001 - a closed or odd dispatcher: nothing more will be sent
        return False


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ACTIVITYSMITH_API_KEY", None)  # the key it needs comes down the pipe
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env



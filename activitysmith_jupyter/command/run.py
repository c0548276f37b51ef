"""``activitysmith run -- CMD ARGS…``: any command as one Live Activity.

While the command runs the activity shows the elapsed time, or the outermost tqdm bar of a Python
child (reported over a pipe by ``_child/sitecustomize.py``; see ``childbars.py``). When it exits the
activity ends with its exit status ("exit 1") and the count its bar reached, and a failure push quotes
the last line of its stderr that is no progress bar (``exit 1`` / ``RuntimeError: CUDA out of memory``),
which still reaches the terminal as it is written. SIGINT, SIGTERM and SIGHUP are forwarded
to the child; ``activitysmith run`` exits with the child's status (a child killed by a signal: the
same signal). The API key stays in the environment: never on a command line, never in a file.
"""
from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from .child_bars import BarPipe, child_environment
from ..delivery.exit_budget import time_left
from .stderr_text import last_meaningful, screen_lines
from ..hub.options import NotifyPolicy
from ..hub.wording import MAX_TITLE

if TYPE_CHECKING:
    from ..hub.outcome import Outcome

__all__ = ["CommandOptions", "StderrTail", "default_title", "exit_outcome", "prepare", "run_command"]

log = logging.getLogger("activitysmith_jupyter")

FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
TAIL_LINES = 6
TAIL_BYTES = 16384



@dataclass(frozen=True, kw_only=True)
class CommandOptions:
    command: tuple[str, ...]
    title: str | None = None
    key: str | None = None
    notify: NotifyPolicy = "always"
    channels: tuple[str, ...] = ()


def default_title(command: Sequence[str]) -> str:
    """``python train.py --epochs 3``: the program's name and its arguments, cut to 60 characters."""
    words = [os.path.basename(command[0]), *command[1:]] if command else ["command"]
    text = shlex.join(words)
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def exit_outcome(returncode: int, *, forwarded: int | None = None) -> tuple[Outcome, str | None]:
    """(outcome, short reason) of a child that exited with `returncode` (negative: killed by that
    signal); `forwarded` is the last signal we passed on to it."""
    if returncode < 0:
        sig = -returncode
        name = _signal_name(sig)
        if sig == signal.SIGINT:
            return "interrupted", name
        if sig == signal.SIGKILL:
            return "killed", name
        if sig in FORWARDED:  # SIGTERM, SIGHUP (SIGINT is handled above)
            return "terminated", name
        return "failed", name
    if returncode == 0:
        return "completed", None
    if forwarded == signal.SIGINT or returncode == 128 + signal.SIGINT:
        return "interrupted", f"exit {returncode}"
    if forwarded is not None or returncode == 128 + signal.SIGTERM:
        return "terminated", f"exit {returncode}"
    return "failed", f"exit {returncode}"


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


class StderrTail:
    """Copies a child's stderr to ours as it arrives and keeps the last lines for the failure push."""

    def __init__(self, source: Any, sink: Any) -> None:
        self._source = source
        self._sink = sink
        self._tail = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, name="activitysmith-run-stderr", daemon=True)

    def start(self) -> StderrTail:
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _pump(self) -> None:
        fd = self._source.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            try:
                self._sink.write(chunk)
                self._sink.flush()
            except (OSError, ValueError):
                pass  # our stderr is gone: keep draining so the child never blocks on a full pipe
            with self._lock:
                self._tail += chunk
                del self._tail[:-TAIL_BYTES]

    def lines(self, limit: int = TAIL_LINES) -> list[str]:
        """The last `limit` lines as a terminal shows them (a ``\\r`` redraw keeps its last state;
        colour codes and ``-----`` rules dropped)."""
        with self._lock:
            raw = bytes(self._tail)
        return [text for text, _ in screen_lines(raw)][-limit:]

    def last_meaningful(self) -> str | None:
        """The last line that is no progress bar: what a failure push quotes."""
        with self._lock:
            raw = bytes(self._tail)
        return last_meaningful(raw)


class _Forwarder:
    """Our handlers for the forwarded signals while the child runs (installed before it starts: a
    signal that comes first is passed on as soon as it exists); restores the old handlers after."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._saved: dict[int, Any] = {}
        self._pending: list[int] = []
        self.last: int | None = None

    def __enter__(self) -> _Forwarder:
        for sig in FORWARDED:
            try:
                self._saved[sig] = signal.signal(sig, self._handle)
            except (ValueError, OSError):  # not the main thread: nothing to forward from
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        pending, self._pending = self._pending, []
        for sig in pending:
            self._send(sig)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.last = signum
        if signum == signal.SIGINT and _terminal_sent_it_too():
            return  # Ctrl-C in our terminal reached the child already (same process group)
        if self.proc is None:
            self._pending.append(signum)
        else:
            self._send(signum)

    def _send(self, signum: int) -> None:
        assert self.proc is not None
        try:
            self.proc.send_signal(signum)
            log.debug("forwarded %s to the child", _signal_name(signum))
        except OSError:
            pass


def _terminal_sent_it_too() -> bool:
    """True when we are the foreground process group of a controlling terminal, so a terminal's
    SIGINT went to the whole group, the child included."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def prepare(options: CommandOptions) -> Any:
    """The activity for `options` (not started). Bad options raise here (ValueError, PayloadError)."""
    from ..hub.activity import Activity

    title = options.title or default_title(options.command)
    # its notify is the user's: the end's push carries the stderr tail (`_finish`), and a death of this
    # process (SIGKILL, OOM) is its watchdog's to push
    return Activity(title, key=options.key, notify=options.notify, channels=options.channels)


def run_command(options: CommandOptions, *, activity: Any = None, environ: Mapping[str, str] | None = None,
                stderr: TextIO | None = None) -> int:
    """Run `options.command` as one Live Activity; return its exit status (negative: killed by that
    signal, after the closing sends were flushed, so the caller can die the same way)."""
    from ..hub.outcome import Snapshot

    act = activity if activity is not None else prepare(options)
    err = stderr or sys.stderr
    bars = BarPipe(lambda fields: act.feed(Snapshot(**fields)) if fields is not None else None)
    env = child_environment(environ if environ is not None else os.environ, fd=bars.write_fd)
    act.start()  # first: its SIGTERM handler (lifecycle) must be the one the forwarder saves and restores
    with _Forwarder() as fwd:
        try:
            proc = subprocess.Popen(list(options.command), env=env, stderr=subprocess.PIPE,
                                    pass_fds=(bars.write_fd,))
        except OSError as exc:
            bars.stop()
            cannot = f"cannot run {options.command[0]!r}: {exc.strerror or exc}"
            print(f"activitysmith run: {cannot}", file=err)
            _finish(act, "failed", cannot, cannot)
            return 127 if isinstance(exc, FileNotFoundError) else 126
        fwd.started(proc)
        bars.close_write_end()
        bars.start()
        assert proc.stderr is not None
        tail = StderrTail(proc.stderr, getattr(err, "buffer", err)).start()
        returncode = proc.wait()
    tail.join(1.0)  # a daemonized grandchild may hold stderr or the pipe open: do not wait for it
    bars.drain(0.5)
    bars.stop()
    outcome, reason = exit_outcome(returncode, forwarded=fwd.last)
    message = None
    if outcome != "completed":  # "exit 1" and the line that says why (never a progress bar)
        message = "\n".join(t for t in (reason or outcome, tail.last_meaningful()) if t)
    _finish(act, outcome, reason, message)
    if returncode < 0:  # the caller dies of the signal: this is its exit (no atexit flush; the watchdog
        act.dispatcher.flush(time_left())  # sends what did not land)
        from ..watchdog.parent import confirm_delivered

        confirm_delivered()  # what landed, the watchdog must not send again
    return returncode


def _finish(act: Any, outcome: Any, reason: str | None, message: str | None) -> None:
    """End the activity; its push (per `notify`) carries `message` (the exit and the stderr tail) when
    there is one. The watchdog is told the push with the end, so a death right after still sends it."""
    try:
        act.end(outcome, error=reason, message=message)
    except Exception as exc:  # noqa: BLE001 - never crash at the end of the user's command
        log.warning("ending the activity failed: %s", exc)

"""The watchdog process: ``python -m activitysmith_jupyter.watchdog``, started by the first activity of a
process (``handle.py``), with the messages of ``protocol.py`` on its stdin.

It keeps what the parent says is open. When the parent dies (end of file on the pipe; backup: the
parent pid changes, for a parent whose pipe a forked child still holds open) it ends each open activity
as "killed" ("Kernel died after 1h 12m", red) and sends the push, then exits. When the parent goes
quiet for an activity's `stall_after` (no heartbeat: its interpreter does not run, e.g. C code holding
the GIL) it pushes once and says so in the subtitle; the next heartbeat restores the subtitle. With the
monitor on it samples the parent's CPU and memory and keeps a ``metrics`` Live Activity current.

It never prints. Idle it imports only the standard library; the HTTP client (and psutil, for the
monitor) load when there is something to send.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..hub.trouble import should_push
from ..hub.wording import format_minutes, push_request, stall_push_title, stall_subtitle
from . import protocol

__all__ = ["Entry", "Watcher", "main"]

log = logging.getLogger("activitysmith_jupyter")

POLL_SECONDS = 5.0  # backup check of the parent pid (the pipe's EOF is the prompt signal)
DEATH_FLUSH_SECONDS = 120.0  # how long the closing sends of a dead parent are retried
MONITOR_KEY_DEFAULT = "kernel-resources"


@dataclass
class Entry:
    """One activity the parent has open."""

    key: str
    title: str
    type: str = "progress"
    channels: list[str] = field(default_factory=list)
    notify: str = "always"
    started: float = 0.0  # wall-clock seconds
    state: dict[str, Any] = field(default_factory=dict)
    stall_after: float | None = None
    target: int = 0  # which API (key, base URL) it goes to
    stalled: bool = False  # the watchdog said "no progress" (no heartbeat) and has not restored it yet
    ending: dict[str, Any] | None = None  # the parent's own end {state, push}, queued but not confirmed


class Watcher:
    """The watchdog's state and decisions; `main` feeds it the pipe and the time.

    `sender`: ``sender(api_key, base_url)`` builds the dispatcher for one target (called once per
    target, when something must go out to it).
    """

    def __init__(self, sender: Callable[[str | None, str | None], Any], *, kind: str = "Process",
                 wall: Callable[[], float] = time.time, parent_pid: int | None = None) -> None:
        self._make_sender = sender
        self._targets: dict[int, tuple[str | None, str | None]] = {}
        self._senders: dict[int, Any] = {}
        self.kind = kind
        self.parent_pid = parent_pid
        self._wall = wall
        self.entries: dict[str, Entry] = {}
        self.last_heard: float | None = None  # monotonic time of the parent's last message
        self.monitor_key: str | None = None
        self.monitor_target = 0
        self.monitor_title = "Kernel resources"
        self._sampler: Any = None

    def sender(self, target: int) -> Any:
        """The dispatcher for `target` (made on first use; the HTTP client loads only then)."""
        sender = self._senders.get(target)
        if sender is None:
            sender = self._senders[target] = self._make_sender(*self._targets.get(target, (None, None)))
        return sender

    # -- the pipe ------------------------------------------------------------------------------------
    def handle(self, message: dict[str, Any], now: float) -> None:
        """One message from the parent, at monotonic time `now`."""
        self.last_heard = now
        self._recovered()
        op = message["op"]
        key = str(message.get("key", ""))
        if op == "hello":
            self.kind = str(message.get("kind") or self.kind)
            self.parent_pid = int(message.get("pid") or 0) or self.parent_pid
        elif op == "target":
            self._targets[int(message["id"])] = (message.get("api_key"), message.get("base_url"))
        elif op == "open":
            self.entries[key] = Entry(
                key=key, title=str(message.get("title") or key), type=str(message.get("type") or "progress"),
                channels=list(message.get("channels") or []), notify=str(message.get("notify") or "always"),
                started=float(message.get("started") or self._wall()), state=dict(message.get("state") or {}),
                stall_after=_seconds(message.get("stall_after")), target=int(message.get("target") or 0))
        elif op == "state" and key in self.entries:
            self.entries[key].state = dict(message.get("state") or {})
        elif op == "ending" and key in self.entries:
            self.entries[key].ending = {"state": message.get("state"), "push": message.get("push")}
        elif op == "closed":
            self.entries.pop(key, None)
        elif op == "monitor":
            self._set_monitor(bool(message.get("on")), message)

    # -- time passing --------------------------------------------------------------------------------
    def next_wake(self, now: float) -> float:
        """Seconds until something may be due (a stall deadline, a monitor sample, the backup poll)."""
        wake = POLL_SECONDS
        if self.last_heard is not None:
            for entry in self.entries.values():
                if entry.stall_after is not None and not entry.stalled and entry.ending is None:
                    wake = min(wake, self.last_heard + _quiet_limit(entry.stall_after) - now)
        sender = self._senders.get(self.monitor_target)
        if self.monitor_key is not None and sender is not None:
            wake = min(wake, sender.next_update_time(self.monitor_key) - sender.clock.monotonic())
        return max(0.05, wake)

    def tick(self, now: float) -> None:
        """Push "no progress" for each activity whose `stall_after` passed without a heartbeat; sample
        the monitor when its pacing allows an update."""
        if self.last_heard is not None:
            quiet = now - self.last_heard
            for entry in self.entries.values():
                if (entry.stall_after is not None and not entry.stalled and entry.ending is None
                        and quiet >= _quiet_limit(entry.stall_after)):
                    self._stall(entry, quiet)
        if self.monitor_key is not None:
            self._sample_monitor()

    def _stall(self, entry: Entry, quiet: float) -> None:
        entry.stalled = True
        state = {**entry.state, "subtitle": stall_subtitle(quiet, entry.state)}
        try:
            self.sender(entry.target).update_stream(entry.key, _request(state, entry.channels))
            if _pushes(entry.notify, "stalled"):
                why = (f"The {self.kind.lower()} is alive but has not run Python for {format_minutes(quiet)}"
                       " (stuck in C code holding the GIL, or suspended).")
                self.sender(entry.target).push(push_request(stall_push_title(entry.title, quiet, entry.state), why,
                                                            entry.channels))
        except Exception as exc:  # noqa: BLE001 - the watchdog must keep watching
            log.warning("stall notice for %s failed: %s", entry.key, exc)

    def _recovered(self) -> None:
        """The parent runs again: put back the subtitle it last sent (no push)."""
        for entry in self.entries.values():
            if entry.stalled:
                entry.stalled = False
                if entry.ending is None:
                    try:
                        self.sender(entry.target).update_stream(entry.key, _request(dict(entry.state), entry.channels))
                    except Exception as exc:  # noqa: BLE001
                        log.warning("restoring %s failed: %s", entry.key, exc)

    # -- the monitor ---------------------------------------------------------------------------------
    def _set_monitor(self, on: bool, message: dict[str, Any]) -> None:
        if on:
            self.monitor_key = str(message.get("key") or MONITOR_KEY_DEFAULT)
            self.monitor_target = int(message.get("target") or 0)
            self.monitor_title = str(message.get("title") or f"{self.kind} resources")
            if self._sampler is None and self.parent_pid:
                try:
                    from .sampler import ResourceSampler

                    self._sampler = ResourceSampler(self.parent_pid)
                except Exception as exc:  # noqa: BLE001 - psutil missing, parent gone
                    log.warning("resource monitor unavailable: %s", exc)
                    self.monitor_key = None
                    return
            self._sample_monitor(force=True)
        elif self.monitor_key is not None:
            key, self.monitor_key = self.monitor_key, None
            self._end_monitor(key, "Monitor off")

    def _sample_monitor(self, *, force: bool = False) -> None:
        from .sampler import metrics_state

        key = self.monitor_key
        if key is None or self._sampler is None:
            return
        sender = self.sender(self.monitor_target)
        if not force and sender.clock.monotonic() < sender.next_update_time(key):
            return
        state = metrics_state(self.monitor_title, self._sampler.sample())
        sender.update_stream(key, {"content_state": state})

    def _end_monitor(self, key: str, subtitle: str) -> None:
        from .sampler import metrics_state

        rows = self._sampler.sample() if self._sampler is not None else []
        state = {**metrics_state(self.monitor_title, rows), "subtitle": subtitle}
        try:
            self.sender(self.monitor_target).end_stream(key, {"content_state": state})
        except Exception as exc:  # noqa: BLE001
            log.warning("ending the monitor failed: %s", exc)

    # -- the end -------------------------------------------------------------------------------------
    def parent_died(self) -> bool:
        """End what the parent left open (its own queued end when it had one), push, and wait for the
        sends (at least once, within DEATH_FLUSH_SECONDS). True when everything landed."""
        if not self.entries and self.monitor_key is None:
            return True
        now = self._wall()
        for entry in list(self.entries.values()):
            if entry.ending is not None and entry.ending.get("state"):
                final, push = dict(entry.ending["state"]), entry.ending.get("push")
            else:
                final, push = protocol.death_end(self.kind, entry.title, entry.state,
                                                 duration=max(0.0, now - entry.started), channels=entry.channels)
                if not _pushes(entry.notify, "killed"):
                    push = None
            try:
                self.sender(entry.target).end_stream(entry.key, _request(final, entry.channels))
                if push:
                    self.sender(entry.target).push(push)
            except Exception as exc:  # noqa: BLE001 - the others must still end
                log.warning("ending %s failed: %s", entry.key, exc)
        self.entries.clear()
        if self.monitor_key is not None:
            key, self.monitor_key = self.monitor_key, None
            self._end_monitor(key, f"{self.kind} died")
        deadline = time.monotonic() + DEATH_FLUSH_SECONDS
        return all([bool(s.close(max(0.0, deadline - time.monotonic()))) for s in self._senders.values()])


def _quiet_limit(stall_after: float) -> float:
    """Silence that counts as a stall (the parent beats faster for a short `stall_after`)."""
    return protocol.quiet_limit(stall_after)


def _pushes(notify: str, event: str) -> bool:
    """The trouble policy (``hub/trouble.py``) for a word read from the pipe; in doubt, trouble pushes."""
    try:
        return should_push(notify, event)  # type: ignore[arg-type]
    except ValueError:
        return True


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    seconds = float(value)
    return seconds if seconds > 0 else None


def _request(state: dict[str, Any], channels: list[str]) -> dict[str, Any]:
    return _with_channels({"content_state": state}, channels)


def _with_channels(request: dict[str, Any], channels: list[str]) -> dict[str, Any]:
    if channels:
        request["channels"] = list(channels)
    return request


def _dispatcher(api_key: str | None, base_url: str | None) -> Any:
    from ..api.client import ActivitySmith
    from ..delivery.dispatcher import Dispatcher

    return Dispatcher(ActivitySmith(api_key, base_url=base_url))


# ------------------------------------------------------------------------------------------------ main


def _read_hello(fd: int) -> tuple[dict[str, Any], bytes]:
    buffer = b""
    while b"\n" not in buffer:
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError
        buffer += chunk
    line, rest = buffer.split(b"\n", 1)
    return protocol.decode(line), rest


def main(fd: int = 0) -> int:
    """Watch the parent until it ends; exit status 0 (1 when a closing send did not land)."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):  # a terminal's Ctrl-C is the parent's
        signal.signal(sig, signal.SIG_IGN)
    logging.getLogger("activitysmith_jupyter").addHandler(logging.NullHandler())
    try:
        hello, buffer = _read_hello(fd)
    except (EOFError, OSError, protocol.ProtocolError):
        return 0
    parent = int(hello.get("pid") or os.getppid())
    watcher = Watcher(_dispatcher, parent_pid=parent)
    watcher.handle(hello, time.monotonic())
    while True:
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for line in lines:
            if line.strip():
                try:
                    watcher.handle(protocol.decode(line), time.monotonic())
                except (protocol.ProtocolError, KeyError, TypeError, ValueError) as exc:
                    log.debug("bad watchdog message: %s", exc)
        now = time.monotonic()
        watcher.tick(now)
        try:
            ready, _, _ = select.select([fd], [], [], watcher.next_wake(time.monotonic()))
        except InterruptedError:  # pragma: no cover - PEP 475 retries select
            ready = []
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break  # EOF: the parent closed the pipe (exited, or died)
            buffer += chunk
        elif os.getppid() != parent:
            break  # reparented: the parent died while something else still holds the pipe
    return 0 if watcher.parent_died() else 1


if __name__ == "__main__":  # pragma: no cover - run through __main__.py
    sys.exit(main())

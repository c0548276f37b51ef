"""The watched process's side of the watchdog: which watchdog serves this process, and what the hub tells
it. The hub calls `watch` when an activity starts, `report` when it hands on a new state and `ending`
when it queues its end; that is the whole coupling. The first `watch` of a process that talks to a
real server (a live client over HTTP; not the embedded simulator, which dies with the process) starts
the watchdog (``handle.Watchdog``). ``ACTIVITYSMITH_WATCHDOG=0`` turns it off."""
from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .handle import Watchdog

__all__ = [
    "ENV_SWITCH",
    "MONITOR_KEY",
    "confirm_delivered",
    "current_watchdog",
    "ending",
    "monitor",
    "monitor_on",
    "report",
    "silence_since",
    "watch",
    "watchdog_for",
]

ENV_SWITCH = "ACTIVITYSMITH_WATCHDOG"

_lock = threading.Lock()
_watchdog: Watchdog | None = None
_watched: set[str] = set()  # keys the watchdog was told about (only those get state / ending)
_monitor_by: set[str] = set()  # keys of open activities made with monitor=True
_monitor_switch = False  # %activitysmith monitor on
MONITOR_KEY = "kernel-resources"


def _target(client: Any) -> tuple[str | None, str] | None:
    """(api key, base URL) when `client` sends over HTTP with its own transport, else None."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    settings = getattr(client, "_settings", None)
    conn = getattr(client, "_conn", None)  # asked without making the client's HTTP side (httpx is lazy)
    if settings is None or conn is None or getattr(client, "mode", None) != "live":
        return None
    if not conn.own_transport():
        return None  # a test's or the user's own transport: a separate process could not reach it
    return settings.api_key, settings.base_url


def watchdog_for(client: Any) -> tuple[Watchdog, int] | None:
    """(the process's watchdog, the id of `client`'s API there) when `client` reaches a server over
    HTTP; the watchdog starts on first use. None otherwise."""
    global _watchdog
    target = _target(client)
    if target is None:
        return None
    with _lock:
        if _watchdog is None or _watchdog.pid != os.getpid():
            from .handle import Watchdog

            _watchdog = Watchdog()
            _watched.clear()
        w = _watchdog
    return w, w.target(*target)


def current_watchdog() -> Watchdog | None:
    """This process's watchdog, if one was started (None in a forked child until it starts its own)."""
    w = _watchdog
    return w if w is not None and w.pid == os.getpid() else None


def silence_since(since: float) -> float:
    """The longest time after `since` (monotonic) in which this process's interpreter did not run, as
    its watchdog's heartbeat saw it (0.0 without a watchdog)."""
    w = current_watchdog()
    return w.silence_since(since) if w is not None else 0.0


def watch(activity: Any) -> None:
    """`activity` started (its `key`, `title`, `type`, `channels`, `notify`, `content_state`,
    `stall_after` and `dispatcher` are read)."""
    try:
        if not getattr(getattr(activity, "rank", None), "mirrors", True):
            return  # a silent rank (distributed training) shows nothing, so leaves nothing to end
        found = watchdog_for(getattr(getattr(activity, "dispatcher", None), "client", None))
        if found is None:
            return
        w, target = found
        started = time.time() - float(getattr(activity, "elapsed", 0.0) or 0.0)
        w.send("open", key=activity.key, title=activity.title, type=getattr(activity, "type", "progress"),
               channels=list(getattr(activity, "channels", ()) or ()), notify=getattr(activity, "notify", "always"),
               started=started, state=dict(activity.content_state),
               stall_after=getattr(activity, "stall_after", None), target=target)
        _watched.add(activity.key)
        w.beat_for(getattr(activity, "stall_after", None))  # so its stall is seen in time (protocol.py)
        if getattr(activity, "monitor", False):
            _monitor_by.add(activity.key)
            _set_monitor(w, target)
    except Exception as exc:  # noqa: BLE001 - the watchdog never stops the user's work
        _log(exc, "watchdog: watching failed")


def report(activity: Any, state: dict[str, Any]) -> None:
    """`activity` handed on `state` (the watchdog keeps the newest)."""
    w = current_watchdog()
    if w is not None and activity.key in _watched:
        w.send("state", key=activity.key, state=state)


def ending(activity: Any, state: dict[str, Any], push: dict[str, Any] | None) -> None:
    """`activity` queued its end (`state`) and closing `push` on its dispatcher."""
    w = current_watchdog()
    if w is not None and activity.key in _watched:
        _watched.discard(activity.key)
        w.ending(activity.key, activity.dispatcher, state, push)
        if activity.key in _monitor_by:
            _monitor_by.discard(activity.key)
            _set_monitor(w, w.monitoring_target)


def confirm_delivered() -> None:
    """Tell the watchdog now (not on its writer's next round) which queued ends have landed: called
    after a flush that the process's death follows at once (SIGTERM), so nothing is ended twice."""
    w = current_watchdog()
    if w is not None:
        w.confirm_now()


def monitor(on: bool, *, client: Any = None) -> Watchdog | None:
    """``%activitysmith monitor on|off``: the process's CPU, memory (and GPU) as a ``metrics`` Live
    Activity, sampled by the watchdog. Stays on while this switch, or an open activity made with
    ``monitor=True``, wants it. Returns the watchdog; None when this process has none (the embedded
    simulator lives inside the process: nothing outside it could show the monitor)."""
    global _monitor_switch
    if client is None:
        from ..api.client import default_client

        client = default_client()
    _monitor_switch = on
    found = watchdog_for(client) if on or current_watchdog() is not None else None
    if found is None:
        return None
    _set_monitor(*found)
    return found[0]


def monitor_on() -> bool:
    """Whether the resource monitor is wanted now."""
    return _monitor_switch or bool(_monitor_by)


def _set_monitor(w: Watchdog, target: int) -> None:
    on = monitor_on()
    if on != w.monitoring:
        w.monitoring, w.monitoring_target = on, target
        w.send("monitor", on=on, key=MONITOR_KEY, title=f"{w.kind} resources", target=target)


def _log(exc: BaseException, what: str) -> None:
    import logging

    logging.getLogger("activitysmith_jupyter").warning("%s: %s", what, exc)


def _after_fork_in_child() -> None:
    global _watchdog
    w, _watchdog = _watchdog, None
    if w is not None:
        w.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

"""`tqdm` / `trange` that also mirror the bar to a ``progress`` Live Activity (an :class:`Activity`).

>>> from activitysmith_jupyter.tqdm import tqdm, trange
>>> for batch in tqdm(loader, desc="Epoch 3"):
...     ...

The bar still shows locally (notebook widget or terminal: these subclass ``tqdm.auto.tqdm``). The hot
loop is tqdm's own: nothing runs per iteration. Mirroring hooks ``display()``, which tqdm calls at its
own ``mininterval``; there a clock comparison decides whether the update policy lets an update go,
and only then is a snapshot fed to the bar's Activity, which hands the state to the dispatcher.

Only the outermost bar of a thread owns a Live Activity (inner per-epoch bars do not start their own),
unless it is given a ``stream_key``. While a bar observer is active (the cell magic), these bars start
no stream: the observer's activity shows them. The bar's end is the Activity's end: ``completed``,
``stopped`` (a break or an early close), ``failed`` or ``interrupted``.
"""
from __future__ import annotations

import logging
import math
import sys
import threading
import warnings
import weakref
from typing import Any

from tqdm.auto import tqdm as tqdm_auto

from . import payloads
from .hub import Activity, ActivityType, NotifyPolicy
from .dispatch import Dispatcher, dispatcher_for
from .integrations._tqdm_bars import BarSnapshot, bar_subtitle, hub_snapshot, running_state, snapshot
from .integrations._tqdm_close import after_this_cell, close_outcome
from .integrations.tqdm import BarObserver, observe_bars, observers_active
from .outcome import Outcome
from .policy import UpdatePolicy

__all__ = [
    "BarObserver", "BarSnapshot", "bar_subtitle", "close_outcome", "observe_bars", "running_state", "snapshot",
    "tqdm_activitysmith", "trange_activitysmith", "tqdm", "trange",
]

logger = logging.getLogger("activitysmith_jupyter")

RECHECK = 1.0  # seconds between looks at the dispatcher while an update is already queued
MAX_TITLE = 60

_live_lock = threading.Lock()
_live_keys: set[str] = set()
_thread_bars = threading.local()  # .stack: list of weakrefs to this thread's open bars
_warned = False  # the mirroring-failed warning is shown once per process


def _outer_bar_open() -> bool:
    stack = getattr(_thread_bars, "stack", None)
    if not stack:
        return False
    stack[:] = [ref for ref in stack if (b := ref()) is not None and not getattr(b, "disable", True)]
    return bool(stack)


def _claim_key(key: str, *, exact: bool) -> str:
    with _live_lock:
        if not exact:
            base, i = key, 2
            while key in _live_keys:
                key, i = f"{base[:250]}-{i}", i + 1
        _live_keys.add(key)
        return key


def _release_key(key: str) -> None:
    with _live_lock:
        _live_keys.discard(key)


class _Mirror:
    """A bar's Live Activity: the gate (a clock comparison), then a snapshot fed to its Activity."""

    __slots__ = ("activity", "title", "clock", "due", "closing")

    def __init__(self, activity: Activity, title: str | None) -> None:
        self.activity, self.title = activity, title
        self.clock = activity.dispatcher.clock
        self.due = -math.inf
        self.closing = False

    @property
    def key(self) -> str:
        return self.activity.key

    def title_for(self, bar: Any) -> str:
        """The explicit title, else the bar's current description (it may change with set_description)."""
        if self.title:
            return self.title
        desc = str(getattr(bar, "desc", "") or "").strip().rstrip(":").strip()
        return (desc or "Progress")[:MAX_TITLE]

    def tick(self, bar: Any) -> None:
        """Called from display() once the clock passed `due`: show the bar if the policy allows."""
        act = self.activity
        now = self.clock.monotonic()
        nxt = act.dispatcher.next_update_time(act.key)
        if nxt > now:
            self.due = now + RECHECK if math.isinf(nxt) else nxt
            return
        act.title = self.title_for(bar)
        snap = hub_snapshot(snapshot(bar), described=False)
        if act.started:
            act.feed(snap)
        else:
            act.start(snap, background=False)  # validates color/channels now: PayloadError reaches the caller
        self.due = now + RECHECK

    def end(self, bar: Any, outcome: Outcome, detail: str | None) -> None:
        try:
            self.activity.title = self.title_for(bar)
            self.activity.end(outcome, error=detail, last=hub_snapshot(snapshot(bar, closed=True), described=False))
        finally:
            _release_key(self.key)


class tqdm_activitysmith(tqdm_auto):  # type: ignore[type-arg]  # pylint: disable=inconsistent-mro
    """``tqdm.auto.tqdm`` that also mirrors the bar to a ``progress`` Live Activity on a stream.

    Extra keyword arguments (all optional):

    stream_key: the stream (``^[A-Za-z0-9_-]+$``, <= 255); default derived from `desc`/`title`.
        Given explicitly, an inner (nested) bar mirrors too.
    title: Live Activity title (default: `desc`, else "Progress").
    client: an ``ActivitySmith`` client (default: ``default_client()``: a key from the environment,
        else the embedded simulator). dispatcher: a `Dispatcher` to use instead (tests: FakeClock).
    color: accent color while running (the end is green when completed, orange/red otherwise).
    channels: channel slugs (list or comma string) to target.
    policy: an `UpdatePolicy` for this bar's activity (default: the dispatcher's).
    mirror: False to show the bar locally only. ``disable=True`` sends nothing either.
    notify: push when the bar ends: "never" (default), "failure" or "always" ("✅ Epochs finished in 3m 12s").
    stall_after: seconds without progress before one "no progress" push (default 600; 0/None: off).
    """

    def __init__(self, *args: Any, stream_key: str | None = None, title: str | None = None, client: Any = None,
                 dispatcher: Dispatcher | None = None, color: str | None = None, channels: Any = None,
                 policy: UpdatePolicy | None = None, mirror: bool = True, notify: NotifyPolicy = "never",
                 stall_after: float | None = 600.0, **kwargs: Any) -> None:
        self._activitysmith: _Mirror | None = None
        self._activitysmith_exc: BaseException | None = None
        super().__init__(*args, **kwargs)
        if self.disable:
            return
        outer = not _outer_bar_open()
        stack = getattr(_thread_bars, "stack", None)
        if stack is None:
            stack = _thread_bars.stack = []
        stack.append(weakref.ref(self))
        if not mirror or observers_active() or not (outer or stream_key):
            return
        try:
            self._activitysmith = self._start_mirror(stream_key, title, client, dispatcher, color, channels, policy,
                                                     notify, stall_after)
        except BaseException:
            self._activitysmith = None
            super().close()
            raise

    def _start_mirror(self, stream_key: str | None, title: str | None, client: Any, dispatcher: Dispatcher | None,
                      color: str | None, channels: Any, policy: UpdatePolicy | None,
                      notify: NotifyPolicy, stall_after: float | None = 600.0) -> _Mirror:
        desc = (self.desc or "").strip().rstrip(":").strip()
        if stream_key is not None:
            payloads.check("end_stream", {}, key=stream_key)  # a bad key is the caller's mistake
        key = _claim_key(stream_key or payloads.stream_key_from(desc or title, default="tqdm", max_length=200),
                         exact=stream_key is not None)
        try:
            if dispatcher is None:
                dispatcher = dispatcher_for(client)
            kind: ActivityType = "progress" if self.total else "value"
            activity = Activity(title[:MAX_TITLE] if title else (desc or "Progress")[:MAX_TITLE], key=key, type=kind,
                                notify=notify, channels=channels or (), color=color, dispatcher=dispatcher,
                                policy=policy, clock=dispatcher.clock, elapsed_updates=False, stall_after=stall_after)
            m = _Mirror(activity, title[:MAX_TITLE] if title else None)
            m.tick(self)  # the start; validates color/channels now: PayloadError reaches the caller
        except BaseException:
            _release_key(key)
            raise
        return m

    @property
    def stream_key(self) -> str | None:
        """The stream this bar mirrors to (None: not mirrored)."""
        m = self._activitysmith
        return m.key if m is not None else None

    def display(self, *args: Any, **kwargs: Any) -> Any:
        out = super().display(*args, **kwargs)
        m = self._activitysmith
        if m is not None and not m.closing and m.clock.monotonic() >= m.due:
            try:
                m.tick(self)
            except Exception as exc:  # noqa: BLE001 - the user's loop goes on; the log has the traceback
                self._mirror_failed(exc)
        return out

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        if exc_value is not None:
            self._activitysmith_exc = exc_value
        return super().__exit__(exc_type, exc_value, traceback)

    def close(self) -> None:
        m = self._activitysmith
        if m is None or self.disable:
            super().close()
            return
        m.closing = True
        try:
            outcome, detail = close_outcome(self, self._activitysmith_exc or sys.exc_info()[1])
        except Exception as exc:  # noqa: BLE001
            self._mirror_failed(exc)
            outcome, detail = "stopped", None
        super().close()
        self._activitysmith = None
        if outcome == "failed" and detail is None and after_this_cell(lambda error: self._end(m, error)):
            return  # an exception left the loop, type unknown here: IPython tells at the cell's end
        self._end(m, None, outcome, detail)

    def _end(self, m: _Mirror, cell_error: BaseException | None, outcome: Outcome = "failed",
             detail: str | None = None) -> None:
        try:
            if cell_error is not None:
                outcome, detail = close_outcome(self, cell_error)
            m.end(self, outcome, detail)
        except Exception as exc:  # noqa: BLE001
            self._mirror_failed(exc)

    def _mirror_failed(self, exc: BaseException) -> None:
        m, self._activitysmith = self._activitysmith, None
        logger.warning("activitysmith_jupyter: mirroring bar %r stopped: %r", getattr(self, "desc", ""), exc,
                       exc_info=exc)
        if m is not None:
            m.activity.dispatcher.last_error = exc
            _release_key(m.key)
        global _warned
        if not _warned:
            _warned = True
            warnings.warn(f"activitysmith_jupyter: stopped mirroring a tqdm bar to the phone ({exc!r}); "
                          "details in the 'activitysmith_jupyter' log", RuntimeWarning, stacklevel=3)


def trange_activitysmith(*args: Any, **kwargs: Any) -> tqdm_activitysmith:
    """``tqdm(range(*args), **kwargs)`` mirrored to a Live Activity."""
    return tqdm_activitysmith(range(*args), **kwargs)


# Aliases (tqdm.contrib style)
tqdm = tqdm_activitysmith
trange = trange_activitysmith

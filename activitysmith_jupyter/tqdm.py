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
from collections.abc import Callable
from typing import Any

from tqdm.auto import tqdm as tqdm_auto

from . import payloads
from .errors import PayloadError, Problem
from .hub.activity import Activity, ActivityType, NotifyPolicy
from .delivery.dispatcher import Dispatcher, dispatcher_for
from .integrations.tqdm.chain import STREAKS, finish_now, settle
from .integrations.tqdm.bars import BarSnapshot, bar_subtitle, hub_snapshot, running_state, snapshot
from .hub.after_cell import after_this_cell
from .hub.wording import MAX_TITLE
from .integrations.tqdm.close import SCRIPT_EXIT, after_script_exit, close_outcome
from .integrations.tqdm.close import dropped_iterator_error, exception_in_flight
from .integrations.tqdm import BarObserver, observe_bars, observers_active
from .hub.outcome import Outcome, Snapshot
from .delivery.policy import UpdatePolicy

__all__ = [
    "BarObserver", "BarSnapshot", "bar_subtitle", "close_outcome", "observe_bars", "running_state", "settle",
    "snapshot", "tqdm_activitysmith", "trange_activitysmith", "tqdm", "trange",
]

logger = logging.getLogger("activitysmith_jupyter")

RECHECK = 1.0  # seconds between looks at the dispatcher while an update is already queued

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


_NOTIFY = ("always", "failure", "never")
_TYPES = ("progress", "value", "stats")


def _check_options(*, stream_key: Any, title: Any, color: Any, channels: Any, policy: Any, notify: Any,
                   kind: Any) -> None:
    """The drop-in's own options, checked before the bar is drawn or anything is claimed or sent:
    ``TypeError``/``ValueError``/``PayloadError`` naming the option and what it takes."""
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title={title!r}: the Live Activity's title is a string (default: the bar's desc)")
    if policy is not None and not isinstance(policy, UpdatePolicy):
        raise TypeError(f"policy={policy!r}: an activitysmith_jupyter.delivery.policy.UpdatePolicy, or None for the "
                        "dispatcher's own pacing")
    if notify not in _NOTIFY:
        raise ValueError(f"notify={notify!r} is not one of: {', '.join(_NOTIFY)}")
    if kind is not None and kind not in _TYPES:
        raise ValueError(f"type={kind!r} is not one of: {', '.join(_TYPES)} (default: progress, value without a total)")
    problems: list[Problem] = []
    if stream_key is not None:
        problems += payloads.validate("end_stream", {}, key=stream_key)
    state: dict[str, Any] = {"title": "t", "type": "progress", "percentage": 0}
    if color is not None:
        state["color"] = color
    body: dict[str, Any] = {"content_state": state}
    if channels:
        body["channels"] = [c.strip() for c in channels.split(",") if c.strip()] if isinstance(channels, str) else channels
    problems += [Problem(p.path.replace("content_state.", ""), p.message)
                 for p in payloads.validate("stream", body, key="k")]
    if problems:
        raise PayloadError(problems, endpoint="stream")


class _Mirror:
    """A bar's Live Activity: the gate (a clock comparison), then a snapshot fed to its Activity."""

    __slots__ = ("activity", "title", "clock", "due", "closing", "bar")

    def __init__(self, activity: Activity, title: str | None) -> None:
        self.activity, self.title = activity, title
        self.clock = activity.dispatcher.clock
        self.due = -math.inf
        self.closing = False
        self.bar: weakref.ref[Any] | None = None  # the bar shown now (a streak's next bar replaces it)
        activity.live = self.live

    def live(self) -> Snapshot | None:
        """The bar's count as it is now (`Activity.live`; read on the ticker's thread, off the user's
        loop): tqdm draws, and so hands us, a count only every `mininterval`."""
        bar = self.bar() if self.bar is not None else None
        if bar is None or self.closing or getattr(bar, "disable", True):
            return None
        return hub_snapshot(snapshot(bar), described=False)

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

    def resume(self, bar: Any, title: str | None) -> None:
        """A following bar continues this activity (see ``integrations.tqdm.chain``)."""
        self.title, self.closing, self.due = (title[:MAX_TITLE] if title else None), False, -math.inf
        self.bar = weakref.ref(bar)
        self.tick(bar)

    def end(self, bar: Any, outcome: Outcome, detail: str | None) -> None:
        self.ending(bar, outcome, detail)()

    def ending(self, bar: Any, outcome: Outcome, detail: str | None) -> Callable[[], None]:
        """The end as the bar is now (title, last count, time), to send now or later."""
        title, at = self.title_for(bar), self.clock.monotonic()
        last = hub_snapshot(snapshot(bar, closed=True), described=False)

        def send() -> None:
            try:
                self.activity.title = title
                self.activity.end(outcome, error=detail, last=last, at=at)
            finally:
                _release_key(self.key)
        return send


class _TqdmClass(type):
    """tqdm keeps its write lock and its bar registry on the class that first made them, usually
    ``tqdm.std.tqdm``: ``del tqdm._lock`` (tqdm's own tests do it; ``get_lock()`` makes a new one) must
    work on this subclass too, as it does on tqdm, so it deletes the attribute where it lives."""

    def __delattr__(cls, name: str) -> None:
        if name in ("_lock", "_instances") and name not in cls.__dict__:
            for base in cls.__mro__[1:]:
                if name in base.__dict__:
                    delattr(base, name)
                    return
        super().__delattr__(name)


class tqdm_activitysmith(tqdm_auto, metaclass=_TqdmClass):  # type: ignore[type-arg]  # pylint: disable=inconsistent-mro
    """``tqdm.auto.tqdm`` that also mirrors the bar to a ``progress`` Live Activity on a stream.

    Extra keyword arguments (all optional):

    stream_key: the stream (``payloads.STREAM_KEY_RULE``: 1-255 letters, digits, '_' and '-'); default derived from `desc`/`title`.
        Given explicitly, an inner (nested) bar mirrors too.
    title: Live Activity title (default: `desc`, else "Progress").
    client: an ``ActivitySmith`` client (default: ``default_client()``: a key from the environment,
        else the embedded simulator). dispatcher: a `Dispatcher` to use instead (tests: FakeClock).
    color: accent color while running (the end is green when completed, orange/red otherwise).
    channels: channel slugs (list or comma string) to target.
    policy: an `UpdatePolicy` for this bar's activity (default: the dispatcher's).
    mirror: False to show the bar locally only. ``disable=True`` sends nothing either.
    notify: when to push: "failure" (default: a failure, a death, SIGTERM, a stall, a failing rank),
        "always" (also a success: "✅ Epochs finished in 3m 12s") or "never" (nothing at all).
    type: "progress" (default with a total), "value" (default without) or "stats": the count, the
        postfix's metrics (``set_postfix(loss=0.231)``) and the ETA as a stats activity.
    stall_after: seconds without progress before one "no progress" push (default 600; 0/None: off).
    """

    def __init__(self, *args: Any, stream_key: str | None = None, title: str | None = None, client: Any = None,
                 dispatcher: Dispatcher | None = None, color: str | None = None, channels: Any = None,
                 policy: UpdatePolicy | None = None, mirror: bool = True, notify: NotifyPolicy = "failure",
                 type: ActivityType | None = None, stall_after: float | None = 600.0,  # noqa: A002
                 **kwargs: Any) -> None:
        self._activitysmith: _Mirror | None = None
        self._activitysmith_exc: BaseException | None = None
        self._activitysmith_place = 0  # in a streak of short bars (integrations.tqdm.chain); 0: none
        if mirror:
            _check_options(stream_key=stream_key, title=title, color=color, channels=channels, policy=policy,
                           notify=notify, kind=type)
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
            if dispatcher is None:
                dispatcher = dispatcher_for(client)
            if stream_key is None:
                self._activitysmith_place, rest = STREAKS.starting(dispatcher)
                kind = type or ("progress" if self.total else "value")
                if rest is not None and rest.mirror.activity.type == kind and not rest.mirror.activity.ended:
                    self._activitysmith = rest.mirror
                    rest.mirror.resume(self, title)
                    return
                if rest is not None:
                    finish_now(rest)
            self._activitysmith = self._start_mirror(stream_key, title, client, dispatcher, color, channels, policy,
                                                     notify, type, stall_after)
        except BaseException:
            self._activitysmith = None
            super().close()
            raise

    def _start_mirror(self, stream_key: str | None, title: str | None, client: Any, dispatcher: Dispatcher | None,
                      color: str | None, channels: Any, policy: UpdatePolicy | None,
                      notify: NotifyPolicy, kind: ActivityType | None = None,
                      stall_after: float | None = 600.0) -> _Mirror:
        desc = (self.desc or "").strip().rstrip(":").strip()
        key = _claim_key(stream_key or payloads.stream_key_from(desc or title, default="tqdm", max_length=200),
                         exact=stream_key is not None)
        try:
            if dispatcher is None:
                dispatcher = dispatcher_for(client)
            if kind is None:
                kind = "progress" if self.total else "value"
            activity = Activity(title[:MAX_TITLE] if title else (desc or "Progress")[:MAX_TITLE], key=key, type=kind,
                                notify=notify, channels=channels or (), color=color, dispatcher=dispatcher,
                                policy=policy, clock=dispatcher.clock, elapsed_updates=False, stall_after=stall_after)
            m = _Mirror(activity, title[:MAX_TITLE] if title else None)
            m.bar = weakref.ref(self)
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
        if not hasattr(self, "disable"):  # refused before tqdm's __init__ ran (tqdm < 4.69.1 reads it in close)
            return
        m = self._activitysmith
        if m is None or self.disable:
            super().close()
            return
        m.closing = True
        error: BaseException | None = None
        try:
            error = self._activitysmith_exc or exception_in_flight(self, sys._getframe(1))
            if isinstance(error, GeneratorExit):
                error = dropped_iterator_error()
            outcome, detail = close_outcome(self, error)
        except Exception as exc:  # noqa: BLE001
            self._mirror_failed(exc)
            outcome, detail = "stopped", None
        super().close()
        self._activitysmith = None
        if error is SCRIPT_EXIT and after_script_exit(lambda error: self._end(m, error)):
            return  # the script is exiting: its excepthook names the exception, else it was SystemExit
        if outcome == "failed" and detail is None and after_this_cell(lambda error: self._end(m, error)):
            return  # an exception left the loop, type unknown here: IPython tells at the cell's end
        if self._activitysmith_place and outcome in ("completed", "stopped"):
            try:
                if STREAKS.closed(m.activity.dispatcher, self._activitysmith_place, m, m.ending(self, outcome, detail)):
                    return  # resting: a bar starting within WINDOW seconds continues this activity
            except Exception as exc:  # noqa: BLE001 - then it ends now, as any bar
                logger.warning("activitysmith_jupyter: keeping bar %r's activity open failed: %r", self.desc, exc)
        elif self._activitysmith_place:
            STREAKS.failed()
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

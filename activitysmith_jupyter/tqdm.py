"""`tqdm` / `trange` that also mirror the bar to a ``progress`` Live Activity, and the bar observer.

>>> from activitysmith_jupyter.tqdm import tqdm, trange
>>> for batch in tqdm(loader, desc="Epoch 3"):
...     ...

The bar still shows locally (notebook widget or terminal: these subclass ``tqdm.auto.tqdm``). The hot
loop is tqdm's own: nothing runs per iteration. Mirroring hooks ``display()``, which tqdm calls at its
own ``mininterval``; there a clock comparison decides whether the update policy lets an update go,
and only then is a content state built and handed to the dispatcher, which sends it from its thread.

Only the outermost bar of a thread owns a Live Activity (inner per-epoch bars do not start their own),
unless it is given a ``stream_key``. While a `BarObserver` is active (the cell magic), these bars start
no stream: the observer's owner mirrors them.
"""
from __future__ import annotations

import asyncio
import dis
import logging
import math
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import tqdm as _tqdm_pkg
from tqdm.auto import tqdm as tqdm_auto
from tqdm.std import tqdm as std_tqdm

from . import payloads
from .dispatch import Dispatcher, dispatcher_for
from .policy import UpdatePolicy

__all__ = [
    "BarObserver", "BarSnapshot", "bar_subtitle", "observe_bars", "snapshot", "tqdm_activitysmith",
    "trange_activitysmith", "tqdm", "trange",
]

logger = logging.getLogger("activitysmith_jupyter")

RECHECK = 1.0  # seconds between looks at the dispatcher while an update is already queued
MAX_TITLE = 60
_COLORS_DONE = {"completed": "green", "stopped": "orange", "failed": "red", "interrupted": "orange"}

# ----------------------------------------------------------------------------- helpers (pure)


def _fmt_num(x: float | None, unit_scale: Any, divisor: int) -> str:
    if x is None:
        return "?"
    if unit_scale:
        scale = 1 if unit_scale is True else unit_scale
        return std_tqdm.format_sizeof(x * scale, divisor=divisor)
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _fmt_rate(rate: float | None, unit: str, unit_scale: Any, divisor: int) -> str | None:
    """tqdm's own rate style: ``123.45it/s``, ``1.23MB/s``, ``2.50s/it``."""
    if not rate:
        return None
    if rate < 1:
        return f"{1 / rate:.2f}s/{unit}"
    if unit_scale:
        return f"{std_tqdm.format_sizeof(rate * (1 if unit_scale is True else unit_scale), divisor=divisor)}{unit}/s"
    return f"{rate:.2f}{unit}/s"


def _fmt_clock(when: float, now: float) -> str:
    """Wall-clock time of `when` (local): ``14:32``, or ``Tue 14:32`` beyond 24 h. A kernel on UTC (a
    server, a container) says so -- ``14:32 UTC`` -- since the phone is likely in another zone."""
    lt = time.localtime(when)
    text = time.strftime("%a %H:%M" if when - now >= 86400 else "%H:%M", lt)
    return f"{text} UTC" if lt.tm_gmtoff == 0 and lt.tm_zone in ("UTC", "GMT", "Etc/UTC") else text


def _fmt_elapsed(seconds: float) -> str:
    return std_tqdm.format_interval(max(0.0, seconds))


@dataclass(frozen=True, kw_only=True)
class BarSnapshot:
    """What a bar showed at one moment (cheap to make; read from any thread)."""

    n: float
    total: float | None
    desc: str
    unit: str
    rate: float | None  # units per second (tqdm's smoothed rate, or n/elapsed)
    elapsed: float  # seconds since the bar started
    closed: bool = False
    completed: bool | None = None  # set when closed: True when it reached its total (or had none)
    bar_id: int = 0  # id() of the bar: tells bars apart
    position: int = 0
    unit_scale: Any = False
    unit_divisor: int = 1000

    @property
    def percentage(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(100.0, 100.0 * self.n / self.total))


def snapshot(bar: Any, *, closed: bool = False) -> BarSnapshot:
    """A `BarSnapshot` of a tqdm bar (any tqdm class)."""
    n = getattr(bar, "n", 0) or 0
    total = getattr(bar, "total", None)
    start = getattr(bar, "start_t", None)
    timer = getattr(bar, "_time", time.time)
    elapsed = max(0.0, timer() - start) if start is not None else 0.0
    rate = None
    try:
        ema_dt = bar._ema_dt()
        rate = bar._ema_dn() / ema_dt if ema_dt else None
    except Exception:  # noqa: BLE001 - a bar still initialising, or a foreign tqdm class
        rate = None
    if not rate and elapsed > 0 and n:
        rate = n / elapsed
    completed = None
    if closed:
        completed = total is None or n >= total
    return BarSnapshot(n=n, total=total, desc=str(getattr(bar, "desc", "") or ""), unit=str(getattr(bar, "unit", "it")),
                       rate=rate, elapsed=elapsed, closed=closed, completed=completed, bar_id=id(bar),
                       position=abs(getattr(bar, "pos", 0) or 0), unit_scale=getattr(bar, "unit_scale", False),
                       unit_divisor=getattr(bar, "unit_divisor", 1000) or 1000)


def _amount(s: BarSnapshot) -> str:
    """``1,200 it``: the count of a bar without a total."""
    return f"{_fmt_num(s.n, s.unit_scale, s.unit_divisor)} {s.unit}"


def _count(s: BarSnapshot) -> str:
    """``1,200/5,000``, or ``1,200 it`` without a total."""
    if not s.total:
        return _amount(s)
    return f"{_fmt_num(s.n, s.unit_scale, s.unit_divisor)}/{_fmt_num(s.total, s.unit_scale, s.unit_divisor)}"


def bar_subtitle(s: BarSnapshot, now: float) -> str:
    """What a Lock Screen shows between sparse updates: ``n/total · rate · ETA 14:32`` (wall clock)."""
    parts = [_count(s)]
    rate = _fmt_rate(s.rate, s.unit, s.unit_scale, s.unit_divisor)
    if rate:
        parts.append(rate)
    if s.total and s.rate and s.n < s.total:
        remaining = (s.total - s.n) / s.rate
        if math.isfinite(remaining) and remaining < 366 * 86400:
            parts.append(f"ETA {_fmt_clock(now + remaining, now)}")
    return " · ".join(parts)


def running_state(s: BarSnapshot, *, title: str, color: str | None, now: float) -> dict[str, Any]:
    """The content state of a running bar: progress with a percentage (or a value without total)."""
    if s.total:
        return payloads.content_state(title, type="progress", percentage=round(s.percentage or 0.0, 1),
                                      subtitle=bar_subtitle(s, now), color=color)
    return payloads.content_state(title, type="value", value=_amount(s), subtitle=bar_subtitle(s, now), color=color)


def final_state(s: BarSnapshot, outcome: str, *, title: str, detail: str | None = None) -> dict[str, Any]:
    """The content state a bar ends with: ``completed`` (100 %, green), ``stopped`` (a break or an
    early close), ``failed`` (an exception) or ``interrupted`` (KeyboardInterrupt)."""
    color = _COLORS_DONE[outcome]
    count = _count(s)
    took = _fmt_elapsed(s.elapsed)
    if outcome == "completed":
        subtitle = f"Done · {count} in {took}"
    else:
        word = {"stopped": "Stopped", "failed": "Failed", "interrupted": "Interrupted"}[outcome]
        subtitle = f"{word} at {count}" + (f": {detail}" if detail else "") + f" · {took}"
    subtitle = subtitle[:120]
    if s.total:
        pct = 100.0 if outcome == "completed" else min(round(s.percentage or 0.0, 1), 99.9)
        return payloads.content_state(title, type="progress", percentage=pct, subtitle=subtitle, color=color)
    return payloads.content_state(title, type="value", value=_amount(s), subtitle=subtitle, color=color)


# -------------------------------------------------------------------------- how a bar closed

# Opcodes at which a frame drops a for-loop's iterator without an exception in flight:
# break/return (POP_TOP, POP_ITER, RETURN_*), loop end (END_FOR, FOR_ITER: e.g. a shorter zip partner),
# rebinding or deleting a name that held it.
_QUIET_OPS = frozenset(op for op in dis.opmap if op.startswith(("POP_", "RETURN_", "JUMP", "END_", "STORE_", "DELETE_"))
                       ) | {"FOR_ITER", "NOP", "RESUME"}
_TQDM_DIR = os.path.dirname(os.path.abspath(_tqdm_pkg.__file__))


def close_outcome(bar: Any, exc: BaseException | None) -> tuple[str, str | None]:
    """How a bar ended: (``completed``|``stopped``|``failed``|``interrupted``, detail).

    `exc`: the exception in flight, when known (``__exit__``, or ``sys.exc_info()`` in ``close()``).
    A for-loop's bar is closed by its generator: an exception in the loop body shows up there only as
    ``GeneratorExit``, so the frame that dropped the iterator tells: a ``break`` drops it with a quiet
    opcode, an exception while it is at the call or ``raise`` that failed.
    """
    if isinstance(exc, GeneratorExit):
        exc = None if _dropped_quietly() else _UNKNOWN_ERROR
    if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
        return "interrupted", type(exc).__name__
    if exc is not None and not isinstance(exc, (StopIteration, StopAsyncIteration, SystemExit)):
        return "failed", None if exc is _UNKNOWN_ERROR else _describe(exc)
    total, n = getattr(bar, "total", None), getattr(bar, "n", 0)
    if total is None or n >= total:
        return "completed", None
    return "stopped", None


def _after_this_cell(callback: Callable[[BaseException | None], Any]) -> bool:
    """Under IPython, call ``callback(error_in_exec)`` once when the running cell ends; False elsewhere.

    A for-loop's bar sees an exception in the loop body only as ``GeneratorExit``; the cell's result
    says what it was (``KeyboardInterrupt`` -> interrupted, else the exception's type and message)."""
    ipython = sys.modules.get("IPython")
    if ipython is None or threading.current_thread() is not threading.main_thread():  # cells run in main
        return False
    shell = ipython.get_ipython()
    events = getattr(shell, "events", None)
    if events is None:
        return False

    def once(result: Any) -> None:
        events.unregister("post_run_cell", once)
        callback(getattr(result, "error_in_exec", None))

    events.register("post_run_cell", once)
    return True


class _UnknownError(Exception):
    pass


_UNKNOWN_ERROR = _UnknownError()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:80] if text else type(exc).__name__


def _dropped_quietly() -> bool:
    """Whether the first frame outside tqdm and this module stands at a quiet opcode (see above)."""
    frame = sys._getframe(1)
    here = os.path.abspath(__file__)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not (filename == here or filename.startswith(_TQDM_DIR + os.sep)):
            break
        frame = frame.f_back
    if frame is None or frame.f_lasti < 0:
        return True
    try:
        op = dis.opname[frame.f_code.co_code[frame.f_lasti]]
    except IndexError:
        return True
    return op in _QUIET_OPS


# ------------------------------------------------------------------------------------ mirror

_live_lock = threading.Lock()
_live_keys: set[str] = set()
_thread_bars = threading.local()  # .stack: list of weakrefs to this thread's open bars
_observers = 0  # active BarObservers
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


class _Mirror:
    """A bar's Live Activity: the gate (a clock comparison), then state building and submitting."""

    __slots__ = ("dispatcher", "key", "title", "color", "channels", "policy", "clock", "due", "closing", "submitted")

    def __init__(self, dispatcher: Dispatcher, key: str, title: str | None, color: str | None, channels: Any,
                 policy: UpdatePolicy | None) -> None:
        self.dispatcher = dispatcher
        self.key, self.title, self.color, self.channels, self.policy = key, title, color, channels, policy
        self.clock = dispatcher.clock
        self.due = -math.inf
        self.closing = False
        self.submitted = False

    def request(self, content: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {"content_state": content}
        if self.channels:
            request["channels"] = self.channels
        return request

    def title_for(self, bar: Any) -> str:
        """The explicit title, else the bar's current description (it may change with set_description)."""
        if self.title:
            return self.title
        desc = str(getattr(bar, "desc", "") or "").strip().rstrip(":").strip()
        return (desc or "Progress")[:MAX_TITLE]

    def tick(self, bar: Any) -> None:
        """Called from display() once the clock passed `due`: send the state if the policy allows."""
        now = self.clock.monotonic()
        nxt = self.dispatcher.next_update_time(self.key)
        if nxt > now:
            self.due = now + RECHECK if math.isinf(nxt) else nxt
            return
        content = running_state(snapshot(bar), title=self.title_for(bar), color=self.color, now=self.clock.time())
        self.dispatcher.update_stream(self.key, self.request(content), policy=self.policy)
        self.submitted = True
        self.due = now + RECHECK

    def end(self, bar: Any, outcome: str, detail: str | None) -> None:
        try:
            if not self.submitted:  # never shown: start it so the phone gets the final state
                self.tick(bar)
            content = final_state(snapshot(bar, closed=True), outcome, title=self.title_for(bar), detail=detail)
            self.dispatcher.end_stream(self.key, {"content_state": content})
        finally:
            with _live_lock:
                _live_keys.discard(self.key)


class tqdm_activitysmith(tqdm_auto):  # type: ignore[misc,valid-type]  # pylint: disable=inconsistent-mro
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
    """

    def __init__(self, *args: Any, stream_key: str | None = None, title: str | None = None, client: Any = None,
                 dispatcher: Dispatcher | None = None, color: str | None = None, channels: Any = None,
                 policy: UpdatePolicy | None = None, mirror: bool = True, **kwargs: Any) -> None:
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
        if not mirror or _observers or not (outer or stream_key):
            return
        try:
            self._activitysmith = self._start_mirror(stream_key, title, client, dispatcher, color, channels, policy)
        except BaseException:
            self._activitysmith = None
            super().close()
            raise

    def _start_mirror(self, stream_key: str | None, title: str | None, client: Any, dispatcher: Dispatcher | None,
                      color: str | None, channels: Any, policy: UpdatePolicy | None) -> _Mirror:
        desc = (self.desc or "").strip().rstrip(":").strip()
        if stream_key is not None:
            payloads.check("end_stream", {}, key=stream_key)  # a bad key is the caller's mistake
        key = _claim_key(stream_key or payloads.stream_key_from(desc or title, default="tqdm", max_length=200), exact=stream_key is not None)
        if dispatcher is None:
            dispatcher = dispatcher_for(client)
        m = _Mirror(dispatcher, key, title[:MAX_TITLE] if title else None, color, channels, policy)
        try:
            m.tick(self)  # the start; validates color/channels now: PayloadError reaches the caller
        except BaseException:
            with _live_lock:
                _live_keys.discard(key)
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
        if outcome == "failed" and detail is None and _after_this_cell(lambda error: self._end(m, error)):
            return  # an exception left the loop, type unknown here: IPython tells at the cell's end
        self._end(m, None, outcome, detail)

    def _end(self, m: _Mirror, cell_error: BaseException | None, outcome: str = "failed",
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
            m.dispatcher.last_error = exc
            with _live_lock:
                _live_keys.discard(m.key)
        global _warned
        if not _warned:
            _warned = True
            warnings.warn(f"activitysmith_jupyter: stopped mirroring a tqdm bar to the phone ({exc!r}); "
                          "details in the 'activitysmith_jupyter' log", RuntimeWarning, stacklevel=3)


def trange_activitysmith(*args: Any, **kwargs: Any) -> tqdm_activitysmith:
    """``tqdm(range(*args), **kwargs)`` mirrored to a Live Activity."""
    return tqdm_activitysmith(range(*args), **kwargs)


# ------------------------------------------------------------------------------ bar observer


def _live_bars() -> list[Any]:
    """A defensive copy of tqdm's class-level set of open bars (shared by every subclass)."""
    for _ in range(5):
        try:
            return [b for b in list(std_tqdm._instances) if not getattr(b, "disable", True)]
        except RuntimeError:  # the set changed while copying: try again
            continue
    return []


def _outermost(bars: Iterable[Any]) -> Any:
    best = None
    for bar in bars:
        rank = (abs(getattr(bar, "pos", 0) or 0), getattr(bar, "start_t", math.inf))
        if best is None or rank < best[0]:
            best = (rank, bar)
    return best[1] if best else None


class BarObserver:
    """Notices tqdm bars created by any code, with no work in their loops: every `interval` seconds it
    looks at tqdm's live-instance set (from one shared background thread) and calls
    ``callback(BarSnapshot)`` for the outermost live bar when it changed, and once more with
    ``closed=True`` when that bar closes.

    While any observer is active, `tqdm_activitysmith` bars start no stream of their own.
    Callback exceptions are logged and the observer goes on.
    """

    def __init__(self, callback: Callable[[BarSnapshot], Any], *, interval: float = 0.5) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.callback = callback
        self.interval = interval
        self._poll_lock = threading.Lock()  # one look at a time; guards _running
        self._running = False
        self._due = -math.inf  # monotonic time of the next look (the shared poller's bookkeeping)
        self._tracked: Any = None  # the outermost live bar at the last look
        self._last: tuple[Any, ...] | None = None

    @property
    def active(self) -> bool:
        return self._running

    def start(self) -> BarObserver:
        """Start looking (the first look happens at once). Cheap: no thread per observer."""
        global _observers
        with self._poll_lock:
            if self._running:
                return self
            self._running = True
        with _live_lock:
            _observers += 1
        _poller.add(self)
        return self

    def stop(self) -> None:
        """Stop looking, after one last look (so a bar that just closed is reported)."""
        global _observers
        with self._poll_lock:  # waits for a look in progress; none starts after this
            if not self._running:
                return
            self._running = False
        _poller.discard(self)
        with _live_lock:
            _observers -= 1
        self.poll()
        self._tracked = self._last = None

    def __enter__(self) -> BarObserver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def poll(self) -> None:
        """One look at the live bars (also callable directly, e.g. from tests)."""
        with self._poll_lock:
            self._look()

    def _poll_if_running(self) -> None:
        with self._poll_lock:
            if self._running:
                self._look()

    def _look(self) -> None:
        try:
            self._poll()
        except Exception:  # noqa: BLE001 - a broken callback must not end the observer
            logger.warning("activitysmith_jupyter: bar observer callback failed", exc_info=True)

    def _poll(self) -> None:
        bars = _live_bars()
        tracked = self._tracked  # held strongly: a closed bar's final count stays readable
        if tracked is not None and not any(b is tracked for b in bars):
            self._tracked, self._last = None, None
            self.callback(snapshot(tracked, closed=True))
        bar = _outermost(bars)
        if bar is None:
            return
        snap = snapshot(bar)
        state = (id(bar), snap.n, snap.total, snap.desc)
        self._tracked = bar
        if state != self._last:
            self._last = state
            self.callback(snap)


class _Poller:
    """One daemon thread for every active `BarObserver` of the process: starting an observer (once
    per magic cell) costs no thread start, and stopping it no join."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._observers: list[BarObserver] = []
        self._thread: threading.Thread | None = None

    def add(self, observer: BarObserver) -> None:
        with self._lock:
            observer._due = -math.inf
            self._observers.append(observer)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="activitysmith-bar-observer", daemon=True)
                self._thread.start()
        self._wake.set()

    def discard(self, observer: BarObserver) -> None:
        with self._lock:
            self._observers = [o for o in self._observers if o is not observer]

    def _run(self) -> None:
        while True:
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [o for o in self._observers if o._due <= now]
                for o in due:
                    o._due = now + o.interval
            for o in due:
                o._poll_if_running()
            with self._lock:
                nxt = min((o._due for o in self._observers), default=None)
            self._wake.wait(None if nxt is None else max(0.0, nxt - time.monotonic()))


_poller = _Poller()


def observe_bars(callback: Callable[[BarSnapshot], Any], *, interval: float = 0.5) -> BarObserver:
    """A `BarObserver` calling `callback(BarSnapshot)` for the outermost live tqdm bar (not started:
    call ``.start()`` or use it as a context manager)."""
    return BarObserver(callback, interval=interval)


# Aliases (tqdm.contrib style)
tqdm = tqdm_activitysmith
trange = trange_activitysmith

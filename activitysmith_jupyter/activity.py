"""One notebook cell as one Live Activity: start, progress, and a guaranteed final state.

No IPython here (the magics glue lives in ``magics.py``). A :class:`CellActivity` turns what happens
in a cell into stream requests and hands them to the dispatcher, which sends them from its own
thread; nothing in this module blocks the cell on the network.

What drives the activity while the cell runs, first match wins:

1. the outermost live tqdm bar (``activitysmith_jupyter.tqdm.observe_bars``), when mirroring is on;
2. the handle: ``current_activity().step("label")`` / ``.update(percentage=..., subtitle=...)``;
3. otherwise elapsed time, in the subtitle ("Running · 6m elapsed"), refreshed on a coarse schedule
   (every 2 min for 10 min, every 5 min to 1 h, then every 15 min) so a long cell with no bar costs
   a handful of updates per hour and stays well inside iOS's update budget. One activity type for
   the whole run (``progress`` or ``segmented_progress``) means a bar that appears late never rotates
   the activity.
"""
from __future__ import annotations

import logging
import math
import os
import site
import sysconfig
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:  # no tqdm import at runtime: it loads only when bars are observed
    from .tqdm import BarSnapshot

__all__ = [
    "ActivitySettings",
    "CellActivity",
    "Outcome",
    "current_activity",
    "elapsed_bucket",
    "format_duration",
    "format_failure",
    "last_user_frame",
]

log = logging.getLogger("activitysmith_jupyter")

Outcome = Literal["success", "failure", "interrupted"]
NotifyPolicy = Literal["always", "failure", "never"]
ActivityType = Literal["progress", "segmented_progress"]

MAX_PUSH_MESSAGE = 400
MAX_EXC_MESSAGE = 200
MAX_CODE_LINE = 120
MAX_SUBTITLE = 80


# ---------------------------------------------------------------------------------------------
# pure helpers


def format_duration(seconds: float) -> str:
    """``3.2s``, ``42s``, ``3m 12s``, ``2h 05m``, ``1d 3h`` — short, for titles and subtitles."""
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{s:.1f}s"
    whole = int(s)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d {whole % 86400 // 3600}h"


def elapsed_bucket(seconds: float) -> int:
    """Whole minutes to show for an elapsed time: 0 under 2 min, then steps of 2 min up to 10,
    5 min up to 60 and 15 min after that (so a bar-less cell sends ~16 updates in its first hour)."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 2:
        return 0
    if minutes < 10:
        return minutes - minutes % 2
    if minutes < 60:
        return minutes - minutes % 5
    return minutes - minutes % 15


def _elapsed_text(minutes: int) -> str:
    if minutes == 0:
        return "Running…"
    return f"Running · {format_duration(minutes * 60).replace(' 0s', '')} elapsed"


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _library_prefixes() -> tuple[str, ...]:
    paths: set[str] = set()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(name)
        if p:
            paths.add(os.path.realpath(p))
    try:
        paths.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenv's old site.py
        pass
    if site.ENABLE_USER_SITE and site.USER_SITE:
        paths.add(os.path.realpath(site.USER_SITE))
    paths.add(os.path.dirname(os.path.realpath(__file__)))  # this package, even when installed -e
    return tuple(sorted(p + os.sep for p in paths))


_LIBRARY_PREFIXES: tuple[str, ...] | None = None


def _is_library(filename: str) -> bool:
    global _LIBRARY_PREFIXES
    if filename.startswith("<frozen") or filename.startswith("<string"):
        return True
    if filename.startswith("<"):  # <ipython-input-...>, <stdin>: the user's own code
        return False
    if _LIBRARY_PREFIXES is None:
        _LIBRARY_PREFIXES = _library_prefixes()
    real = os.path.realpath(filename)
    return any(real.startswith(p) for p in _LIBRARY_PREFIXES)


def last_user_frame(tb: Any) -> traceback.FrameSummary | None:
    """The innermost traceback frame outside the stdlib, site-packages and this package."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    for frame in reversed(frames):
        if not _is_library(frame.filename):
            return frame
    return frames[-1] if frames else None


def format_failure(
    exc: BaseException,
    *,
    describe_file: Callable[[str], str | None] | None = None,
    limit: int = MAX_PUSH_MESSAGE,
) -> str:
    """Plain text for a push: ``Type: message`` then ``where: code`` of the last user frame."""
    name = type(exc).__qualname__
    text = str(exc)
    head = f"{name}: {_truncate(text, MAX_EXC_MESSAGE)}" if text else name
    frame = last_user_frame(exc.__traceback__)
    if frame is not None:
        where = (describe_file(frame.filename) if describe_file else None) or os.path.basename(frame.filename)
        loc = f"{where}, line {frame.lineno}"
        if frame.name and frame.name != "<module>":
            loc += f", in {frame.name}"
        code = (frame.line or "").strip()
        if code:
            loc += f": {_truncate(code, MAX_CODE_LINE)}"
        head = f"{head}\n{loc}"
    return _truncate(head, limit)


# ---------------------------------------------------------------------------------------------
# settings and the activity


@dataclass(frozen=True, kw_only=True)
class ActivitySettings:
    """Everything one cell's activity needs, already resolved (option > %config > env > default)."""

    stream_key: str
    title: str
    subtitle: str | None = None
    type: ActivityType = "progress"
    steps: int | None = None
    notify: NotifyPolicy = "always"
    channels: tuple[str, ...] = ()
    color: str | None = "blue"
    success_color: str | None = "green"
    failure_color: str | None = "red"
    interrupt_color: str | None = "orange"
    mirror_bars: bool = True
    bar_interval: float = 0.5
    elapsed_updates: bool = True


_current: list[CellActivity] = []
_current_lock = threading.Lock()


def current_activity() -> CellActivity | None:
    """The activity of the cell that is running now (innermost), or None outside
    ``%%activitysmith_progress``. Use it to drive the activity when there is no tqdm bar::

        act = current_activity()
        act.step("load data")      # subtitle, and the next segment for segmented_progress
        act.update(percentage=40)  # any content-state field
    """
    with _current_lock:
        return _current[-1] if _current else None


@dataclass
class _State:
    content: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    manual: bool = False  # the handle was used: elapsed ticks stop touching the subtitle
    bar_key: tuple[Any, ...] | None = None
    elapsed_minutes: int = -1


class CellActivity:
    """The Live Activity of one running cell. Thread-safe; every send goes through the dispatcher.

    ``start()`` queues the first state and starts the bar observer / elapsed ticker;
    ``finish(outcome, exc)`` queues the terminal state and the push (the dispatcher guarantees both).
    """

    def __init__(
        self,
        settings: ActivitySettings,
        *,
        client: Any = None,
        dispatcher: Any = None,
        clock: Clock = SYSTEM_CLOCK,
        describe_file: Callable[[str], str | None] | None = None,
    ) -> None:
        if dispatcher is None:
            from .dispatch import dispatcher_for

            if client is None:
                from .client import default_client

                client = default_client()
            dispatcher = dispatcher_for(client)
        self.settings = settings
        self.dispatcher = dispatcher
        self.clock = clock
        self.describe_file = describe_file
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.outcome: Outcome | None = None
        self.last_error: BaseException | None = None
        self._state = _State()
        self._lock = threading.RLock()
        self._observer: Any = None
        self._stale_bars: frozenset[int] = frozenset()

    # -- read-only views ----------------------------------------------------------------------
    @property
    def stream_key(self) -> str:
        return self.settings.stream_key

    @property
    def title(self) -> str:
        return self.settings.title

    @property
    def content_state(self) -> dict[str, Any]:
        """A copy of the state last queued for the phone."""
        with self._lock:
            return dict(self._state.content)

    @property
    def ended(self) -> bool:
        return self.outcome is not None

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self.clock.monotonic()
        return max(0.0, end - self.started_at)

    def __repr__(self) -> str:
        status = self.outcome or ("running" if self.started_at is not None else "new")
        return f"<CellActivity {self.stream_key!r} {self.title!r} {status}>"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, *, background: bool = True) -> CellActivity:
        """Queue the first state; with ``background`` start the bar observer and elapsed ticker."""
        s = self.settings
        content: dict[str, Any] = {"title": s.title, "type": s.type}
        if s.type == "segmented_progress":
            content.update(number_of_steps=s.steps or 1, current_step=0)
        else:
            content["percentage"] = 0
        content["subtitle"] = _truncate(s.subtitle, MAX_SUBTITLE) if s.subtitle else _elapsed_text(0)
        if s.color:
            content["color"] = s.color
        with self._lock:
            self.started_at = self.clock.monotonic()
            self._state.content = content
            self._state.elapsed_minutes = 0
        self._send_update()  # PayloadError here is a user mistake: it reaches the cell
        with _current_lock:
            _current.append(self)
        if background:
            self._start_background()
        return self

    def _start_background(self) -> None:
        s = self.settings
        if s.mirror_bars:
            try:
                from tqdm.std import tqdm as std_tqdm

                from .tqdm import observe_bars

                # bars left open by earlier cells are not this cell's progress
                self._stale_bars = frozenset(id(b) for b in list(getattr(std_tqdm, "_instances", ())))
                self._observer = observe_bars(self.on_bar, interval=s.bar_interval)
                self._observer.start()
            except ImportError:  # no tqdm installed: there are no bars to mirror
                log.debug("tqdm is not installed; bar mirroring is off")
                self._observer = None
            except Exception as exc:  # an observer failure: keep the cell running
                self._remember(exc, "could not observe tqdm bars")
                self._observer = None
        if s.elapsed_updates:
            _ensure_ticker()

    def finish(self, outcome: Outcome, exc: BaseException | None = None) -> None:
        """Queue the final state and, per the notify policy, a push. Idempotent; never raises."""
        with self._lock:
            if self.outcome is not None:
                return
            self.outcome = outcome
            self.ended_at = self.clock.monotonic()
        observer, self._observer = self._observer, None
        if observer is not None:
            try:
                observer.stop()
            except Exception as err:
                self._remember(err, "stopping the bar observer failed")
        with _current_lock:
            if self in _current:
                _current.remove(self)
        s = self.settings
        took = format_duration(self.elapsed)
        with self._lock:
            content = dict(self._state.content)
        content.pop("auto_dismiss_minutes", None)
        if outcome == "success":
            if s.type == "segmented_progress":
                content["current_step"] = content.get("number_of_steps", s.steps or 1)
            else:
                content["percentage"] = 100
            content["subtitle"] = f"Done in {took}"
            color = s.success_color
            push_title = f"✅ {s.title} finished in {took}"
            message = None
        elif outcome == "interrupted":
            content["subtitle"] = f"Interrupted after {took}"
            color = s.interrupt_color
            push_title = f"⏹️ {s.title} interrupted after {took}"
            message = "KeyboardInterrupt"
        else:
            reason = type(exc).__qualname__ if exc is not None else "error"
            content["subtitle"] = _truncate(f"Failed after {took}: {reason}", MAX_SUBTITLE)
            color = s.failure_color
            push_title = f"❌ {s.title} failed after {took}"
            message = format_failure(exc, describe_file=self.describe_file) if exc is not None else None
        if color:
            content["color"] = color
        with self._lock:
            self._state.content = content
        try:
            self.dispatcher.end_stream(s.stream_key, {"content_state": content})
        except Exception as err:
            self._remember(err, "queueing the final state failed")
        if self._should_notify(outcome):
            push: dict[str, Any] = {"title": push_title}
            if message:
                push["message"] = message
            if s.channels:
                push["channels"] = list(s.channels)
            try:
                self.dispatcher.push(push)
            except Exception as err:
                self._remember(err, "queueing the push failed")

    def _should_notify(self, outcome: Outcome) -> bool:
        policy = self.settings.notify
        if policy == "never":
            return False
        if policy == "failure":
            return outcome == "failure"
        return True

    # -- the handle ------------------------------------------------------------------------------
    def step(self, label: str | None = None, *, current: int | None = None) -> None:
        """Enter the next step (or step ``current``, 1-based) and show ``label`` as the subtitle.

        ``segmented_progress`` fills one more segment (growing ``number_of_steps`` if needed);
        ``progress`` with ``--steps N`` moves the bar to step/N.
        """
        with self._lock:
            st = self._state
            st.step = current if current is not None else st.step + 1
            if st.step < 0:
                raise ValueError("current must be >= 0")
            changes: dict[str, Any] = {}
            steps = self.settings.steps
            if self.settings.type == "segmented_progress":
                total = max(int(st.content.get("number_of_steps", steps or 1)), st.step)
                changes.update(number_of_steps=total, current_step=st.step)
            elif steps:
                changes["percentage"] = round(min(100.0, 100.0 * st.step / steps), 1)
            if label is not None:
                changes["subtitle"] = _truncate(str(label), MAX_SUBTITLE)
            elif steps:
                changes["subtitle"] = f"Step {st.step} of {max(steps, st.step)}"
        self.update(**changes)

    def update(self, request: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Merge content-state fields (``percentage``, ``subtitle``, ``value``, ``message`` ...) and
        queue the new state. Invalid fields raise ``PayloadError`` here, in the cell."""
        if self.ended:
            log.debug("update() after the activity ended is ignored: %r", self)
            return
        with self._lock:
            self._state.manual = True
            new = dict(self._state.content)
            new.update(dict(request or {}), **fields)
            new["title"] = new.get("title") or self.settings.title
            old, self._state.content = self._state.content, new
        try:
            self._send_update()
        except BaseException:
            with self._lock:
                self._state.content = old
            raise

    # -- drivers (background threads) ------------------------------------------------------------
    def on_bar(self, bar: BarSnapshot | None) -> None:
        """Observer callback: mirror the outermost live tqdm bar (a BarSnapshot, or None)."""
        if bar is None or self.ended or bar.bar_id in self._stale_bars:
            return
        try:
            from .tqdm import bar_subtitle  # the hook's own wording: n/total · rate · ETA (tqdm is loaded)

            desc = bar.desc.strip().rstrip(":")
            pct = None if bar.percentage is None else round(bar.percentage, 1)
            key = (desc, int(pct) if pct is not None else _magnitude(bar.n))
            with self._lock:
                if key == self._state.bar_key:
                    return
                self._state.bar_key = key
                content = dict(self._state.content)
                progress = bar_subtitle(bar, self.clock.time())
                content["subtitle"] = _truncate(f"{desc}: {progress}" if desc else progress, MAX_SUBTITLE)
                if pct is not None and self.settings.type == "progress":
                    content["percentage"] = pct
                self._state.content = content
            self._send_update()
        except Exception as exc:  # never let a background failure reach the user's cell
            self._remember(exc, "mirroring the tqdm bar failed")

    def tick(self) -> None:
        """Refresh the elapsed-time subtitle when its coarse bucket changed (no bar, no handle)."""
        if self.ended or self.started_at is None:
            return
        minutes = elapsed_bucket(self.elapsed)
        with self._lock:
            st = self._state
            if st.manual or st.bar_key is not None or minutes == st.elapsed_minutes:
                return
            st.elapsed_minutes = minutes
            if self.settings.subtitle:  # the user's subtitle stays; nothing to refresh
                return
            st.content = {**st.content, "subtitle": _elapsed_text(minutes)}
        try:
            self._send_update()
        except Exception as exc:
            self._remember(exc, "elapsed-time update failed")

    # -- internals ---------------------------------------------------------------------------------
    def _send_update(self) -> None:
        # Under the lock so states from the cell's thread and the observer reach the queue in order
        # (the dispatcher never calls back into us, so this cannot deadlock), and none after the end:
        # `finish` marks the outcome under this lock before it queues the end, and an update queued
        # behind an end would start a new activity that nothing ever ends.
        with self._lock:
            if self.outcome is not None:
                return
            request: dict[str, Any] = {"content_state": dict(self._state.content)}
            if self.settings.channels:
                request["channels"] = list(self.settings.channels)
            self.dispatcher.update_stream(self.settings.stream_key, request)

    def _remember(self, exc: BaseException, what: str) -> None:
        self.last_error = exc
        log.warning("%s (%s): %s", what, self.stream_key, exc)


TICK_SECONDS = 15.0
_ticker: threading.Thread | None = None


def _ensure_ticker() -> None:
    """One daemon thread for the whole process ticks every running activity (a thread per cell
    would cost each cell a thread start)."""
    global _ticker
    with _current_lock:
        if _ticker is not None and _ticker.is_alive():
            return
        _ticker = threading.Thread(target=_tick_forever, name="activitysmith-elapsed", daemon=True)
        _ticker.start()


def _tick_forever() -> None:
    idle = threading.Event()  # never set: a plain interval
    while True:
        idle.wait(TICK_SECONDS)
        with _current_lock:
            running = list(_current)
        for activity in running:
            if activity.settings.elapsed_updates:
                activity.tick()


def _magnitude(n: float) -> int:
    """Buckets for a bar without a total: change the subtitle at 1, 2, 5, 10, 20, 50, 100 ..."""
    if n < 1:
        return 0
    exp = int(math.log10(n))
    lead = n / 10**exp
    return exp * 3 + (2 if lead >= 5 else 1 if lead >= 2 else 0) + 1

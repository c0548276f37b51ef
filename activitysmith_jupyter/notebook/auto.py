"""Auto mode: any cell (or Run-All run of cells) that runs past a threshold becomes a Live Activity.

``%activitysmith auto on [--after S]`` / ``%config ActivitySmithMagics.auto_after = S`` /
``ACTIVITYSMITH_AUTO_AFTER=S``. IPython's ``pre_run_cell`` / ``post_run_cell`` events only note times
(no request, no thread start: a short cell pays a few microseconds). One timer thread starts the
activity when the run passes the threshold, so nothing at all is sent for shorter runs.

A *run* is cells executed back to back: a cell that starts within ``auto_gap`` seconds (default 1 s)
of the previous one's end continues it. That one time-gap rule covers JupyterLab's Run All (every
``execute_request`` queued at once: the next cell starts a few milliseconds after the last) and
nbclient / ``nbconvert --execute`` (one request at a time, sent after the previous reply). ipykernel's
own queue is not inspected: its layout changes between versions (subshells in 7.x), and the gap
needs no private state. A run ends: at its first failing cell at once (the kernel aborts the queued
rest of a Run All), ``auto_gap`` seconds after its last cell, at ``auto off``/unload, or at exit.

The run's activity shows "cell 7 · 12m 4s", or the outermost tqdm bar (and every other source of the
integrations that has an ``install()``); its end names the failing cell ("Cell In[7], line 3").
A ``%%activitysmith_progress`` cell is left to the magic (its options win): a run open before it ends.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from IPython.core.error import UsageError
from traitlets import Float, observe
from traitlets.config import Configurable

from ..integrations.hooks import SourceInstaller
from .cell_text import MAGIC, derive_title, first_comment
from ..clock import SYSTEM_CLOCK, Clock
from ..hub.outcome import Outcome, outcome_for
from ..payloads import stream_key_from
from .auto_activity import AutoActivity, open_bars
from .cell import BarSettings
from ..hub.options import RunOptions
from .cell_number import running_cell_number
from ..hub.wording import format_duration

__all__ = ["ENV_AUTO_AFTER", "DEFAULT_AFTER", "AutoMode", "AutoModeConfig", "auto_command", "env_after", "install_auto", "is_magic_cell",
           "parse_after", "uninstall_auto"]

log = logging.getLogger("activitysmith_jupyter")

ENV_AUTO_AFTER = "ACTIVITYSMITH_AUTO_AFTER"
DEFAULT_AFTER = 30.0


class AutoModeConfig(Configurable):
    """The ``%config ActivitySmithMagics`` traits of auto mode (``ActivitySmithMagics`` mixes them in)."""

    auto_after = Float(
        None, allow_none=True, min=0.0, config=True,
        help="Auto mode: any run of cells longer than this many seconds becomes a Live Activity (shorter "
        "ones send nothing). None: $ACTIVITYSMITH_AUTO_AFTER, else off. Also %activitysmith auto on/off.",
    )
    auto_gap = Float(
        1.0, min=0.0, config=True,
        help="Auto mode: a cell starting at most this many seconds after the previous one ended continues "
        "its run (Run All, nbclient): one activity and one closing push for the run.",
    )
    auto_mode: AutoMode | None = None  # the shell's auto mode, from install_auto

    @observe("auto_after")
    def _auto_after_changed(self, change: Any) -> None:
        auto = self.auto_mode
        if auto is not None:  # %config ActivitySmithMagics.auto_after = 30 (None: off)
            auto.enable(change["new"]) if change["new"] is not None else auto.disable()


class MagicsHost(Protocol):
    """What auto mode uses of ``ActivitySmithMagics`` (a Protocol: no import cycle)."""

    shell: Any
    auto_after: Any  # float | None (traitlets types the trait loosely)
    auto_gap: Any
    auto_mode: AutoMode | None

    def run_options(self, *, title: str, key: str | None = None) -> RunOptions: ...

    def bar_settings(self) -> BarSettings: ...

    def describe_file(self, filename: str) -> str | None: ...


def parse_after(value: str, what: str = "--after") -> float:
    """Seconds from text ("30", "0.5"); ``ValueError`` naming `what` and what is allowed."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}={value!r} is not a number of seconds (e.g. 30)") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{what}={value!r}: seconds must be a finite number >= 0")
    return seconds


def is_magic_cell(raw_cell: str) -> bool:
    """Whether the cell runs ``%%activitysmith_progress`` / ``%activitysmith_progress`` (then the magic owns it)."""
    if MAGIC not in raw_cell:  # the common case: one substring test
        return False
    return any(line.lstrip().startswith(("%%" + MAGIC, "%" + MAGIC)) for line in raw_cell.splitlines())


# ------------------------------------------------------------------------------------ the timer


class _Timer:
    """One daemon thread calling `callback` when the one deadline (``time.monotonic``) passes."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self._callback = callback
        self._cond = threading.Condition()
        self._when: float | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None

    def set(self, when: float | None) -> None:
        with self._cond:
            self._when = when
            self._stopped = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="activitysmith-auto", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (self._when is None or self._when > time.monotonic()):
                    self._cond.wait(None if self._when is None else self._when - time.monotonic())
                if self._stopped:
                    return
                self._when = None
            try:
                self._callback()
            except Exception:  # noqa: BLE001 - the timer must outlive any one failure
                log.warning("auto mode timer failed", exc_info=True)


# ------------------------------------------------------------------------------------ auto mode


@dataclass
class _CellRun:
    started: float  # clock.monotonic() of its first cell's start
    stale_bars: frozenset[int]
    cell: int | None  # execution count of the running (or last) cell
    raw: str  # its source (the title's first comment)
    first_raw: str = ""  # the run's first cell (its comment titles a run whose later cells have none)
    in_cell: bool = True
    cells: int = 1
    last_end: float | None = None
    activity: AutoActivity | None = None


class AutoMode:
    """Auto mode of one shell. The IPython events call `pre_run_cell`/`post_run_cell`; the timer thread
    calls `on_timer` (tests with a fake clock pass ``timer=False`` and call it themselves)."""

    def __init__(self, magics: MagicsHost, *, clock: Clock = SYSTEM_CLOCK, timer: bool = True) -> None:
        self.magics = magics
        self.clock = clock
        self.after: float | None = None  # None: off
        self.sources = SourceInstaller()
        self._lock = threading.RLock()
        self._run: _CellRun | None = None
        self._magic_cell = False  # the running cell is a %%activitysmith_progress cell
        self._magic_sources = False  # sources installed for that cell only (auto mode off)
        self._timer = _Timer(self.on_timer) if timer else None
        self._exit_hook = False

    @property
    def on(self) -> bool:
        return self.after is not None

    @property
    def gap(self) -> float:
        return float(self.magics.auto_gap)

    @property
    def activity(self) -> AutoActivity | None:
        run = self._run
        return run.activity if run is not None else None

    def enable(self, after: float) -> None:
        from ..hub.shutdown import install_sigterm_handler

        with self._lock:
            self.after = after
        install_sigterm_handler()  # here, on the main thread: runs start on the timer thread, where it cannot
        self.sources.ensure()
        self.sources.watch(True)

    def disable(self) -> None:
        with self._lock:
            self.after = None
            self._close("completed", None)
        if not self._magic_sources:
            self.sources.remove_all()
            self.sources.watch(False)

    def describe(self) -> str:
        if self.after is None:
            return "auto mode: off"
        return f"auto mode: on, after {format_duration(self.after)} (runs of cells {self.gap:g}s apart or less)"

    # -- events (the cell's thread: keep them cheap) -----------------------------------------------
    def pre_run_cell(self, info: Any = None) -> None:
        raw = getattr(info, "raw_cell", None) or ""
        if MAGIC in raw and is_magic_cell(raw):
            self._magic_cell = True
            with self._lock:
                self._close("completed", None)  # the magic's own activity takes over
            if not self.on:  # zero-code sources for this magic cell only
                self._magic_sources = True
            self.sources.ensure()
            self.sources.watch(True)
            return
        if self.after is None:
            return
        now = self.clock.monotonic()
        with self._lock:
            run = self._run
            if run is not None and run.last_end is not None and now - run.last_end > self.gap:
                self._close("completed", None)
                run = None
            cell = running_cell_number(self.magics.shell, info)  # IPython 8 and 9 count it differently
            if run is None:
                run = self._run = _CellRun(started=now, stale_bars=open_bars(), cell=cell, raw=raw, first_raw=raw)
            else:
                run.cells += 1
                run.in_cell, run.cell, run.raw = True, cell, raw
            due = now if run.activity is not None else max(now, run.started + self.after)
        self.sources.ensure()
        self._wake(due)

    def post_run_cell(self, result: Any = None) -> None:
        if self._magic_cell:
            self._magic_cell = False
            if self._magic_sources:
                self._magic_sources = False
                if not self.on:
                    self.sources.remove_all()
                    self.sources.watch(False)
            return
        with self._lock:
            run = self._run
            if run is None or not run.in_cell:
                return  # an empty cell (IPython skips pre_run_cell), or auto mode just turned on
            now = self.clock.monotonic()
            run.in_cell, run.last_end = False, now
            error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
            if error is not None:  # a failing cell ends its run (Run All stops here too)
                self._close(outcome_for(error), error)
                return
            if run.activity is None:
                return  # short so far: nothing to send, nothing to wake for
        self._wake(now + self.gap)

    # -- the timer thread ------------------------------------------------------------------------
    def on_timer(self) -> None:
        """Start the run's activity once it passed the threshold; show a new cell; end a run whose
        gap passed. Never raises."""
        try:
            with self._lock:
                run, after = self._run, self.after
                if run is None or after is None:
                    return
                now = self.clock.monotonic()
                if run.in_cell:
                    if run.activity is None:
                        if now - run.started >= after:
                            run.activity = self._start(run, now)
                        else:
                            self._wake(run.started + after)
                    elif run.activity.cell != run.cell:
                        run.activity.enter_cell(run.cell)
                elif run.last_end is not None and now - run.last_end >= self.gap:
                    self._close("completed", None)
                elif run.last_end is not None and run.activity is not None:
                    self._wake(run.last_end + self.gap)
        except Exception as exc:
            log.warning("auto mode: %s", exc)

    def _wake(self, when: float) -> None:
        if self._timer is not None:
            self._timer.set(when - self.clock.monotonic() + time.monotonic())

    # -- internals -------------------------------------------------------------------------------
    def _start(self, run: _CellRun, now: float) -> AutoActivity:
        magics = self.magics
        raw = run.raw if first_comment(run.raw) or not first_comment(run.first_raw) else run.first_raw
        title = derive_title(raw, magics.shell.user_ns, os.environ, run.cell)
        key = "nb-auto-" + stream_key_from(title.lower(), default="run", max_length=40)
        # the magic's own resolution (%config > environment > default), as for a cell with no options
        options = magics.run_options(title=title, key=key)
        activity = AutoActivity(options, bars=magics.bar_settings(), head_start=max(0.0, now - run.started),
                                stale_bars=run.stale_bars, cell=run.cell, clock=self.clock,
                                describe_file=magics.describe_file)
        activity.start()
        if activity.started_at is not None:  # measured from the start itself (the first one imports the client)
            activity.head_start = max(0.0, activity.started_at - run.started)
        activity.enter_cell(run.cell)
        if not self._exit_hook:  # after the dispatcher's own hook: atexit runs ours first (LIFO)
            atexit.register(self.at_exit)
            self._exit_hook = True
        return activity

    def _close(self, outcome: Outcome, error: BaseException | None) -> None:
        """End the open run now (under the lock); a run that never passed the threshold sends nothing."""
        run, self._run = self._run, None
        if run is None or run.activity is None:
            return
        # completed while a cell runs: that cell is the `auto off` / unload itself, the run ended before it
        end = run.last_end if outcome == "completed" or not run.in_cell else None
        run.activity.end(outcome, error=error, at=end)

    def at_exit(self) -> None:
        """Interpreter / kernel exit: end the open run (the dispatcher's exit flush then sends it)."""
        with self._lock:
            run = self._run
            self._close("completed" if run is None or not run.in_cell else "terminated", None)

    def shutdown(self) -> None:
        """The extension is unloaded: end the open run, remove the sources, stop the timer."""
        self.disable()
        self.sources.remove_all()
        self.sources.watch(False)
        if self._timer is not None:
            self._timer.stop()
        if self._exit_hook:
            atexit.unregister(self.at_exit)
            self._exit_hook = False


# ------------------------------------------------------------------------------------ glue


def env_after(environ: Any = os.environ) -> float | None:
    """``ACTIVITYSMITH_AUTO_AFTER`` in seconds, None when unset; a bad value warns and is ignored."""
    raw = str(environ.get(ENV_AUTO_AFTER, "")).strip()
    if not raw:
        return None
    try:
        return parse_after(raw, ENV_AUTO_AFTER)
    except ValueError as exc:
        warnings.warn(f"{exc}; auto mode stays off", stacklevel=2)
        return None


def install_auto(shell: Any, magics: MagicsHost, *, clock: Clock = SYSTEM_CLOCK,
                 timer: bool = True) -> AutoMode:
    """Create the shell's auto mode and hook it to the cell events; on when %config or the env says."""
    auto = AutoMode(magics, clock=clock, timer=timer)
    magics.auto_mode = auto
    shell.events.register("pre_run_cell", auto.pre_run_cell)
    shell.events.register("post_run_cell", auto.post_run_cell)
    after = magics.auto_after if magics.auto_after is not None else env_after()
    if after is not None:
        auto.enable(after)
    return auto


def uninstall_auto(shell: Any, magics: MagicsHost) -> None:
    auto: AutoMode | None = magics.auto_mode
    if auto is None:
        return
    auto.shutdown()
    for event, callback in (("pre_run_cell", auto.pre_run_cell), ("post_run_cell", auto.post_run_cell)):
        try:
            shell.events.unregister(event, callback)
        except ValueError:
            pass
    magics.auto_mode = None


def auto_command(magics: MagicsHost, rest: str) -> str:
    """``%activitysmith auto [on [--after S] | off]``: what to print. Mistakes raise ``UsageError``."""
    try:
        return _auto_command(magics, rest)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _auto_command(magics: MagicsHost, rest: str) -> str:
    auto: AutoMode | None = magics.auto_mode
    if auto is None:
        raise ValueError("auto mode is not available (the extension is not loaded)")
    words = rest.split()
    if not words:
        return auto.describe()
    command, options = words[0].lower(), words[1:]
    if command == "off":
        if options:
            raise ValueError("%activitysmith auto off takes no options")
        magics.auto_after = None
        auto.disable()
        return auto.describe()
    if command != "on":
        raise ValueError(f"unknown auto command {words[0]!r}; use: auto on [--after SECONDS] | auto off")
    after: float | None = None
    while options:
        option = options.pop(0)
        if option.startswith("--after="):
            after = parse_after(option.split("=", 1)[1])
        elif option == "--after":
            if not options:
                raise ValueError("--after needs a number of seconds, e.g. --after 30")
            after = parse_after(options.pop(0))
        else:
            raise ValueError(f"unknown option {option!r} for auto on; allowed: --after SECONDS")
    if after is None:
        after = auto.after if auto.after is not None else (env_after() or DEFAULT_AFTER)
    magics.auto_after = after  # the trait's observer turns it on
    auto.enable(after)
    return auto.describe()

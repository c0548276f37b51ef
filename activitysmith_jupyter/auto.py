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
import importlib
import logging
import os
import shlex
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cell import ActivitySettings, CellActivity
from .cell_text import MAGIC, derive_title
from .clock import SYSTEM_CLOCK, Clock
from .outcome import Outcome, Snapshot, outcome_for
from .payloads import stream_key_from
from .wording import elapsed_bucket, format_duration

if TYPE_CHECKING:
    from .magics import ActivitySmithMagics

__all__ = ["ENV_AUTO_AFTER", "DEFAULT_AFTER", "AutoMode", "RunActivity", "SourceInstaller", "parse_after"]

log = logging.getLogger("activitysmith_jupyter")

ENV_AUTO_AFTER = "ACTIVITYSMITH_AUTO_AFTER"
DEFAULT_AFTER = 30.0
_SELF_FOLLOWED = frozenset({"tqdm"})  # every cell/run activity follows tqdm bars itself


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


# ------------------------------------------------------------------------------------ other sources


class SourceInstaller:
    """Installs the global hooks of the integrations (``install()``: Dask's ``Callback.register()``,
    rich's ``Progress`` wrapper ...) for every library the process has already imported; the sources
    then feed ``current_activity()`` (a magic cell's or a run's). Libraries never imported cost nothing."""

    def __init__(self) -> None:
        self._removers: dict[str, Callable[[], None]] = {}
        self._without: set[str] = set()  # imported, but our module has no install()

    def ensure(self) -> None:
        """Install what is newly importable (cheap when nothing changed: a few dict lookups)."""
        from .integrations import INTEGRATIONS

        modules = sys.modules
        for library, module_name in INTEGRATIONS.items():
            if library in self._removers or library in self._without or library in _SELF_FOLLOWED:
                continue
            if library not in modules:
                continue
            try:
                install = getattr(importlib.import_module(module_name), "install", None)
                if install is None:
                    self._without.add(library)
                    continue
                self._removers[library] = install()
            except Exception as exc:  # a broken integration never stops the cell
                self._without.add(library)
                log.warning("following %s progress is off: %s", library, exc)

    def remove_all(self) -> None:
        removers, self._removers = self._removers, {}
        for library, remove in removers.items():
            try:
                remove()
            except Exception as exc:
                log.warning("uninstalling the %s source failed: %s", library, exc)

    @property
    def installed(self) -> tuple[str, ...]:
        return tuple(self._removers)


# ------------------------------------------------------------------------------------ the activity


class RunActivity(CellActivity):
    """The activity of one run of cells: "cell 7 · 12m 4s" while no bar drives it; its elapsed time
    counts from the run's first cell (the activity itself starts at the threshold)."""

    def __init__(self, settings: ActivitySettings, *, head_start: float, stale_bars: frozenset[int],
                 cell: int | None, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        self.head_start = head_start  # seconds the run had run before the activity started
        self.cell = cell
        self._stale_bars = stale_bars
        self._fed_in_cell = False
        self._shown: tuple[int | None, int] | None = None
        self._stopped_at: float | None = None  # the last cell's end (the run ends a gap later)

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        took = super().elapsed
        if self._stopped_at is not None:
            took = max(0.0, min(took, self._stopped_at - self.started_at))
        return took + self.head_start

    def close(self, outcome: Outcome, error: BaseException | None, *, last_cell_end: float | None) -> None:
        """End the run; its duration stops at its last cell's end, not when the gap after it ran out."""
        self._stopped_at = last_cell_end
        self.finish(outcome, error)

    def cell_text(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "cell"
        return f"{where} · {format_duration(self.elapsed)}"

    def enter_cell(self, cell: int | None) -> None:
        """A new cell of the run started: show its number (unless a bar already drives the activity)."""
        self.cell = cell
        self._fed_in_cell = False
        self.tick()

    def feed(self, snapshot: Snapshot) -> None:
        self._fed_in_cell = True
        super().feed(snapshot)

    def tick(self) -> None:
        """Refresh "cell N · elapsed" when the cell or the coarse elapsed bucket changed."""
        if self.ended or not self.started or self._fed_in_cell or self.subtitle:
            return
        shown = (self.cell, elapsed_bucket(self.elapsed))
        if shown == self._shown:
            return
        self._shown = shown
        try:
            self.update(subtitle=self.cell_text())
        except Exception as exc:
            self._remember(exc, "showing the run's cell failed")

    def _follow_bars(self) -> None:
        """Follow the run's tqdm bars: those opened since its first cell, not since the threshold."""
        try:
            from .integrations.tqdm import BarObserver, BarSource
        except ImportError:
            return
        stale = self._stale_bars

        class _RunBars(BarSource):
            def attach(self, activity: Any) -> None:
                self._activity = activity
                self.observer = BarObserver(self._on_bar, interval=self.interval, ignore=stale).start()

        try:
            self._bars = _RunBars(interval=self.settings.bar_interval)
            self.attach(self._bars)
        except Exception as exc:
            self._remember(exc, "could not observe tqdm bars")


def _open_bars() -> frozenset[int]:
    std = sys.modules.get("tqdm.std")
    if std is None:
        return frozenset()
    try:
        return frozenset(id(b) for b in list(getattr(std.tqdm, "_instances", ())))
    except RuntimeError:  # the set changed while copying
        return frozenset()


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
class _Run:
    started: float  # clock.monotonic() of its first cell's start
    stale_bars: frozenset[int]
    cell: int | None  # execution count of the running (or last) cell
    raw: str  # its source (the title's first comment)
    in_cell: bool = True
    cells: int = 1
    last_end: float | None = None
    activity: RunActivity | None = None


class AutoMode:
    """Auto mode of one shell. The IPython events call `pre_run_cell`/`post_run_cell`; the timer thread
    calls `on_timer` (tests with a fake clock pass ``timer=False`` and call it themselves)."""

    def __init__(self, magics: ActivitySmithMagics, *, clock: Clock = SYSTEM_CLOCK, timer: bool = True) -> None:
        self.magics = magics
        self.clock = clock
        self.after: float | None = None  # None: off
        self.sources = SourceInstaller()
        self._lock = threading.RLock()
        self._run: _Run | None = None
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
    def activity(self) -> RunActivity | None:
        run = self._run
        return run.activity if run is not None else None

    def enable(self, after: float) -> None:
        with self._lock:
            self.after = after
        self.sources.ensure()

    def disable(self) -> None:
        with self._lock:
            self.after = None
            self._close("completed", None)
        if not self._magic_sources:
            self.sources.remove_all()

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
            return
        if self.after is None:
            return
        now = self.clock.monotonic()
        with self._lock:
            run = self._run
            if run is not None and run.last_end is not None and now - run.last_end > self.gap:
                self._close("completed", None)
                run = None
            count = getattr(self.magics.shell, "execution_count", None)
            if isinstance(count, int) and getattr(info, "store_history", False):
                count -= 1  # IPython counts the cell before pre_run_cell
            cell = count if isinstance(count, int) else None
            if run is None:
                run = self._run = _Run(started=now, stale_bars=_open_bars(), cell=cell, raw=raw)
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
    def _start(self, run: _Run, now: float) -> RunActivity:
        magics = self.magics
        title = derive_title(run.raw, magics._shell.user_ns, os.environ, run.cell)
        key = "nb-auto-" + stream_key_from(title.lower(), default="run", max_length=40)
        # the magic's own resolution (%config > environment > default), as for a cell with no options
        settings, client = magics._resolve(f"-t {shlex.quote(title)} -k {key}")
        activity = RunActivity(settings, head_start=max(0.0, now - run.started), stale_bars=run.stale_bars,
                               cell=run.cell, dispatcher=magics._dispatcher(client),
                               clock=self.clock, describe_file=magics._describe_file)
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
        if run.in_cell and outcome == "completed":
            outcome = "interrupted"  # ended while a cell still ran (auto off or unload from a cell)
        run.activity.close(outcome, error, last_cell_end=None if run.in_cell else run.last_end)

    def at_exit(self) -> None:
        """Interpreter / kernel exit: end the open run (the dispatcher's exit flush then sends it)."""
        with self._lock:
            run = self._run
            self._close("completed" if run is None or not run.in_cell else "terminated", None)

    def shutdown(self) -> None:
        """The extension is unloaded: end the open run, remove the sources, stop the timer."""
        self.disable()
        self.sources.remove_all()
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


def install_auto(shell: Any, magics: ActivitySmithMagics, *, clock: Clock = SYSTEM_CLOCK,
                 timer: bool = True) -> AutoMode:
    """Create the shell's auto mode and hook it to the cell events; on when %config or the env says."""
    auto = AutoMode(magics, clock=clock, timer=timer)
    magics._auto = auto
    shell.events.register("pre_run_cell", auto.pre_run_cell)
    shell.events.register("post_run_cell", auto.post_run_cell)
    after = magics.auto_after if magics.auto_after is not None else env_after()
    if after is not None:
        auto.enable(after)
    return auto


def uninstall_auto(shell: Any, magics: ActivitySmithMagics) -> None:
    auto: AutoMode | None = getattr(magics, "_auto", None)
    if auto is None:
        return
    auto.shutdown()
    for event, callback in (("pre_run_cell", auto.pre_run_cell), ("post_run_cell", auto.post_run_cell)):
        try:
            shell.events.unregister(event, callback)
        except ValueError:
            pass
    magics._auto = None


def auto_command(magics: ActivitySmithMagics, rest: str) -> str:
    """``%activitysmith auto [on [--after S] | off]``: what to print. Mistakes raise ``ValueError``."""
    auto: AutoMode | None = getattr(magics, "_auto", None)
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

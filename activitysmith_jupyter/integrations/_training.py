"""One training run as a framework callback sees it: the running cell's activity, or one of its own.

A callback calls `TrainingRun.begin()` when training starts. Inside ``%%activitysmith_progress`` or an
``activity()`` block it feeds that activity and never ends it (the cell or script owns the outcome).
Otherwise it starts an `Activity` of its own and ends it: `finish()` from the framework's end hook
("completed" / "stopped"), or, for frameworks with no exception hook (Transformers' Trainer), when the
exception leaves the cell (IPython's ``post_run_cell``) or the script (``sys.excepthook``). An own
activity still open when the interpreter exits ends "failed": a run is never left shown as running.
"""
from __future__ import annotations

import atexit
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from ..activity import Activity, current_activity
from ..outcome import Outcome, Snapshot, outcome_for

__all__ = ["TrainingRun", "numeric_metrics"]

log = logging.getLogger("activitysmith_jupyter")

_open_runs: weakref.WeakSet[TrainingRun] = weakref.WeakSet()
_hook_lock = threading.Lock()
_previous_excepthook: Callable[[type[BaseException], BaseException, TracebackType | None], Any] | None = None


def numeric_metrics(values: Mapping[str, Any] | None, *, skip: Callable[[str], bool] = lambda _: False
                    ) -> dict[str, float | int]:
    """The scalar numbers of a framework's metrics dict (floats, ints, 0-d tensors via ``float()``);
    strings, lists, bools and non-scalar tensors are left out."""
    out: dict[str, float | int] = {}
    for name, value in (values or {}).items():
        if skip(name) or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[name] = value
            continue
        numel = getattr(value, "numel", None)  # a torch tensor: only a single number
        if callable(numel):
            try:
                if numel() == 1:
                    out[name] = float(value)
            except Exception:  # noqa: BLE001 - a foreign object that only looked like a tensor
                continue
    return out


class TrainingRun:
    """The activity one callback drives; ``Activity(**options)`` is made only when no cell/script owns one."""

    def __init__(self, title: str, **options: Any) -> None:
        self.title = title
        self.options = options
        self.activity: Activity | None = None
        self.owned = False

    def begin(self, **extra: Any) -> Activity:
        """The activity to feed from now on (`extra` options apply to an own one only, e.g. ``rank=``)."""
        if self.activity is not None and self.activity.outcome is None:
            return self.activity
        act = current_activity()
        if act is not None:
            self.activity, self.owned = act, False
            return act
        act = Activity(self.title, **{**self.options, **extra})
        self.activity, self.owned = act, True
        act.start()
        _watch(self)
        return act

    @property
    def running(self) -> bool:
        """Between `begin` and `finish` (or the owner's end)."""
        return self.activity is not None and self.activity.outcome is None

    def feed(self, snapshot: Snapshot) -> None:
        if self.activity is not None:
            self.activity.feed(snapshot)

    def metrics(self, values: Mapping[str, float | int | str]) -> None:
        if self.activity is not None and values:
            self.activity.metrics(**values)

    def finish(self, outcome: Outcome, *, error: BaseException | str | None = None) -> None:
        """End an own activity (idempotent); a cell's or script's activity is left to its owner.
        `activity` stays readable afterwards (its ``outcome`` tells how the run ended)."""
        act = self.activity
        _open_runs.discard(self)
        if act is None:
            return
        if self.owned:
            act.end(outcome, error=error)
        else:
            self.activity = None  # the owner's activity goes on; this run no longer feeds it

    def fail(self, error: BaseException | str | None) -> None:
        """The run died without the framework's end hook: end an own activity from the error."""
        if isinstance(error, BaseException):
            self.finish(outcome_for(error), error=error)
        else:
            self.finish("failed", error=error)


# ----------------------------------------------------------------------------- when no end hook comes


def _watch(run: TrainingRun) -> None:
    """Arrange for `run` to be ended if training dies without reaching the framework's end hook."""
    _open_runs.add(run)
    shell = _running_shell()
    if shell is not None:
        def after_cell(result: Any) -> None:
            shell.events.unregister("post_run_cell", after_cell)
            if run.running and run.owned:
                error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
                run.fail(error if error is not None else "training ended without finishing (no end hook ran)")

        shell.events.register("post_run_cell", after_cell)
        return
    _install_excepthook()


def _running_shell() -> Any:
    """The running IPython shell, without importing IPython when it is not loaded."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        return ipython.get_ipython()
    except Exception:  # noqa: BLE001 - a half-initialised IPython
        return None


def _install_excepthook() -> None:
    global _previous_excepthook
    with _hook_lock:
        if _previous_excepthook is not None:
            return
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
        atexit.register(_end_open_runs_at_exit)


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    for run in list(_open_runs):
        try:
            run.fail(exc)
        except Exception:  # noqa: BLE001 - the user's traceback must still be printed
            log.warning("ending the training activity failed", exc_info=True)
    previous = _previous_excepthook or sys.__excepthook__
    previous(exc_type, exc, tb)


def _end_open_runs_at_exit() -> None:
    for run in list(_open_runs):
        try:
            run.fail("the process exited before training finished")
        except Exception:  # noqa: BLE001 - never raise at exit
            log.warning("ending the training activity at exit failed", exc_info=True)

"""Optuna: ``study.optimize(objective, n_trials=100, callbacks=[ActivitySmithCallback()])``.

Optuna calls ``cb(study, frozen_trial)`` after each trial; there is no global callback registry, so the
one line to add is the callback. The subtitle reads ``trial 37/100 · best 0.913`` (plus the pruned and
failed counts when there are any); the total is ``n_trials=`` of the callback, else that of the running
``study.optimize`` call (found on the calling thread's stack, or the main thread's with ``n_jobs > 1``).

Outcomes of an owned activity: the last of ``n_trials`` -> "completed"; ``study.stop()`` (from the
objective or an earlier callback, e.g. ``MaxTrialsCallback``) -> "stopped". Optuna calls no callback
when the objective raises an exception it does not ``catch``, nor when a ``timeout`` ends the study:
the ``with ActivitySmithCallback() as cb:`` block (which also starts the activity before the first
trial), the IPython cell's end, the callback's next study or the interpreter's exit settle the run:
"failed" with the exception when one is known, else "completed" for a study bounded by its timeout
alone, "stopped" otherwise.
"""
from __future__ import annotations

import sys
import threading
from types import FrameType
from typing import Any

try:
    import optuna
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("activitysmith_jupyter.integrations.optuna needs optuna: pip install optuna") from exc

from ..hub.wording import format_metrics
from .training import TrainingFollower, SettlesOnExit, positive_int

__all__ = ["ActivitySmithCallback"]

_COMPLETE, _PRUNED, _FAIL = optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL


class ActivitySmithCallback(SettlesOnExit):
    """Mirror ``study.optimize`` to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Optuna study"). n_trials: trials in all (default: the running
    ``optimize`` call's). Other keywords go to `Activity` (``key``, ``type``, ``notify``, ``channels``,
    ``color``, ``client``, ``policy``, ``clock``...).
    """

    def __init__(self, title: str = "Optuna study", *, n_trials: int | None = None, **activity_options: Any) -> None:
        self._init = (title, n_trials, activity_options)
        self._given_total = positive_int("n_trials", n_trials)
        self._total: int | None = None
        self._done = self._pruned = self._failed = 0
        self._study: Any = None
        self._lock = threading.Lock()  # n_jobs > 1 calls back from several threads
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="stopped")

    def __call__(self, study: Any, trial: Any) -> None:
        with self._lock:
            opening = not self._run.following
            if opening:
                if getattr(study, "_stop_flag", False):
                    return  # a straggler of an optimize() that already stopped (n_jobs > 1)
                self._reset(self._given_total)
            if self._done == 0:
                self._follow_call(study)
            self._study = study
            self._done += 1
            if trial.state == _PRUNED:
                self._pruned += 1
            elif trial.state == _FAIL:
                self._failed += 1
            if opening:
                self._run.begin()  # its first snapshot shows this trial
            if self._total is not None and self._done >= self._total:
                self._run.finish("completed")
            elif getattr(study, "_stop_flag", False):  # study.stop() was called (Optuna's own flag)
                self._run.finish("stopped")
            else:
                self._run.tick()

    def __enter__(self) -> ActivitySmithCallback:
        """Start the activity now, before the first trial ends."""
        with self._lock:
            if not self._run.following:
                self._reset(self._given_total)
                self._run.begin()
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ActivitySmithCallback:
        title, n_trials, options = self._init
        return type(self)(title, n_trials=n_trials, **options)

    def _reset(self, total: int | None) -> None:
        self._total, self._study = total, None
        self._done = self._pruned = self._failed = 0
        self._run.unfinished = "stopped"

    def _follow_call(self, study: Any) -> None:
        """The total from the running ``optimize`` call; a study bounded by its ``timeout`` alone
        completes when it returns (no callback runs then: the run is settled as "completed")."""
        n_trials, timeout = _running_optimize(study)
        if self._total is None:
            self._total = n_trials
        if self._total is None and timeout is not None:
            self._run.unfinished = "completed"

    def _fields(self) -> dict[str, Any]:
        done, total = self._done, self._total
        metrics: dict[str, float | int] = {}
        best = _best_value(self._study)
        if best is not None:
            metrics["best"] = best
        if self._pruned:
            metrics["pruned"] = self._pruned
        if self._failed:
            metrics["failed"] = self._failed
        description = f"trial {done}/{total}" if total else f"trial {done}"
        subtitle = " · ".join(part for part in (description, format_metrics(metrics)) if part)
        return dict(n=float(done), total=float(total) if total else None, unit="trial",
                    description=description, metrics=metrics, subtitle=subtitle)


def _best_value(study: Any) -> float | None:
    if study is None:
        return None
    try:
        return float(study.best_value)
    except (ValueError, RuntimeError):  # no completed trial yet / a multi-objective study
        return None


def _running_optimize(study: Any) -> tuple[int | None, float | None]:
    """``(n_trials, timeout)`` of the ``study.optimize`` call running `study`: on this thread's stack
    (``n_jobs=1``), else on another thread's (``n_jobs > 1`` runs trials on worker threads)."""
    here = sys._getframe(1)
    for top in (here, *(f for f in sys._current_frames().values() if f is not here)):
        frame: FrameType | None = top
        for _ in range(40):
            if frame is None:
                break
            if frame.f_code.co_name == "_optimize" and frame.f_globals.get("__name__") == "optuna.study._optimize":
                local = frame.f_locals
                if study is None or local.get("study") is study:
                    n, timeout = local.get("n_trials"), local.get("timeout")
                    return (n if isinstance(n, int) and n > 0 else None,
                            float(timeout) if isinstance(timeout, (int, float)) else None)
            frame = frame.f_back
    return None, None

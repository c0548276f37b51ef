"""Ray Tune: ``tune.Tuner(..., run_config=tune.RunConfig(callbacks=[ActivitySmithCallback()]))``.

A ``ray.tune.Callback`` (Tune ignores custom ``ProgressReporter`` s since Ray 2.6, ray #38202; callbacks
are its extension point). It runs in the driver, in Tune's control loop: ``setup`` starts the run with
the sweep's size (``total_num_samples``), ``on_trial_result`` keeps the best value of the metric,
``on_trial_complete`` / ``on_trial_error`` count finished trials, ``on_experiment_end`` ends it. The
subtitle reads ``trial 12/50 · best val_loss 0.231`` (plus ``failed 2`` once a trial failed).

The metric is `metric=` (with `mode=`, "min" or "max"), else the first reported value whose name ends
in ``loss`` (minimised). A sweep in which trials failed ends "failed" (as ``tune.run``'s
``raise_on_failed_trial`` had it), its push naming them: ``2 of 8 trials failed: train_3a2b1_00003
(ValueError: bad config), …``; with every trial done it ends "completed". Inside
``%%activitysmith_progress`` / ``activity()`` the sweep feeds that activity and the cell ends it.
"""
from __future__ import annotations

import math
import pickle
import threading
from typing import Any, Literal

from ray import tune

from ..hub.wording import format_metrics
from .training import TrainingFollower, positive_int

__all__ = ["ActivitySmithCallback", "trial_error_line"]

MAX_NAMED = 3  # failed trials named in the push; the rest are counted


def trial_error_line(trial: Any) -> str | None:
    """The last line of a failed trial's traceback (``ValueError: bad config``), if Tune kept one."""
    text: Any = None
    try:
        path = trial.error_file  # the driver's copy, written before the callbacks run
        if path:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        if not text:
            text = trial.get_error()  # the synced copy in the run's storage
    except Exception:  # noqa: BLE001 - storage gone: the trial is named without its error
        return None
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip() and not ln[:1].isspace()]
    return lines[-1] if lines else None


class ActivitySmithCallback(tune.Callback):
    """Mirror a Tune sweep to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Ray Tune"). metric / mode: the value named "best" (default:
    the first ``…loss`` reported, minimised). total: trials in all (default: the sweep's
    ``num_samples`` times its grid). Other keywords go to `Activity` (``key``, ``type``, ``notify``,
    ``channels``, ``color``, ``client``, ``policy``, ``clock``...).
    """

    def __init__(self, title: str = "Ray Tune", *, metric: str | None = None,
                 mode: Literal["min", "max"] | None = None, total: int | None = None,
                 **activity_options: Any) -> None:
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode={mode!r} is not one of: min, max")
        self._init = (title, metric, mode, total, activity_options)
        self.metric, self.mode = metric, mode
        self._given_total = positive_int("total", total)
        self._total: int | None = None
        self._lock = threading.Lock()
        self._done = 0
        self._failed: list[tuple[str, str | None]] = []  # (trial, its error's last line)
        self._best: float | None = None
        self._best_name: str | None = metric
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="stopped")

    # -- Tune's hooks (the driver's control loop) --------------------------------------------------
    def setup(self, stop: Any = None, num_samples: int | None = None, total_num_samples: int | None = None,
              **info: Any) -> None:
        with self._lock:
            sized = total_num_samples if isinstance(total_num_samples, int) and total_num_samples > 0 else None
            self._total = self._given_total or sized
            self._done, self._failed, self._best = 0, [], None
            self._best_name = self.metric
        self._run.begin()

    def on_trial_result(self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any],
                        **info: Any) -> None:
        with self._lock:
            self._keep_best(result)
        self._run.tick()

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        with self._lock:
            self._done += 1
        self._run.tick()

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        with self._lock:
            self._done += 1
            self._failed.append((str(trial), trial_error_line(trial)))
        self._run.feed()  # a failure is shown at once (the activity still paces what it sends)

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        with self._lock:
            failed = list(self._failed)
        if failed:
            self._run.finish("failed", error=self.failure_text(failed))
        else:
            self._run.finish("completed" if self._total is None or self._run.reached_total() else "stopped")

    # -- wording -------------------------------------------------------------------------------------
    def failure_text(self, failed: list[tuple[str, str | None]]) -> str:
        """``2 of 8 trials failed: trial_a (ValueError: bad), trial_b (…)``."""
        named = [f"{name} ({line})" if line else name for name, line in failed[:MAX_NAMED]]
        more = f" and {len(failed) - MAX_NAMED} more" if len(failed) > MAX_NAMED else ""
        of = f" of {self._total}" if self._total else ""
        noun = "trial" if len(failed) == 1 and not of else "trials"
        return f"{len(failed)}{of} {noun} failed: {', '.join(named)}{more}"

    def _keep_best(self, result: dict[str, Any]) -> None:
        name = self._best_name
        if name is None:  # the first "...loss" the trainable reports
            name = next((k for k, v in result.items() if k.endswith("loss") and _number(v) is not None), None)
            if name is None:
                return
            self._best_name = name
        value = _number(result.get(name))
        if value is None:
            return
        maximise = (self.mode or ("min" if name.endswith(("loss", "error")) else "max")) == "max"
        if self._best is None or (value > self._best if maximise else value < self._best):
            self._best = value

    def _fields(self) -> dict[str, Any]:
        done, total = self._done, self._total
        metrics: dict[str, float | int] = {}
        if self._best is not None and self._best_name:
            metrics[f"best {self._best_name}"] = self._best
        if self._failed:
            metrics["failed"] = len(self._failed)
        description = f"trial {done}/{total}" if total else f"trial {done}"
        subtitle = " · ".join(part for part in (description, format_metrics(metrics)) if part)
        return dict(n=float(done), total=float(total) if total else None, unit="trial",
                    description=description, metrics=metrics, subtitle=subtitle)

    # -- copies: Tune saves the Tuner (its RunConfig too) with pickle ------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        title, metric, mode, total, options = self._init
        return (_rebuild, (title, metric, mode, total, _picklable(options)))


def _rebuild(title: str, metric: str | None, mode: Any, total: int | None,
             options: dict[str, Any]) -> ActivitySmithCallback:
    return ActivitySmithCallback(title, metric=metric, mode=mode, total=total, **options)


def _picklable(options: dict[str, Any]) -> dict[str, Any]:
    """The options a copy can keep (a client, a dispatcher or a clock stays with the original)."""
    kept = {}
    for name, value in options.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 - not picklable: the copy uses the default
            continue
        kept[name] = value
    return kept


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None

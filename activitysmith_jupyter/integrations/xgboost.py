"""XGBoost: ``xgb.train(..., callbacks=[ActivitySmithCallback()])`` on the Lock Screen.

An ``xgboost.callback.TrainingCallback`` (XGBoost has no global callback registry: the one line to add is
the callback; the scikit-learn wrappers take it as ``XGBClassifier(callbacks=[...])``). It follows
boosting rounds and the last value of every metric in ``evals_log`` (``eval-rmse 0.231``).

The number of rounds is known to ``train()`` only: give it as ``total=`` or the callback reads
``num_boost_round`` from the running ``xgboost.train`` / ``xgboost.cv`` call. ``after_training`` ends an
owned activity "completed", or "stopped" when fewer rounds ran (early stopping, or any callback that
returned True). XGBoost calls no hook when training raises: the ``with`` block, the IPython cell's end
or the interpreter's exit settle the run as "failed".
"""
from __future__ import annotations

import sys
from types import FrameType
from typing import Any

try:
    import xgboost
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("activitysmith_jupyter.integrations.xgboost needs xgboost: pip install xgboost") from exc

from .training import TrainingFollower, SettlesOnExit, ordered_metrics, positive_int

__all__ = ["ActivitySmithCallback"]

_TRAIN_FUNCTIONS = ("train", "cv")  # xgboost.training.train / cv hold num_boost_round


class ActivitySmithCallback(SettlesOnExit, xgboost.callback.TrainingCallback):
    """Mirror ``xgboost.train`` to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "XGBoost training"). total: boosting rounds (default: the
    running ``train()`` call's ``num_boost_round``). Other keywords go to `Activity` (``key``, ``type``,
    ``notify``, ``channels``, ``color``, ``client``, ``policy``, ``clock``...).
    """

    def __init__(self, title: str = "XGBoost training", *, total: int | None = None, **activity_options: Any) -> None:
        super().__init__()
        self._init = (title, total, activity_options)
        self._given_total = positive_int("total", total)
        self._total: int | None = None
        self._rounds = 0
        self._log: Any = None  # evals_log of the newest round (XGBoost's own dict, read only when due)
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="failed")

    def before_training(self, model: Any) -> Any:
        self._run.settle(None)  # a previous run that raised outside any with-block / cell ends first
        self._total = self._given_total or _rounds_of_running_train()
        self._rounds, self._log = 0, None
        self._run.begin()
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self._rounds += 1
        self._log = evals_log
        self._run.tick()
        return False

    def after_training(self, model: Any) -> Any:
        self._run.finish("completed" if self._total is None or self._run.reached_total() else "stopped")
        return model



    def __deepcopy__(self, memo: dict[int, Any]) -> ActivitySmithCallback:
        """A fresh callback with the same options (scikit-learn's ``clone`` deep-copies parameters)."""
        title, total, options = self._init
        return type(self)(title, total=total, **options)

    def _fields(self) -> dict[str, Any]:
        rounds, total = self._rounds, self._total
        metrics: dict[str, float] = {}
        for data, by_metric in (self._log or {}).items():
            for metric, values in by_metric.items():
                if values:
                    last = values[-1]
                    metrics[f"{data}-{metric}"] = float(last[0] if isinstance(last, tuple) else last)  # cv: (mean, std)
        description = f"round {rounds}/{total}" if total else f"round {rounds}"
        return dict(n=float(rounds), total=float(total) if total else None, unit="round",
                    description=description, metrics=ordered_metrics(metrics))


def _rounds_of_running_train() -> int | None:
    """``num_boost_round`` of the ``xgboost.train``/``cv`` call on this thread's stack, if any."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(8):  # our caller is CallbackContainer.before_training, called by train()
        frame = frame.f_back if frame is not None else None
        if frame is None:
            return None
        code = frame.f_code
        if code.co_name in _TRAIN_FUNCTIONS and frame.f_globals.get("__name__") == "xgboost.training":
            value = frame.f_locals.get("num_boost_round")
            return value if isinstance(value, int) and value > 0 else None
    return None

"""LightGBM: ``lgb.train(..., callbacks=[ActivitySmithCallback()])`` on the Lock Screen.

A LightGBM callback is a callable ``cb(env)``; ``order`` and ``before_iteration`` say when it runs.
This one runs after each iteration (``before_iteration = False``) with ``order = 25``: after
``log_evaluation`` (10) and ``record_evaluation`` (20), before ``early_stopping`` (30), so it sees the
round early stopping ends on. It follows ``env.iteration`` of ``env.begin_iteration`` ..
``env.end_iteration`` and the metrics of ``env.evaluation_result_list`` (``valid_0-l2 0.231``).
LightGBM has no global callback registry: the one line to add is the callback.

Outcomes of an owned activity: the last round -> "completed". LightGBM calls nothing after early
stopping or an exception, so such a run is settled by the ``with ActivitySmithCallback() as cb:``
block, the IPython cell's end, the callback's next run or the interpreter's exit: "failed" with the
exception when one is known, else "stopped".
"""
from __future__ import annotations

from typing import Any

from .training import TrainingFollower, SettlesOnExit, ordered_metrics

__all__ = ["ActivitySmithCallback"]


class ActivitySmithCallback(SettlesOnExit):
    """Mirror ``lightgbm.train`` to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "LightGBM training"). Other keywords go to `Activity`
    (``key``, ``type``, ``notify``, ``channels``, ``color``, ``client``, ``policy``, ``clock``...).
    """

    def __init__(self, title: str = "LightGBM training", **activity_options: Any) -> None:
        # instance attributes: lightgbm.train does cb.__dict__.setdefault("order", ...)
        self.order = 25
        self.before_iteration = False
        self._init = (title, activity_options)
        self._done = 0  # iterations done in this run
        self._total: int | None = None
        self._results: Any = None  # env.evaluation_result_list of the newest iteration
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="stopped")

    def __call__(self, env: Any) -> None:
        begin, end = int(env.begin_iteration), int(env.end_iteration)
        opening = env.iteration == begin or not self._run.following
        if opening:
            self._run.settle(None)  # a previous run left open (early stopping) ends first
            self._total = max(0, end - begin) or None
        self._done = int(env.iteration) - begin + 1
        self._results = env.evaluation_result_list
        if opening:
            self._run.begin()  # its first snapshot shows this iteration
        if self._done >= (self._total or 0) > 0:
            self._run.finish("completed")
        else:
            self._run.tick()



    def __deepcopy__(self, memo: dict[int, Any]) -> ActivitySmithCallback:
        """A fresh callback with the same options (scikit-learn's ``clone`` deep-copies parameters)."""
        title, options = self._init
        return type(self)(title, **options)

    def _fields(self) -> dict[str, Any]:
        done, total = self._done, self._total
        metrics: dict[str, float] = {}
        for item in self._results or ():
            # train(): (dataset, metric, value, higher_better); cv(): (dataset, metric, mean, higher_better, std)
            metrics[f"{item[0]}-{item[1]}"] = float(item[2])
        description = f"iteration {done}/{total}" if total else f"iteration {done}"
        return dict(n=float(done), total=float(total) if total else None, unit="iteration",
                    description=description, metrics=ordered_metrics(metrics))

"""XGBoost callback: real ``xgb.train`` on tiny data against the simulator."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

xgb = pytest.importorskip("xgboost")

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.xgboost import ActivitySmithCallback
from integration_helpers import pushes, shown, the_activity

RNG = np.random.default_rng(3)
X = RNG.random((200, 4))
Y = X @ np.array([1.0, 2.0, 3.0, 4.0]) + RNG.normal(0, 0.1, 200)
TRAIN = xgb.DMatrix(X[:150], Y[:150])
VALID = xgb.DMatrix(X[150:], Y[150:])


def train(*callbacks: Any, rounds: int = 20, **kwargs: Any) -> Any:
    params = {"max_depth": 2, **kwargs.pop("params", {})}
    return xgb.train(params, TRAIN, num_boost_round=rounds, evals=[(TRAIN, "train"), (VALID, "eval")],
                     verbose_eval=False, callbacks=list(callbacks), **kwargs)


def test_train_follows_rounds_and_eval_metrics_and_ends_completed(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Boost", notify="always", dispatcher=dispatcher, clock=clock)
    train(cb)
    assert dispatcher.flush(10)
    a = the_activity(sim, "Boost")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Boost finished in")
    assert "eval-rmse" in (push.get("message") or "") + a["content_state"]["subtitle"]
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total, last.unit) == (20, 20, "round")  # total read from train()
    assert set(last.metrics) == {"train-rmse", "eval-rmse"}
    assert last.metrics["eval-rmse"] == pytest.approx(float(train(rounds=20).eval(VALID).split(":")[1]), rel=1e-3)


def test_total_given_as_argument_wins(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Boost total", notify="always", total=40, dispatcher=dispatcher, clock=clock)
    train(cb, rounds=10)
    assert dispatcher.flush(10)
    assert cb._run.last_snapshot is not None and cb._run.last_snapshot.total == 40
    assert pushes(sim)[0]["title"].startswith("⏹️ Boost total stopped")  # 10 of 40 rounds


def test_early_stopping_ends_stopped(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Boost early", notify="always", dispatcher=dispatcher, clock=clock)
    booster = train(cb, rounds=500, early_stopping_rounds=2, params={"eta": 1.0})
    assert booster.num_boosted_rounds() < 500
    assert dispatcher.flush(10)
    cs = the_activity(sim, "Boost-early")["content_state"]
    assert cs["color"] == "orange" and cs["percentage"] < 100
    assert pushes(sim)[0]["title"].startswith("⏹️ Boost early stopped after")


def test_a_callback_returning_true_ends_stopped(dispatcher, sim, clock) -> None:
    class StopAtFive(xgb.callback.TrainingCallback):  # type: ignore[misc]
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return epoch == 4

    train(ActivitySmithCallback("Boost halt", notify="always", dispatcher=dispatcher, clock=clock), StopAtFive())
    assert dispatcher.flush(10)
    assert pushes(sim)[0]["title"].startswith("⏹️ Boost halt stopped after")


def test_exception_in_training_ends_failed_through_the_with_block(dispatcher, sim, clock) -> None:
    class Explode(xgb.callback.TrainingCallback):  # type: ignore[misc]
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            if epoch == 3:
                raise RuntimeError("disk full")
            return False

    with pytest.raises(RuntimeError, match="disk full"):
        with ActivitySmithCallback("Boost boom", dispatcher=dispatcher, clock=clock) as cb:
            train(cb, Explode())
    assert dispatcher.flush(10)
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Boost boom failed") and "RuntimeError: disk full" in push["message"]


def test_inside_an_open_activity_training_feeds_it_and_leaves_the_end_to_its_owner(dispatcher, sim, clock) -> None:
    with Activity("Cell", dispatcher=dispatcher, clock=clock) as act:
        train(ActivitySmithCallback(dispatcher=dispatcher, clock=clock))
        assert act.outcome is None
        assert act.last_snapshot is not None and act.last_snapshot.description == "round 20/20"
    assert dispatcher.flush(10)
    assert [a["stream_key"] for a in shown(sim)] == ["Cell"]


def test_reused_callback_follows_each_run_as_its_own_activity(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Boost twice", notify="always", dispatcher=dispatcher, clock=clock)
    train(cb, rounds=5)
    assert dispatcher.flush(10)
    train(cb, rounds=8)
    assert dispatcher.flush(10)
    assert [p["title"][:1] for p in pushes(sim)] == ["✅", "✅"]
    assert cb._run.last_snapshot is not None and cb._run.last_snapshot.n == 8


def test_cv_follows_rounds_and_the_mean_of_each_metric(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Boost cv", notify="always", dispatcher=dispatcher, clock=clock)
    history = xgb.cv({"max_depth": 2}, TRAIN, num_boost_round=6, nfold=3, callbacks=[cb], as_pandas=False)
    assert dispatcher.flush(10)
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total) == (6, 6)
    assert last.metrics == {"train-rmse": pytest.approx(history["train-rmse-mean"][-1]),
                            "test-rmse": pytest.approx(history["test-rmse-mean"][-1])}
    assert pushes(sim)[0]["title"].startswith("✅ Boost cv finished")

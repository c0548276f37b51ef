"""LightGBM callback: real ``lgb.train`` on tiny data against the simulator."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.lightgbm import ActivitySmithCallback
from integration_helpers import pushes, run_child, shown, the_activity
from shell_helpers import fresh_shell

RNG = np.random.default_rng(5)
X = RNG.random((300, 4))
Y = X @ np.array([1.0, 2.0, 3.0, 4.0]) + RNG.normal(0, 0.1, 300)
PARAMS = {"verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5}


def datasets() -> tuple[Any, Any]:
    train_set = lgb.Dataset(X[:200], Y[:200])
    return train_set, lgb.Dataset(X[200:], Y[200:], reference=train_set)


def train(*callbacks: Any, rounds: int = 15, **params: Any) -> Any:
    train_set, valid_set = datasets()
    return lgb.train({**PARAMS, **params}, train_set, num_boost_round=rounds, valid_sets=[valid_set],
                     callbacks=list(callbacks))


def test_callback_runs_after_evaluation_and_before_early_stopping() -> None:
    cb = ActivitySmithCallback()
    assert cb.before_iteration is False
    assert lgb.record_evaluation({}).order < cb.order < lgb.early_stopping(5).order


def test_train_follows_iterations_and_metrics_and_ends_completed(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("GBM", notify="always", dispatcher=dispatcher, clock=clock)
    booster = train(cb)
    assert dispatcher.flush(10)
    a = the_activity(sim, "GBM")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ GBM finished in")
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total, last.unit) == (15, 15, "iteration")
    assert last.metrics == {"valid_0-l2": pytest.approx(booster.best_score["valid_0"]["l2"])}


def test_early_stopping_ends_stopped_through_the_with_block(dispatcher, sim, clock) -> None:
    with ActivitySmithCallback("GBM early", notify="always", dispatcher=dispatcher, clock=clock) as cb:
        booster = train(cb, lgb.early_stopping(2, verbose=False), rounds=500, learning_rate=1.0)
    assert booster.best_iteration < 500
    assert dispatcher.flush(10)
    cs = the_activity(sim, "GBM-early")["content_state"]
    assert cs["color"] == "orange" and cs["percentage"] < 100
    assert pushes(sim)[0]["title"].startswith("⏹️ GBM early stopped after")


def test_early_stopping_in_an_ipython_cell_ends_stopped_when_the_cell_ends(dispatcher, sim, clock) -> None:
    train_set, valid_set = datasets()
    with fresh_shell(extension=False) as ip:
        ip.user_ns.update(lgb=lgb, train_set=train_set, valid_set=valid_set, dispatcher=dispatcher, clock=clock,
                          PARAMS={**PARAMS, "learning_rate": 1.0})
        result = ip.run_cell(
            "from activitysmith_jupyter.integrations.lightgbm import ActivitySmithCallback\n"
            "booster = lgb.train(PARAMS, train_set, num_boost_round=500, valid_sets=[valid_set], callbacks=[\n"
            "    ActivitySmithCallback('Cell GBM', notify='always', dispatcher=dispatcher, clock=clock),\n"
            "    lgb.early_stopping(2, verbose=False)])\n")
        assert result.success
    assert dispatcher.flush(10)
    assert the_activity(sim, "Cell-GBM")["state"] == "ended"
    assert pushes(sim)[0]["title"].startswith("⏹️ Cell GBM stopped after")


def test_exception_in_training_ends_failed_through_the_with_block(dispatcher, sim, clock) -> None:
    def explode(env: Any) -> None:
        if env.iteration == 4:
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError, match="worker lost"):
        with ActivitySmithCallback("GBM boom", dispatcher=dispatcher, clock=clock) as cb:
            train(cb, explode)
    assert dispatcher.flush(10)
    [push] = pushes(sim)
    assert push["title"].startswith("❌ GBM boom failed") and "RuntimeError: worker lost" in push["message"]


def test_inside_an_open_activity_training_feeds_it_and_leaves_the_end_to_its_owner(dispatcher, sim, clock) -> None:
    with Activity("Cell", dispatcher=dispatcher, clock=clock) as act:
        train(ActivitySmithCallback(dispatcher=dispatcher, clock=clock))
        assert act.outcome is None
        assert act.last_snapshot is not None and act.last_snapshot.description == "iteration 15/15"
    assert dispatcher.flush(10)
    assert [a["stream_key"] for a in shown(sim)] == ["Cell"]


def test_cv_follows_the_aggregated_metric(dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("GBM cv", notify="always", dispatcher=dispatcher, clock=clock)
    lgb.cv(PARAMS, lgb.Dataset(X, Y), num_boost_round=6, nfold=3, stratified=False, callbacks=[cb])
    assert dispatcher.flush(10)
    last = cb._run.last_snapshot
    assert last is not None and last.n == 6 and list(last.metrics) == ["valid-l2"]
    assert pushes(sim)[0]["title"].startswith("✅ GBM cv finished")


def test_a_script_that_stops_early_ends_stopped_at_exit(server, sim, tmp_path) -> None:
    child = run_child("""
        import numpy as np, lightgbm as lgb
        from activitysmith_jupyter.integrations.lightgbm import ActivitySmithCallback
        x = np.random.rand(200, 3); y = x.sum(axis=1)
        t = lgb.Dataset(x[:150], y[:150]); v = lgb.Dataset(x[150:], y[150:], reference=t)
        lgb.train({"verbose": -1, "learning_rate": 1.0}, t, num_boost_round=1000, valid_sets=[v],
                  callbacks=[ActivitySmithCallback("Script GBM", notify="always"), lgb.early_stopping(2, verbose=False)])
    """, server, tmp_path)
    assert child.returncode == 0, child.stderr
    assert the_activity(sim, "Script-GBM")["state"] == "ended"
    assert pushes(sim)[0]["title"].startswith("⏹️ Script GBM stopped after")

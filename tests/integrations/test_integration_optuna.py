"""Optuna callback: real ``study.optimize`` with tiny objectives against the simulator."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.optuna import ActivitySmithCallback
from integration_helpers import pushes, shown, the_activity

optuna.logging.set_verbosity(optuna.logging.ERROR)


def quadratic(trial: Any) -> float:
    x = trial.suggest_float("x", -2, 2)
    return (x - 0.5) ** 2


def test_trials_done_of_n_trials_and_best_value_end_completed(dispatcher, sim, clock) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    cb = ActivitySmithCallback("Tuning", notify="always", dispatcher=dispatcher, clock=clock)
    study.optimize(quadratic, n_trials=12, callbacks=[cb])  # n_trials read from the optimize() call
    assert dispatcher.flush(10)
    a = the_activity(sim, "Tuning")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total, last.unit) == (12, 12, "trial")
    assert last.metrics["best"] == pytest.approx(study.best_value)
    assert last.subtitle == f"trial 12/12 · best {study.best_value:.3g}"
    assert pushes(sim)[0]["title"].startswith("✅ Tuning finished in")


def test_pruned_and_failed_trials_are_counted(dispatcher, sim, clock) -> None:
    def objective(trial: Any) -> float:
        if trial.number in (2, 5):
            raise optuna.TrialPruned()
        if trial.number == 7:
            raise ValueError("bad config")
        return quadratic(trial)

    cb = ActivitySmithCallback("Pruning", notify="always", n_trials=10, dispatcher=dispatcher, clock=clock)
    optuna.create_study().optimize(objective, n_trials=10, catch=(ValueError,), callbacks=[cb])
    assert dispatcher.flush(10)
    last = cb._run.last_snapshot
    assert last is not None and last.n == 10
    assert (last.metrics["pruned"], last.metrics["failed"]) == (2, 1)
    assert last.subtitle is not None and last.subtitle.startswith("trial 10/10 · best ")
    assert last.subtitle.endswith(" · pruned 2 · failed 1")
    assert pushes(sim)[0]["title"].startswith("✅ Pruning finished")


def test_study_stop_ends_stopped(dispatcher, sim, clock) -> None:
    def objective(trial: Any) -> float:
        if trial.number == 4:
            trial.study.stop()
        return quadratic(trial)

    cb = ActivitySmithCallback("Stopping", notify="always", dispatcher=dispatcher, clock=clock)
    optuna.create_study().optimize(objective, n_trials=50, callbacks=[cb])
    assert dispatcher.flush(10)
    assert cb._run.last_snapshot is not None and cb._run.last_snapshot.description == "trial 5/50"
    assert the_activity(sim, "Stopping")["content_state"]["color"] == "orange"
    assert pushes(sim)[0]["title"].startswith("⏹️ Stopping stopped after")


def test_max_trials_callback_before_ours_ends_stopped(dispatcher, sim, clock) -> None:
    study = optuna.create_study()
    study.optimize(quadratic, n_trials=3)  # three trials from an earlier session
    limit = optuna.study.MaxTrialsCallback(6, states=None)
    study.optimize(quadratic, n_trials=20,
                   callbacks=[limit, ActivitySmithCallback("Budget", notify="always", dispatcher=dispatcher, clock=clock)])
    assert dispatcher.flush(10)
    assert pushes(sim)[0]["title"].startswith("⏹️ Budget stopped after")


def test_objective_raising_ends_failed_through_the_with_block(dispatcher, sim, clock) -> None:
    def objective(trial: Any) -> float:
        if trial.number == 3:
            raise RuntimeError("GPU lost")
        return quadratic(trial)

    with pytest.raises(RuntimeError, match="GPU lost"):
        with ActivitySmithCallback("Crash", n_trials=20, dispatcher=dispatcher, clock=clock) as cb:
            optuna.create_study().optimize(objective, n_trials=20, callbacks=[cb])
    assert dispatcher.flush(10)
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Crash failed") and "RuntimeError: GPU lost" in push["message"]


def test_the_with_block_shows_the_study_before_the_first_trial_ends(dispatcher, sim, clock) -> None:
    seen: list[list[str]] = []

    def objective(trial: Any) -> float:
        if trial.number == 0:
            dispatcher.flush(10)
            seen.append([r.method for r in sim.requests])
        return quadratic(trial)

    with ActivitySmithCallback("Early show", notify="always", n_trials=3, dispatcher=dispatcher, clock=clock) as cb:
        optuna.create_study().optimize(objective, n_trials=3, callbacks=[cb])
    assert seen == [["PUT"]]
    assert dispatcher.flush(10)
    assert pushes(sim)[0]["title"].startswith("✅ Early show finished")


@pytest.mark.parametrize("given", [16, None], ids=["n_trials-given", "n_trials-read-from-the-call"])
def test_parallel_trials_are_all_counted(given, dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Parallel", notify="always", n_trials=given, dispatcher=dispatcher, clock=clock)
    optuna.create_study().optimize(quadratic, n_trials=16, n_jobs=4, callbacks=[cb])
    assert dispatcher.flush(10)
    assert cb._run.last_snapshot is not None and (cb._run.last_snapshot.n, cb._run.last_snapshot.total) == (16, 16)
    assert [p["title"][:1] for p in pushes(sim)] == ["✅"]


def test_a_study_bounded_by_its_timeout_completes_when_optimize_returns(dispatcher, sim, clock) -> None:
    with ActivitySmithCallback("Timed", notify="always", dispatcher=dispatcher, clock=clock) as cb:
        optuna.create_study().optimize(quadratic, timeout=0.2, callbacks=[cb])  # Optuna's own clock
        assert dispatcher.flush(10) and pushes(sim) == []  # no callback runs when the timeout ends it
    assert dispatcher.flush(10)
    last = cb._run.last_snapshot
    assert last is not None and last.total is None and last.n is not None and last.n >= 1
    assert last.subtitle is not None and last.subtitle.startswith(f"trial {int(last.n)} · best ")
    assert pushes(sim)[0]["title"].startswith("✅ Timed finished")


def test_a_copy_is_a_fresh_callback_with_the_same_options(dispatcher, sim, clock) -> None:
    import copy

    cb = ActivitySmithCallback("Copied", notify="always", n_trials=3, dispatcher=dispatcher, clock=clock)
    optuna.create_study().optimize(quadratic, n_trials=3, callbacks=[cb])
    twin = copy.deepcopy(cb)
    assert twin is not cb and twin._run is not cb._run and twin._run.last_snapshot is None
    optuna.create_study().optimize(quadratic, n_trials=3, callbacks=[twin])
    assert dispatcher.flush(10)
    assert [p["title"].startswith("✅ Copied finished") for p in pushes(sim)] == [True, True]


def test_inside_an_open_activity_the_study_feeds_it_and_leaves_the_end_to_its_owner(dispatcher, sim, clock) -> None:
    with Activity("Cell", dispatcher=dispatcher, clock=clock) as act:
        optuna.create_study().optimize(quadratic, n_trials=5,
                                       callbacks=[ActivitySmithCallback(dispatcher=dispatcher, clock=clock)])
        assert act.outcome is None
        assert act.last_snapshot is not None and act.last_snapshot.description == "trial 5/5"
    assert dispatcher.flush(10)
    assert [a["stream_key"] for a in shown(sim)] == ["Cell"]


def test_in_an_activitysmith_progress_cell_show_progress_bar_is_followed_with_no_callback(dispatcher, sim) -> None:
    from shell_helpers import fresh_shell

    def slow_trial(trial: Any) -> float:
        time.sleep(0.02)  # the trial's work: long enough for the observer's looks (every 50 ms here)
        return quadratic(trial)

    with fresh_shell(extension=True) as ip:
        ip.user_ns.update(optuna=optuna, slow_trial=slow_trial, disp=dispatcher)
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'disp'")
        ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.05")
        result = ip.run_cell(
            "%%activitysmith_progress -t Tuning-cell\n"
            "optuna.create_study().optimize(slow_trial, n_trials=25, show_progress_bar=True)\n")
        assert result.success, result.error_in_exec
    assert dispatcher.flush(10)
    [a] = shown(sim)
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100
    subtitles = [r.json["content_state"].get("subtitle", "") for r in sim.requests if r.method == "PUT"]
    assert any(re.search(r"\b\d+/25\b", text) for text in subtitles), subtitles  # Optuna's own tqdm bar


def test_ctrl_c_in_a_script_ends_interrupted_at_exit(server, sim, tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys, time, optuna
        from activitysmith_jupyter.integrations.optuna import ActivitySmithCallback
        optuna.logging.set_verbosity(optuna.logging.CRITICAL)
        def objective(trial):
            if trial.number == 3:
                print("ready", flush=True)
            time.sleep(0.05)  # the trial's work
            return trial.suggest_float("x", 0, 1)
        optuna.create_study().optimize(objective, n_trials=100_000, callbacks=[ActivitySmithCallback("Long study", notify="always")])
    """)
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_integrations", "ACTIVITYSMITH_BASE_URL": server.url}
    child = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode != 0 and "KeyboardInterrupt" in err
    assert the_activity(sim, "Long-study")["state"] == "ended"
    [push] = pushes(sim)
    assert push["title"].startswith("⏹️ Long study interrupted after")

"""Ray on the Lock Screen, against a real local Ray (``ray.init(num_cpus=2)``, one for the module): a Tune
sweep with a failing trial, a Ray Train (v2) run through its controller-side callback, and remote tasks'
``tqdm_ray`` bars followed with no code."""
from __future__ import annotations

import re
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

ray = pytest.importorskip("ray")  # ray.tune and ray.train load in the tests (seconds), not at collection

from activitysmith_jupyter import activity  # noqa: E402
from activitysmith_jupyter.delivery.dispatcher import dispatcher_for  # noqa: E402
from activitysmith_jupyter.integrations import ray as ray_integration  # noqa: E402

# A sweep or a Train run takes 15-45 s alone; beside three busy workers Ray's actor start-up and teardown
# can take four times that: more than the suite's 180 s per test.
pytestmark = [pytest.mark.engines, pytest.mark.timeout(480)]


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    from ray import cloudpickle

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=True)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    yield
    ray.shutdown()


def eventually(check: Any, timeout: float = 15.0) -> bool:
    """Whether `check()` comes true within `timeout` seconds (events cross processes asynchronously)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def ended(sim: Any, key: str) -> dict[str, Any]:
    [found] = [a.view() for a in sim.activities.values() if a.stream_key == key]
    assert found["state"] == "ended", found
    return found


def objective(config: dict[str, Any]) -> None:
    from ray import tune

    if config["x"] == 3:
        raise ValueError("bad config")
    for step in range(2):
        tune.report({"val_loss": (config["x"] - 4.5) ** 2 + 1.0 / (step + 1), "step": step})


def test_a_tune_sweep_counts_trials_keeps_the_best_and_names_the_failed_one(client, sim, tmp_path) -> None:
    from ray import tune

    cb = ray_integration.ActivitySmithCallback("Sweep", key="sweep", client=client)
    tuner = tune.Tuner(tune.with_resources(objective, {"cpu": 0.5}), param_space={"x": tune.grid_search(list(range(5)))},
                       tune_config=tune.TuneConfig(reuse_actors=True),  # 4 trial actors, reused: a short sweep
                       run_config=tune.RunConfig(callbacks=[cb], storage_path=str(tmp_path), verbose=0))
    grid = tuner.fit()
    assert len(grid.errors) == 1
    best = min(r.metrics["val_loss"] for r in grid if r.error is None)
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total, last.unit) == (5, 5, "trial")
    assert last.subtitle == f"trial 5/5 · best val_loss {best:.3g} · failed 1"
    assert dispatcher_for(client).flush(10)
    a = ended(sim, "sweep")
    assert a["content_state"]["color"] == "red"
    [push] = [n["request"] for n in sim.notifications]
    assert push["title"].startswith("❌ Sweep failed after")
    assert re.fullmatch(r"1 of 5 trials failed: objective_\w+_00003 \(ValueError: bad config\)", push["message"]), push


def test_a_sweep_with_no_failure_ends_completed_inside_an_activity_block(client, sim, tmp_path) -> None:
    from ray import tune

    def fine(config: dict[str, Any]) -> None:
        tune.report({"score": config["x"] * 2})

    cb = ray_integration.ActivitySmithCallback("inner", metric="score", mode="max")
    with activity("Nightly sweep", key="nightly-sweep", client=client) as act:
        tune.Tuner(tune.with_resources(fine, {"cpu": 0.5}), param_space={"x": tune.grid_search([1, 2, 3])},
                   tune_config=tune.TuneConfig(reuse_actors=True), run_config=tune.RunConfig(callbacks=[cb], storage_path=str(tmp_path), verbose=0)).fit()
        fed = act.last_snapshot
    assert fed is not None and fed.subtitle == "trial 3/3 · best score 6"
    assert dispatcher_for(client).flush(10)
    a = ended(sim, "nightly-sweep")  # the block's activity, fed by the sweep and ended by the block
    assert a["content_state"]["color"] == "green"
    assert [a["stream_key"] for a in (x.view() for x in sim.activities.values())] == ["nightly-sweep"]


def train_loop(config: dict[str, Any]) -> None:
    import ray.train

    for epoch in range(3):
        if config.get("fail_at") == epoch:
            raise ValueError("bad batch")
        ray.train.report({"loss": 1.0 / (epoch + 1), "epoch": epoch})


def _trainer(cb: Any, tmp_path: Any, **loop_config: Any) -> Any:
    from ray.train import RunConfig, ScalingConfig
    from ray.train.v2.api.data_parallel_trainer import DataParallelTrainer

    return DataParallelTrainer(train_loop, train_loop_config=loop_config,
                               scaling_config=ScalingConfig(num_workers=1),
                               run_config=RunConfig(callbacks=[cb], storage_path=str(tmp_path), name="run"))


def test_ray_train_reports_reach_the_driver_from_the_controller(client, sim, tmp_path) -> None:
    with ray_integration.ActivitySmithTrainCallback("Training", key="training", total=3, client=client) as cb:
        _trainer(cb, tmp_path).fit()
        assert eventually(lambda: cb._reports == 3)  # the driver's drain thread got every report
    last = cb._run.last_snapshot
    assert last is not None and (last.n, last.total, last.unit) == (3, 3, "report")
    assert last.description == "report 3/3" and last.metrics["loss"] == pytest.approx(1 / 3)
    assert last.subtitle == "report 3/3 · loss 0.333 · epoch 2"
    assert dispatcher_for(client).flush(10)
    a = ended(sim, "training")
    assert (a["content_state"]["percentage"], a["content_state"]["color"]) == (100, "green")


def test_a_failing_ray_train_worker_is_named_and_the_run_ends_red(client, sim, tmp_path) -> None:
    from ray.train import TrainingFailedError

    with pytest.raises(TrainingFailedError):
        with ray_integration.ActivitySmithTrainCallback("Training", key="train-fail", client=client) as cb:
            _trainer(cb, tmp_path, fail_at=1).fit()
    assert cb._errors == {0: "ValueError: bad batch"} and cb._reports == 1
    assert dispatcher_for(client).flush(10)
    assert ended(sim, "train-fail")["content_state"]["color"] == "red"
    [push] = [n["request"] for n in sim.notifications]
    assert push["title"].startswith("❌ Training failed after")


SHARDS = """
import time
import ray
from ray.experimental import tqdm_ray

@ray.remote
def shard(i):
    bar = tqdm_ray.tqdm(total=25, desc="shard")
    for _ in range(25):
        time.sleep(0.02)
        bar.update(1)
    bar.close()
    return i

assert sorted(ray.get([shard.remote(i) for i in range(4)])) == [0, 1, 2, 3]
time.sleep(1.5)  # the workers' last lines reach the driver through its log thread
"""


def test_remote_tqdm_ray_bars_reach_a_magic_cell_with_no_code(dispatcher, sim) -> None:
    pytest.importorskip("IPython")
    from shell_helpers import fresh_shell

    with fresh_shell(extension=True) as ip:
        ip.user_ns.update(sim_dispatcher=dispatcher)
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        cell = ("%%activitysmith_progress -k shards -t Shards\n" + textwrap.dedent(SHARDS) +
                "from activitysmith_jupyter import current_activity\nseen = current_activity().last_snapshot\n")
        result = ip.run_cell(cell, store_history=True)
        assert result.success, result.error_in_exec
        seen = ip.user_ns["seen"]
    assert seen is not None and (seen.n, seen.total, seen.description) == (100, 100, "shard ×4")
    from ray.experimental import tqdm_ray

    assert not hasattr(tqdm_ray._BarManager.process_state_update, "__wrapped__")  # unhooked after the cell


def test_remote_tqdm_ray_bars_feed_an_activity_block(client) -> None:
    with activity("Shards", key="shards-block", client=client, notify="never") as act:
        exec(compile(textwrap.dedent(SHARDS), "<shards>", "exec"), {})
        seen = act.last_snapshot
    assert seen is not None and (seen.n, seen.total, seen.unit) == (100, 100, "it")
    assert dispatcher_for(client).flush(10)

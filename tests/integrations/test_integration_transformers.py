"""Transformers' TrainerCallback against the real callback classes (the Trainer itself needs torch).

Every run goes through `CallbackHandler` + `DefaultFlowCallback` with real `TrainingArguments`,
`TrainerState` and `TrainerControl`, in the order `Trainer.train()` calls them
(tests/integrations/_hf_trainer_loop.py), and lands on the embedded simulator.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("transformers")

from transformers import TrainerCallback
from transformers.trainer_callback import EarlyStoppingCallback

from _hf_trainer_loop import arguments, handler_for, losses, train_like_the_trainer
from activitysmith_jupyter.hub.activity import Activity, current_activity
from activitysmith_jupyter.integrations.transformers import ActivitySmithCallback

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent  # _hf_trainer_loop.py, for the script


def stream_puts(sim: Any, key: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == "PUT" and r.key == key]


def stream_ends(sim: Any, key: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == "DELETE" and r.key == key]


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path.startswith("/push-notification")]


def callback(dispatcher: Any, clock: Any, **options: Any) -> ActivitySmithCallback:
    options.setdefault("notify", "always")  # these tests read the closing push of every outcome
    return ActivitySmithCallback("Fine-tune", key="hf-run", dispatcher=dispatcher, clock=clock, **options)


def test_it_is_a_real_trainer_callback() -> None:
    assert issubclass(ActivitySmithCallback, TrainerCallback)


def test_a_full_run_fills_the_bar_and_closes_with_the_loss(dispatcher, sim, clock, tmp_path) -> None:
    cb = callback(dispatcher, clock)
    train_like_the_trainer(handler_for(cb), arguments(tmp_path), epochs=2, steps_per_epoch=5,
                           loss=losses([0.2309999]))
    dispatcher.flush(timeout=5)
    assert cb.activity is not None and cb.activity.outcome == "completed"
    [end] = stream_ends(sim, "hf-run")
    final = end["content_state"]
    assert final["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Fine-tune finished in")
    assert "loss 0.231" in (push.get("message") or "") + push["title"]


def test_progress_counts_steps_of_max_steps_and_names_the_epoch(dispatcher, sim, clock, tmp_path) -> None:
    cb = callback(dispatcher, clock)
    seen: list[tuple[float, str]] = []

    class Spy(TrainerCallback):  # after ours: what the phone shows after each step, then 11 s pass
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            dispatcher.flush(timeout=5)
            clock.advance(11)  # a snapshot is due again (at most 10 s stale): one per step here
            cs = stream_puts(sim, "hf-run")[-1]["content_state"]
            seen.append((cs.get("percentage"), cs.get("subtitle", "")))

    train_like_the_trainer(handler_for(Spy(), cb), arguments(tmp_path), epochs=2, steps_per_epoch=4)
    assert [p for p, _ in seen] == [0, 12.5, 25, 37.5, 50, 62.5, 75, 87.5]  # the Spy looks before ours
    assert "epoch 1/2" in seen[0][1] and "epoch 2/2" in seen[-1][1]


def test_early_stopping_ends_the_activity_stopped(dispatcher, sim, clock, tmp_path) -> None:
    cb = callback(dispatcher, clock)
    args = arguments(tmp_path, metric_for_best_model="loss", greater_is_better=False)
    state, control = train_like_the_trainer(
        handler_for(EarlyStoppingCallback(early_stopping_patience=1), cb), args, epochs=10, steps_per_epoch=3,
        eval_loss=lambda epoch: 0.5 + 0.1 * epoch)  # worse every epoch: stops after the second evaluation
    dispatcher.flush(timeout=5)
    assert (state.global_step, control.should_training_stop) == (6, True)
    assert cb.activity is not None and cb.activity.outcome == "stopped"
    [push] = pushes(sim)
    assert push["title"].startswith("⏹️ Fine-tune stopped after")
    assert len(stream_ends(sim, "hf-run")) == 1


def test_logged_metrics_skip_the_trainers_bookkeeping(dispatcher, sim, clock, tmp_path) -> None:
    cb = callback(dispatcher, clock, type="stats")
    train_like_the_trainer(handler_for(cb), arguments(tmp_path), epochs=1, steps_per_epoch=4,
                           loss=losses([0.4]), eval_loss=lambda epoch: 0.35)
    dispatcher.flush(timeout=5)
    [end] = stream_ends(sim, "hf-run")
    labels = [m["label"] for m in end["content_state"]["metrics"]]
    assert labels[:2] == ["loss", "eval_loss"]
    assert not {"learning_rate", "grad_norm", "epoch", "eval_runtime", "total_flos"} & set(labels)


def test_a_process_other_than_world_zero_sends_nothing(dispatcher, sim, clock, tmp_path) -> None:
    cb = callback(dispatcher, clock)
    train_like_the_trainer(handler_for(cb), arguments(tmp_path), epochs=1, steps_per_epoch=3, world_zero=False)
    dispatcher.flush(timeout=5)
    assert cb.activity is None
    assert sim.requests == []


def test_inside_an_activity_block_it_feeds_the_block_and_leaves_the_end_to_it(dispatcher, sim, clock,
                                                                               tmp_path) -> None:
    cb = ActivitySmithCallback("ignored: the block owns the activity", dispatcher=dispatcher, clock=clock)
    with Activity("Notebook run", key="cell-run", dispatcher=dispatcher, clock=clock) as block:
        assert current_activity() is block
        train_like_the_trainer(handler_for(cb), arguments(tmp_path), epochs=1, steps_per_epoch=4)
        dispatcher.flush(timeout=5)
        assert block.outcome is None and stream_ends(sim, "cell-run") == []
        assert stream_puts(sim, "cell-run")[-1]["content_state"]["percentage"] == 100
    dispatcher.flush(timeout=5)
    assert block.outcome == "completed"
    assert len(stream_ends(sim, "cell-run")) == 1
    assert {r.key for r in sim.requests if r.key} == {"cell-run"}  # no activity of the callback's own


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from _hf_trainer_loop import arguments, handler_for, train_like_the_trainer
    from activitysmith_jupyter.integrations.transformers import ActivitySmithCallback

    cb = ActivitySmithCallback("Fine-tune", key="hf-script")
    train_like_the_trainer(handler_for(cb), arguments(sys.argv[2]), epochs=2, steps_per_epoch=5, fail_at_step=7)
""")


def test_an_exception_in_a_script_ends_the_callbacks_own_activity_failed(server, sim, tmp_path) -> None:
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_hf", "ACTIVITYSMITH_BASE_URL": server.url,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(HERE), str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1 and "RuntimeError: CUDA out of memory" in result.stderr  # traceback kept
    [end] = stream_ends(sim, "hf-script")
    assert end["content_state"]["percentage"] == 60  # 6 of 10 steps done when step 7 failed
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Fine-tune failed after")
    assert "RuntimeError: CUDA out of memory" in push["message"]


def test_an_exception_in_an_ipython_cell_ends_the_callbacks_own_activity_failed(dispatcher, sim, clock,
                                                                                 tmp_path) -> None:
    from shell_helpers import fresh_shell

    cb = callback(dispatcher, clock)
    with fresh_shell(extension=False) as ip:
        ip.user_ns.update(cb=cb, handler_for=handler_for, train=train_like_the_trainer,
                          args=arguments(tmp_path))
        result = ip.run_cell("train(handler_for(cb), args, epochs=1, steps_per_epoch=4, fail_at_step=3)")
        assert isinstance(result.error_in_exec, RuntimeError)
        dispatcher.flush(timeout=5)
        assert cb.activity is not None and cb.activity.outcome == "failed"
        [push] = pushes(sim)
        assert "RuntimeError: CUDA out of memory" in push["message"]
        # the next cell trains again with the same callback: a new activity, ended normally
        ip.run_cell("train(handler_for(cb), args, epochs=1, steps_per_epoch=2)")
        dispatcher.flush(timeout=5)
        assert cb.activity.outcome == "completed"
        assert len(stream_ends(sim, "hf-run")) == 2

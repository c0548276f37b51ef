"""Lightning's callback, driven hook by hook on a trainer-like object (tests/integrations/_lightning_loop.py).

Lightning requires torch, which is not installed here, so its ``Callback`` class cannot be imported;
``tests/integrations/test_integration_torch_real.py`` runs a real ``Trainer.fit`` where torch and lightning are.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from _lightning_loop import FakeTrainer, fit_like_lightning
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback

ROOT = Path(__file__).resolve().parents[2]


def requests_for(sim: Any, method: str, key: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == method and r.key == key]


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path.startswith("/push-notification")]


def callback(dispatcher: Any, clock: Any, **options: Any) -> ActivitySmithCallback:
    options.setdefault("notify", "always")  # these tests read the closing push of every outcome
    return ActivitySmithCallback("Lightning fit", key="pl-run", dispatcher=dispatcher, clock=clock, **options)


def test_a_full_fit_counts_steps_over_all_epochs_and_closes_with_the_metrics(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    percentages: list[float] = []

    class Spy:  # after ours, like a second callback: what the phone shows after each batch
        def on_train_batch_start(self, trainer: Any, *_: Any) -> None:
            clock.advance(11)  # the batch takes 11 s: a snapshot is due at its end (at most 10 s stale)

        def on_train_batch_end(self, trainer: Any, *_: Any) -> None:
            dispatcher.flush(timeout=5)
            percentages.append(requests_for(sim, "PUT", "pl-run")[-1]["content_state"]["percentage"])

    fit_like_lightning([cb, Spy()], FakeTrainer(max_epochs=2, batches=4), loss=lambda step: 0.2309999)
    dispatcher.flush(timeout=5)
    assert percentages == [12.5, 25, 37.5, 50, 62.5, 75, 87.5, 100]  # one bar for the whole fit
    assert cb.activity is not None and cb.activity.outcome == "completed"
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Lightning fit finished in")
    assert "train_loss 0.231" in push["title"]
    assert "val_loss 0.5" in push["title"]


def test_the_subtitle_names_the_epoch(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    subtitles: list[str] = []

    class Spy:
        def on_train_epoch_end(self, trainer: Any, *_: Any) -> None:
            dispatcher.flush(timeout=5)
            clock.advance(11)
            subtitles.append(requests_for(sim, "PUT", "pl-run")[-1]["content_state"]["subtitle"])

    fit_like_lightning([cb, Spy()], FakeTrainer(max_epochs=3, batches=2))
    assert ["epoch 1/3" in s for s in subtitles] == [True, False, False]
    assert "epoch 3/3" in subtitles[-1]


def test_early_stopping_ends_stopped(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    fit_like_lightning([cb], FakeTrainer(max_epochs=10, batches=2), stop_after_epoch=1)
    dispatcher.flush(timeout=5)
    assert cb.activity is not None and cb.activity.outcome == "stopped"
    [push] = pushes(sim)
    assert push["title"].startswith("⏹️ Lightning fit stopped after")


def test_should_stop_on_the_last_epoch_is_still_completed(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    fit_like_lightning([cb], FakeTrainer(max_epochs=2, batches=2), stop_after_epoch=1)
    dispatcher.flush(timeout=5)
    assert cb.activity is not None and cb.activity.outcome == "completed"


@pytest.mark.parametrize(("error", "outcome", "escapes"), [
    (RuntimeError, "failed", RuntimeError),
    (KeyboardInterrupt, "interrupted", SystemExit),  # Lightning calls on_exception, then sys.exit(1)
], ids=["exception", "ctrl-c"])
def test_on_exception_ends_the_activity(dispatcher, sim, clock, error, outcome, escapes) -> None:
    cb = callback(dispatcher, clock)
    with pytest.raises(escapes):
        fit_like_lightning([cb], FakeTrainer(max_epochs=2, batches=4), fail_at_step=6, fail_with=error)
    dispatcher.flush(timeout=5)
    assert cb.activity is not None and cb.activity.outcome == outcome
    [end] = requests_for(sim, "DELETE", "pl-run")
    assert end["content_state"]["percentage"] == 62.5  # 5 of 8 steps
    [push] = pushes(sim)
    if outcome == "failed":
        assert "RuntimeError: CUDA out of memory" in push["message"]


def test_sanity_check_metrics_are_not_reported(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock, type="stats")
    trainer = FakeTrainer(max_epochs=1, batches=2)
    trainer.callback_metrics["sanity_only"] = 9.0  # what a sanity-check validation leaves behind

    class Forget:
        def on_sanity_check_end(self, trainer: Any, *_: Any) -> None:
            trainer.callback_metrics.pop("sanity_only")

    fit_like_lightning([cb, Forget()], trainer)
    dispatcher.flush(timeout=5)
    labels = [m["label"] for m in requests_for(sim, "DELETE", "pl-run")[-1]["content_state"]["metrics"]]
    assert "sanity_only" not in labels and "val_loss" in labels


def test_inside_an_activity_block_the_block_owns_the_end(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    with Activity("Notebook run", key="cell-run", dispatcher=dispatcher, clock=clock) as block:
        fit_like_lightning([cb], FakeTrainer(max_epochs=1, batches=2))
        dispatcher.flush(timeout=5)
        assert block.outcome is None and requests_for(sim, "DELETE", "cell-run") == []
    dispatcher.flush(timeout=5)
    assert block.outcome == "completed"
    assert {r.key for r in sim.requests if r.key} == {"cell-run"}


def test_a_non_zero_rank_reports_nothing_but_its_failure(dispatcher, sim, clock) -> None:
    cb = callback(dispatcher, clock)
    fit_like_lightning([cb], FakeTrainer(max_epochs=1, batches=2, global_rank=1, world_size=2))
    dispatcher.flush(timeout=5)
    assert sim.requests == []
    with pytest.raises(RuntimeError):
        fit_like_lightning([cb], FakeTrainer(max_epochs=1, batches=4, global_rank=3, world_size=4), fail_at_step=2)
    dispatcher.flush(timeout=5)
    assert [r.method for r in sim.requests] == ["POST"]  # one push, no stream
    [push] = pushes(sim)
    assert "rank 3 failed: RuntimeError: CUDA out of memory" in push["message"]


def test_the_entry_point_factory_adds_a_callback_only_while_an_activity_is_open(dispatcher, clock) -> None:
    from activitysmith_jupyter.integrations.lightning import callbacks_factory

    assert callbacks_factory() == []
    with Activity("Notebook run", key="cell-run", dispatcher=dispatcher, clock=clock):
        [cb] = callbacks_factory()
        assert isinstance(cb, ActivitySmithCallback)


def test_the_entry_points_callback_feeds_the_open_activity(dispatcher, sim, clock) -> None:
    from activitysmith_jupyter.integrations.lightning import callbacks_factory

    with Activity("Notebook run", key="cell-run", dispatcher=dispatcher, clock=clock):
        trainer = FakeTrainer(max_epochs=1, batches=4)
        fit_like_lightning(callbacks_factory(), trainer)
        dispatcher.flush(timeout=5)
        assert requests_for(sim, "PUT", "cell-run")[-1]["content_state"]["percentage"] == 100


def test_the_entry_points_callback_steps_aside_for_one_the_user_passed(dispatcher, sim, clock) -> None:
    from activitysmith_jupyter.integrations.lightning import callbacks_factory

    mine = callback(dispatcher, clock)
    with Activity("Notebook run", key="cell-run", dispatcher=dispatcher, clock=clock):
        [added] = callbacks_factory()
        trainer = FakeTrainer(max_epochs=1, batches=2)
        trainer.callbacks = [mine, added]  # type: ignore[attr-defined]
        fit_like_lightning(trainer.callbacks, trainer)  # type: ignore[attr-defined]
    assert mine.activity is not None and added.activity is None


def test_the_base_class_is_lightnings_callback_where_lightning_imports_else_object() -> None:
    import importlib.util

    from activitysmith_jupyter.integrations.lightning import LIGHTNING_BASE

    try:
        has_lightning = importlib.util.find_spec("lightning") is not None and importlib.util.find_spec("torch") is not None
    except ValueError:
        has_lightning = False
    if has_lightning:
        assert LIGHTNING_BASE.__module__.startswith(("lightning.pytorch", "pytorch_lightning"))
    else:
        assert LIGHTNING_BASE is object
    assert all(callable(getattr(ActivitySmithCallback, hook)) for hook in (
        "on_train_start", "on_train_batch_end", "on_validation_end", "on_train_epoch_end", "on_train_end",
        "on_exception"))

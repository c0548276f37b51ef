"""Long runs of the Transformers and Lightning callbacks stay within the update policy (metrics ride along)."""
from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("transformers")

from _hf_trainer_loop import arguments, handler_for, train_like_the_trainer
from _lightning_loop import FakeTrainer, fit_like_lightning
from integration_helpers import assert_paced
from transformers import TrainerCallback

from activitysmith_jupyter.integrations import lightning, transformers
from activitysmith_jupyter.delivery.policy import UpdatePolicy


def allowed_updates(elapsed: float) -> int:
    policy = UpdatePolicy()
    return sum(1 for k in range(1, 1000) if policy.release_time(k) <= elapsed)


def test_a_2000_step_trainer_run_sends_no_more_than_the_policy_allows(dispatcher, sim, clock, tmp_path) -> None:
    class OneSecondPerStep(TrainerCallback):
        def on_step_begin(self, *_: Any, **__: Any) -> None:
            clock.advance(1.0)

    cb = transformers.ActivitySmithCallback("HF long", key="hf-long", dispatcher=dispatcher, clock=clock)
    began = clock.monotonic()
    train_like_the_trainer(handler_for(OneSecondPerStep(), cb), arguments(tmp_path, logging_steps=10), epochs=4,
                           steps_per_epoch=500)
    elapsed = clock.monotonic() - began
    assert dispatcher.flush(10)
    puts = assert_paced(sim, "hf-long", UpdatePolicy())
    assert 1 <= puts <= allowed_updates(elapsed)  # newest wins: a loop faster than the sender coalesces all
    assert cb.activity is not None and cb.activity.outcome == "completed"


def test_a_2000_batch_lightning_fit_sends_no_more_than_the_policy_allows(dispatcher, sim, clock) -> None:
    class OneSecondPerBatch:
        def on_train_batch_start(self, *_: Any) -> None:
            clock.advance(1.0)

    cb = lightning.ActivitySmithCallback("PL long", key="pl-long", dispatcher=dispatcher, clock=clock)
    began = clock.monotonic()
    fit_like_lightning([OneSecondPerBatch(), cb], FakeTrainer(max_epochs=4, batches=500))
    elapsed = clock.monotonic() - began
    assert dispatcher.flush(10)
    puts = assert_paced(sim, "pl-long", UpdatePolicy())
    assert 1 <= puts <= allowed_updates(elapsed)  # newest wins: a loop faster than the sender coalesces all
    assert cb.activity is not None and cb.activity.outcome == "completed"

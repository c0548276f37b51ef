"""Hugging Face Transformers: a `TrainerCallback` that mirrors ``Trainer.train()`` to a Live Activity.

    from activitysmith_jupyter.integrations.transformers import ActivitySmithCallback
    trainer = Trainer(model, args, train_dataset=ds, callbacks=[ActivitySmithCallback()])

Progress is ``state.global_step`` of ``state.max_steps`` (optimizer steps, the unit the Trainer's own
bar counts), the subtitle names the epoch, ``on_log`` / ``on_evaluate`` metrics (loss, eval_loss, …)
ride on the next paced update and reach the closing push. Only the world's process zero
(``state.is_world_process_zero``) reports; the other ranks stay silent.

The outcome: ``on_train_end`` at ``max_steps`` is "completed"; before it (an early-stopping callback
set ``control.should_training_stop``, or a hyper-parameter search pruned the trial) "stopped". The
Trainer calls no hook on an exception: inside ``%%activitysmith_progress`` / ``activity()`` the cell or
script ends the activity with its outcome; the callback's own activity is settled "failed" by the
IPython cell's end, ``with ActivitySmithCallback() as cb:``, or the interpreter's exit (`_callback`).

``transformers.TrainerCallback`` imports without torch (``transformers.trainer_callback``), so this
module does too; the Trainer itself needs torch.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from transformers.trainer_callback import TrainerCallback, TrainerControl, TrainerState

from ..hub.activity import Activity
from .training import TrainingFollower, SettlesOnExit, ordered_metrics

__all__ = ["ActivitySmithCallback"]

# bookkeeping the Trainer logs next to the metrics: not worth a phone's line (train_loss is the run's
# mean loss, logged once at the end next to the last `loss`)
_NOISE_SUFFIXES = ("_runtime", "_samples_per_second", "_steps_per_second", "_flos")
_NOISE = frozenset({"epoch", "step", "learning_rate", "grad_norm", "num_input_tokens_seen", "train_loss"})


def _worth_showing(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if k not in _NOISE and not k.endswith(_NOISE_SUFFIXES)}


class ActivitySmithCallback(SettlesOnExit, TrainerCallback):
    """Mirror a Trainer run to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Training"). Every other keyword goes to `Activity`
    (``key``, ``type`` — "progress" or "stats" for a metrics grid —, ``notify``, ``channels``,
    ``color``, ``client``, ``policy``, ``clock``...). ``activity``: the run's activity (the last one).
    """

    def __init__(self, title: str = "Training", **activity_options: Any) -> None:
        super().__init__()
        self._state: TrainerState | None = None
        self._metrics: dict[str, Any] = {}
        self.activity: Activity | None = None
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="failed")

    # -- hooks, in the order Trainer.train() calls them ------------------------------------------
    def on_train_begin(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._state, self._metrics = state, {}
        self.activity = self._run.begin()

    def on_step_end(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self._state = state
            self._run.tick()

    def on_log(self, args: Any, state: TrainerState, control: TrainerControl,
               logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self._run.following:
            self._metrics.update(_worth_showing(logs))

    def on_evaluate(self, args: Any, state: TrainerState, control: TrainerControl,
                    metrics: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self._run.following:
            self._metrics.update(_worth_showing(metrics))
            self._run.tick()

    def on_train_end(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self._run.following:
            return
        self._state = state
        # DefaultFlowCallback also sets should_training_stop at max_steps: only an earlier end is a stop
        self._run.finish("completed" if self._run.reached_total() else "stopped")

    # -- state -> snapshot -------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        state = self._state
        if state is None:
            return {}
        epochs = state.num_train_epochs or 0
        epoch = state.epoch or 0.0
        desc = None
        if epochs:
            desc = f"epoch {min(epochs, max(1, math.ceil(epoch)))}/{epochs}"
        return dict(n=float(state.global_step), total=float(state.max_steps) if state.max_steps else None,
                    unit="step", description=desc, metrics=ordered_metrics(self._metrics))

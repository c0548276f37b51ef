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
script ends the activity with its outcome; a callback's own activity ends when the exception leaves
the cell or script (see `_training`).

``transformers.TrainerCallback`` imports without torch (``transformers.trainer_callback``), so this
module does too; the Trainer itself needs torch.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from transformers.trainer_callback import TrainerCallback, TrainerControl, TrainerState

from ..outcome import Snapshot
from ._training import TrainingRun, numeric_metrics

__all__ = ["ActivitySmithCallback"]

# bookkeeping the Trainer logs next to the metrics: not worth a phone's line
_NOISE_SUFFIXES = ("_runtime", "_samples_per_second", "_steps_per_second", "total_flos", "_flos")
_NOISE = frozenset({"epoch", "step", "learning_rate", "grad_norm", "num_input_tokens_seen"})


def _is_noise(name: str) -> bool:
    return name in _NOISE or name.endswith(_NOISE_SUFFIXES)


def _ordered(values: Mapping[str, float | int]) -> dict[str, float | int]:
    """loss first, then the eval metrics, then the rest (the phone shows the first few)."""
    def rank(name: str) -> tuple[int, str]:
        if name == "loss":
            return (0, name)
        if name == "eval_loss":
            return (1, name)
        return (2 if name.startswith("eval_") else 3, name)

    return {k: values[k] for k in sorted(values, key=rank)}


class ActivitySmithCallback(TrainerCallback):
    """Mirror a Trainer run: steps of ``max_steps``, the epoch, logged metrics and the outcome.

    Arguments are those of `Activity` (used only when no cell or script activity is running):
    ``title`` (default "Training"), ``key``, ``type`` ("progress", or "stats" for a metrics grid),
    ``notify``, ``channels``, ``color``, ``client``, and ``**options`` for the rest.
    """

    def __init__(self, title: str = "Training", *, key: str | None = None,
                 type: Literal["progress", "segmented_progress", "stats"] = "progress",
                 notify: Literal["always", "failure", "never"] = "always", channels: Sequence[str] = (),
                 color: str | None = "blue", client: Any = None, **options: Any) -> None:
        super().__init__()
        self.run = TrainingRun(title, key=key, type=type, notify=notify, channels=channels, color=color,
                               client=client, **options)

    # -- hooks, in the order Trainer.train() calls them ------------------------------------------
    def on_train_begin(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self.run.begin(rank=0)
        self._feed(state)

    def on_step_end(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.run.running:
            self._feed(state)

    def on_log(self, args: Any, state: TrainerState, control: TrainerControl,
               logs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.run.running:
            self.run.metrics(_ordered(numeric_metrics(logs, skip=_is_noise)))

    def on_evaluate(self, args: Any, state: TrainerState, control: TrainerControl,
                    metrics: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.run.running:
            self.run.metrics(_ordered(numeric_metrics(metrics, skip=_is_noise)))

    def on_train_end(self, args: Any, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self.run.running:
            return
        self._feed(state)
        # DefaultFlowCallback also sets should_training_stop at max_steps: only an earlier end is a stop
        finished = bool(state.max_steps) and state.global_step >= state.max_steps
        self.run.finish("completed" if finished else "stopped")

    # -- internals ---------------------------------------------------------------------------------
    def _feed(self, state: TrainerState) -> None:
        total = state.max_steps or None
        epochs = state.num_train_epochs or 0
        epoch = state.epoch or 0.0
        desc = None
        if epochs:
            current = min(epochs, max(1, math.ceil(epoch))) if epoch else 1
            desc = f"epoch {current}/{epochs}"
        self.run.feed(Snapshot(n=state.global_step, total=total, unit="step", description=desc))

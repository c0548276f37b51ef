"""The callback calls of ``transformers.Trainer.train()`` (5.x), made with the real callback classes.

The Trainer needs torch, which is not installed here; everything it hands its callbacks is not:
`TrainingArguments`, `TrainerState`, `TrainerControl`, `CallbackHandler` (which dispatches to every
callback and resets the control flags exactly as in training) and `DefaultFlowCallback` (which decides
when to log, evaluate and stop at ``max_steps``). `train_like_the_trainer` makes the calls in the order
of ``Trainer._inner_training_loop`` / ``_run_epoch`` / ``_maybe_log_save_evaluate`` / ``evaluate`` /
``log`` / ``_finalize_training`` (transformers/trainer.py), with losses from a list instead of a model.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from transformers import TrainingArguments
from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback, TrainerControl, TrainerState


def handler_for(*callbacks: Any) -> CallbackHandler:
    """The Trainer's own dispatcher with its default flow callback first, as ``Trainer.__init__`` builds it."""
    return CallbackHandler([DefaultFlowCallback, *callbacks], model=None, processing_class=None, optimizer=None,
                           lr_scheduler=None)


def train_like_the_trainer(
    handler: CallbackHandler,
    args: TrainingArguments,
    *,
    epochs: int,
    steps_per_epoch: int,
    loss: Callable[[int], float] = lambda step: 1.0 / step,
    eval_loss: Callable[[int], float] = lambda epoch: 1.0 / (epoch + 1),
    fail_at_step: int | None = None,
    world_zero: bool = True,
) -> tuple[TrainerState, TrainerControl]:
    """Run the callback sequence of ``Trainer.train()``; raise RuntimeError at `fail_at_step` if given."""
    max_steps = epochs * steps_per_epoch
    state = TrainerState()
    control = TrainerControl()
    state.train_batch_size = args.per_device_train_batch_size
    state.compute_steps(args, max_steps)
    state.max_steps = max_steps
    state.num_train_epochs = epochs
    state.is_local_process_zero = state.is_world_process_zero = world_zero
    last_logged = 0
    pending: list[float] = []

    def log(logs: dict[str, float]) -> None:  # Trainer.log
        nonlocal control
        logs["epoch"] = state.epoch
        state.log_history.append({**logs, "step": state.global_step})
        control = handler.on_log(args, state, control, logs)

    def evaluate(epoch: int) -> None:  # Trainer.evaluate, then _determine_best_metric
        nonlocal control
        metrics = {"eval_loss": eval_loss(epoch), "eval_runtime": 0.01, "eval_samples_per_second": 800.0,
                   "eval_steps_per_second": 100.0}
        log(dict(metrics))
        control = handler.on_evaluate(args, state, control, metrics)
        name = args.metric_for_best_model
        if name:
            value = metrics["eval_" + name.removeprefix("eval_")]
            better = (value > state.best_metric) if args.greater_is_better else (value < state.best_metric) \
                if state.best_metric is not None else True
            if better:
                state.best_metric, state.best_global_step = value, state.global_step

    def maybe_log_save_evaluate(epoch: int) -> None:  # Trainer._maybe_log_save_evaluate
        nonlocal control, last_logged
        if control.should_log and state.global_step > last_logged:
            log({"loss": sum(pending) / len(pending), "grad_norm": 0.5, "learning_rate": 5e-5})
            pending.clear()
            last_logged = state.global_step
        if control.should_evaluate:
            evaluate(epoch)
        if control.should_save:
            control = handler.on_save(args, state, control)

    control = handler.on_train_begin(args, state, control)
    for epoch in range(epochs):
        control = handler.on_epoch_begin(args, state, control)
        for step in range(steps_per_epoch):
            control = handler.on_step_begin(args, state, control)
            if fail_at_step is not None and state.global_step + 1 == fail_at_step:
                raise RuntimeError("CUDA out of memory")
            pending.append(loss(state.global_step + 1))
            control = handler.on_pre_optimizer_step(args, state, control)
            control = handler.on_optimizer_step(args, state, control)
            state.global_step += 1
            state.epoch = epoch + (step + 1) / steps_per_epoch
            control = handler.on_step_end(args, state, control)
            maybe_log_save_evaluate(epoch)
            if control.should_epoch_stop or control.should_training_stop:
                break
        control = handler.on_epoch_end(args, state, control)
        maybe_log_save_evaluate(epoch)
        if control.should_training_stop:
            break
    log({"train_runtime": 1.0, "train_samples_per_second": 10.0, "train_steps_per_second": 1.0,
         "total_flos": 0.0, "train_loss": 0.5})
    control = handler.on_train_end(args, state, control)
    return state, control


def arguments(tmp_path: Any, **overrides: Any) -> TrainingArguments:
    """Real TrainingArguments (they build without torch), logging every 2 steps, evaluating per epoch."""
    options: dict[str, Any] = dict(output_dir=str(tmp_path), report_to=[], logging_steps=2, eval_strategy="epoch",
                                   save_strategy="no", disable_tqdm=True)
    options.update(overrides)
    return TrainingArguments(**options)


def losses(values: Sequence[float]) -> Callable[[int], float]:
    return lambda i: values[(i - 1) % len(values)]

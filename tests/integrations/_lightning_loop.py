"""The callback calls of Lightning 2.6's ``Trainer.fit()``, on a trainer-like object (Lightning needs torch).

The order is the one Lightning documents for its hooks and the one a real ``Trainer.fit`` made when
recorded with lightning 2.6.6 + torch 2.13 (cpu): fit start, a sanity-check validation, then per epoch
the train batches, the epoch's validation *before* ``on_train_epoch_end``, and ``on_train_end`` with
``current_epoch`` equal to the epochs done. `FakeTrainer` carries the attributes callbacks read
(``global_rank``, ``is_global_zero``, ``current_epoch``, ``global_step``, ``max_epochs``, ``max_steps``,
``estimated_stepping_batches``, ``callback_metrics``, ``should_stop``, ``sanity_checking``, ``state.fn``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any


@dataclass
class FakeTrainer:
    max_epochs: int = 3
    batches: int = 4
    global_rank: int = 0
    world_size: int = 1
    max_steps: int = -1
    current_epoch: int = 0
    global_step: int = 0
    should_stop: bool = False
    sanity_checking: bool = False
    callback_metrics: dict[str, float] = field(default_factory=dict)
    state: Any = field(default_factory=lambda: SimpleNamespace(fn="fit"))

    @property
    def is_global_zero(self) -> bool:
        return self.global_rank == 0

    @property
    def estimated_stepping_batches(self) -> int:
        return self.max_epochs * self.batches


def _call(callbacks: Sequence[Any], hook: str, trainer: FakeTrainer, *args: Any) -> None:
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(trainer, None, *args)


def fit_like_lightning(
    callbacks: Sequence[Any],
    trainer: FakeTrainer,
    *,
    val_batches: int = 2,
    loss: Callable[[int], float] = lambda step: 1.0 / step,
    val_loss: Callable[[int], float] = lambda epoch: 1.0 / (epoch + 1),
    stop_after_epoch: int | None = None,
    fail_at_step: int | None = None,
    fail_with: type[BaseException] = RuntimeError,
) -> None:
    """Make the hook calls of ``trainer.fit`` (``_call_and_handle_interrupt`` included: an exception goes
    to ``on_exception`` and is re-raised; Lightning turns Ctrl-C into ``sys.exit(1)`` after the hook)."""
    try:
        _fit(callbacks, trainer, val_batches, loss, val_loss, stop_after_epoch, fail_at_step, fail_with)
    except KeyboardInterrupt as exc:
        _call(callbacks, "on_exception", trainer, exc)
        raise SystemExit(1) from exc
    except BaseException as exc:
        _call(callbacks, "on_exception", trainer, exc)
        raise


def _validate(callbacks: Sequence[Any], trainer: FakeTrainer, batches: int) -> None:
    _call(callbacks, "on_validation_start", trainer)
    _call(callbacks, "on_validation_epoch_start", trainer)
    for i in range(batches):
        _call(callbacks, "on_validation_batch_start", trainer, None, i)
        _call(callbacks, "on_validation_batch_end", trainer, None, None, i)
    _call(callbacks, "on_validation_epoch_end", trainer)
    _call(callbacks, "on_validation_end", trainer)


def _fit(callbacks: Sequence[Any], trainer: FakeTrainer, val_batches: int, loss: Callable[[int], float],
         val_loss: Callable[[int], float], stop_after_epoch: int | None, fail_at_step: int | None,
         fail_with: type[BaseException]) -> None:
    _call(callbacks, "setup", trainer, "fit")
    _call(callbacks, "on_fit_start", trainer)
    trainer.sanity_checking = True
    _call(callbacks, "on_sanity_check_start", trainer)
    _validate(callbacks, trainer, min(2, val_batches))
    _call(callbacks, "on_sanity_check_end", trainer)
    trainer.sanity_checking = False
    _call(callbacks, "on_train_start", trainer)
    while trainer.current_epoch < trainer.max_epochs and not trainer.should_stop:
        _call(callbacks, "on_train_epoch_start", trainer)
        for i in range(trainer.batches):
            if fail_at_step is not None and trainer.global_step + 1 == fail_at_step:
                raise fail_with("CUDA out of memory") if fail_with is not KeyboardInterrupt else KeyboardInterrupt()
            _call(callbacks, "on_train_batch_start", trainer, None, i)
            trainer.global_step += 1
            trainer.callback_metrics["train_loss"] = loss(trainer.global_step)
            _call(callbacks, "on_train_batch_end", trainer, {"loss": trainer.callback_metrics["train_loss"]}, None, i)
        trainer.callback_metrics["val_loss"] = val_loss(trainer.current_epoch)
        _validate(callbacks, trainer, val_batches)
        if stop_after_epoch is not None and trainer.current_epoch >= stop_after_epoch:
            trainer.should_stop = True  # what EarlyStopping does in on_validation_end
        _call(callbacks, "on_train_epoch_end", trainer)
        trainer.current_epoch += 1
    _call(callbacks, "on_train_end", trainer)
    _call(callbacks, "on_fit_end", trainer)
    _call(callbacks, "teardown", trainer, "fit")

"""PyTorch Lightning: a `Callback` that mirrors ``Trainer.fit()`` to a Live Activity.

    from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback
    trainer = L.Trainer(max_epochs=10, callbacks=[ActivitySmithCallback()])

Progress is ``trainer.global_step`` of ``trainer.estimated_stepping_batches`` (optimizer steps over the
whole fit, so the bar does not restart every epoch), the subtitle names the epoch
("epoch 3/10"), ``trainer.callback_metrics`` (what ``self.log(...)`` logged, ``val_loss`` included)
rides on the next paced update. Only the global rank 0 reports progress; a failing rank of a
callback's own activity pushes "rank N failed: …".

The outcome: ``on_train_end`` is "completed", or "stopped" when ``trainer.should_stop`` ended the fit
before ``max_epochs`` / ``max_steps`` (EarlyStopping); ``on_exception`` is "failed", or "interrupted"
for Ctrl-C. Inside ``%%activitysmith_progress`` / ``activity()`` the cell or script owns the outcome.

The base class is ``lightning.pytorch.callbacks.Callback`` (else ``pytorch_lightning.callbacks.Callback``).
Lightning needs torch; where neither imports, the class is a plain object with the same hook names
and signatures, so it can still be driven (and is tested that way where torch is not installed).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..outcome import Snapshot, outcome_for
from ._training import TrainingRun, numeric_metrics

__all__ = ["ActivitySmithCallback", "LIGHTNING_BASE"]

if TYPE_CHECKING:
    _Base = object
else:
    try:
        from lightning.pytorch.callbacks import Callback as _Base
    except Exception:  # noqa: BLE001 - no lightning, or a torch that fails to load (ImportError, OSError)
        try:
            from pytorch_lightning.callbacks import Callback as _Base
        except Exception:  # noqa: BLE001 - duck-typed: the hooks below are all a Trainer calls
            _Base = object

LIGHTNING_BASE: type = _Base  # the class ActivitySmithCallback extends (object without Lightning)


def _limit(value: Any) -> float | None:
    """A positive, finite count (Lightning uses -1 / None / inf for "no limit")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number <= 0 or number != number or number == float("inf"):
        return None
    return number


class ActivitySmithCallback(_Base):
    """Mirror a Lightning fit: steps, the epoch, ``callback_metrics`` and the outcome.

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

    # -- hooks -----------------------------------------------------------------------------------
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.run.begin(rank=_rank(trainer))
        if _is_zero(trainer):
            self._feed(trainer)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.run.running and _is_zero(trainer):
            self._feed(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.run.running and _is_zero(trainer):
            self.run.metrics(numeric_metrics(getattr(trainer, "callback_metrics", None)))
            self._feed(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.run.running and _is_zero(trainer) and not getattr(trainer, "sanity_checking", False):
            self.run.metrics(numeric_metrics(getattr(trainer, "callback_metrics", None)))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if not self.run.running:
            return
        if _is_zero(trainer):
            self.run.metrics(numeric_metrics(getattr(trainer, "callback_metrics", None)))
            self._feed(trainer)
        self.run.finish("stopped" if _stopped_early(trainer) else "completed")

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if not self.run.running:  # failed before on_train_start: still worth a push
            self.run.begin(rank=_rank(trainer))
        self.run.finish(outcome_for(exception), error=exception)

    # -- internals ---------------------------------------------------------------------------------
    def _feed(self, trainer: Any) -> None:
        epochs = _limit(getattr(trainer, "max_epochs", None))
        epoch = int(getattr(trainer, "current_epoch", 0) or 0) + 1
        desc = f"epoch {min(epoch, int(epochs))}/{int(epochs)}" if epochs else f"epoch {epoch}"
        total = _limit(getattr(trainer, "estimated_stepping_batches", None))
        self.run.feed(Snapshot(n=int(getattr(trainer, "global_step", 0) or 0), total=total, unit="step",
                               description=desc))


def _rank(trainer: Any) -> int:
    return int(getattr(trainer, "global_rank", 0) or 0)


def _is_zero(trainer: Any) -> bool:
    zero = getattr(trainer, "is_global_zero", None)
    return bool(zero) if zero is not None else _rank(trainer) == 0


def _stopped_early(trainer: Any) -> bool:
    """``trainer.should_stop`` ended the fit before its epoch or step limit."""
    if not getattr(trainer, "should_stop", False):
        return False
    steps = _limit(getattr(trainer, "max_steps", None))
    if steps is not None and int(getattr(trainer, "global_step", 0) or 0) >= steps:
        return False
    epochs = _limit(getattr(trainer, "max_epochs", None))
    # on_train_end comes after the last epoch's end: current_epoch is then the number of epochs done
    return not (epochs is not None and int(getattr(trainer, "current_epoch", 0) or 0) >= epochs)

"""PyTorch Lightning: a `Callback` that mirrors ``Trainer.fit()`` to a Live Activity.

    from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback
    trainer = L.Trainer(max_epochs=10, callbacks=[ActivitySmithCallback()])

Progress is ``trainer.global_step`` of ``trainer.estimated_stepping_batches`` (optimizer steps over the
whole fit, so the bar does not restart every epoch), the subtitle names the epoch
("epoch 3/10"), ``trainer.callback_metrics`` (what ``self.log(...)`` logged, ``val_loss`` included)
rides on the next paced update. Only the global rank 0 reports progress; another rank that fails
(outside a cell's or script's activity) pushes "rank N failed: …".

The outcome: ``on_train_end`` is "completed", or "stopped" when ``trainer.should_stop`` ended the fit
before ``max_epochs`` / ``max_steps`` (EarlyStopping); ``on_exception`` is "failed", or "interrupted"
for Ctrl-C. Inside ``%%activitysmith_progress`` / ``activity()`` the cell or script owns the outcome.

The base class is ``lightning.pytorch.callbacks.Callback`` (else ``pytorch_lightning.callbacks.Callback``).
Lightning needs torch; where neither imports, the class is a plain object with the same hook names
and signatures, so it can still be driven (and is tested that way where torch is not installed).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..hub.activity import Activity, current_activity
from ..hub.outcome import outcome_for
from .training import TrainingFollower, SettlesOnExit, ordered_metrics

__all__ = ["ActivitySmithCallback", "LIGHTNING_BASE", "callbacks_factory"]

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


class ActivitySmithCallback(SettlesOnExit, _Base):
    """Mirror a Lightning fit to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Training"). Every other keyword goes to `Activity`
    (``key``, ``type`` — "progress" or "stats" for a metrics grid —, ``notify``, ``channels``,
    ``color``, ``client``, ``policy``, ``clock``...). ``activity``: the run's activity (the last one).
    """

    def __init__(self, title: str = "Training", **activity_options: Any) -> None:
        super().__init__()
        self._trainer: Any = None
        self._metrics: dict[str, Any] = {}
        self.activity: Activity | None = None
        self._from_entry_point = False
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="failed")

    # -- hooks -----------------------------------------------------------------------------------
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not _is_zero(trainer) or self._superseded(trainer):
            return
        self._trainer, self._metrics = trainer, {}
        self.activity = self._run.begin()
        _leave_bars_to_us(trainer)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._run.clock.monotonic() >= self._run.due:  # the whole hot path: one clock read (due is
            self._run.feed()                              # inf while no run is followed)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self._run.following and not getattr(trainer, "sanity_checking", False):
            self._metrics.update(scalars(getattr(trainer, "callback_metrics", None)))

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self._run.following:
            _leave_bars_to_us(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._run.following:
            self._metrics.update(scalars(getattr(trainer, "callback_metrics", None)))
            self._run.tick()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self._run.following:
            self._metrics.update(scalars(getattr(trainer, "callback_metrics", None)))
            self._run.finish("stopped" if _stopped_early(trainer) else "completed")

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if self._run.following:
            self._run.finish(outcome_for(exception), error=exception)
        elif not _is_zero(trainer) and current_activity() is None:
            # a rank that mirrors nothing still tells of its failure (ranks.py words it "rank N failed: …")
            Activity(self._run.options.replace(rank=_rank(trainer)), clock=self._run.clock).end(
                outcome_for(exception), error=exception)

    def _superseded(self, trainer: Any) -> bool:
        """A callback the entry point added steps aside for one the user passed to the Trainer."""
        return self._from_entry_point and any(
            isinstance(cb, ActivitySmithCallback) and not cb._from_entry_point
            for cb in getattr(trainer, "callbacks", ()))

    # -- state -> snapshot -------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        trainer = self._trainer
        if trainer is None:
            return {}
        _leave_bars_to_us(trainer)  # a bar made since (TQDMProgressBar(leave=True) makes one per epoch)
        epochs = _limit(getattr(trainer, "max_epochs", None))
        epoch = int(getattr(trainer, "current_epoch", 0) or 0) + 1
        desc = f"epoch {min(epoch, int(epochs))}/{int(epochs)}" if epochs else f"epoch {epoch}"
        return dict(n=float(getattr(trainer, "global_step", 0) or 0),
                    total=_limit(getattr(trainer, "estimated_stepping_batches", None)), unit="step",
                    description=desc, metrics=ordered_metrics(self._metrics))


def callbacks_factory() -> list[Any]:
    """Lightning's ``lightning.pytorch.callbacks_factory`` entry point (this package registers it):
    every ``Trainer`` made while a ``%%activitysmith_progress`` cell or ``Activity`` block runs gets an
    `ActivitySmithCallback` feeding that activity, with no code change; none otherwise."""
    if current_activity() is None:
        return []
    cb = ActivitySmithCallback()
    cb._from_entry_point = True
    return [cb]


def scalars(values: Mapping[str, Any] | None) -> dict[str, float | int]:
    """The single numbers of ``trainer.callback_metrics`` (0-d tensors via ``float()``); others left out."""
    out: dict[str, float | int] = {}
    for name, value in (values or {}).items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[str(name)] = value
            continue
        numel = getattr(value, "numel", None)  # a torch tensor: only a single number
        try:
            if callable(numel) and numel() == 1:
                out[str(name)] = float(value)
        except Exception:  # noqa: BLE001 - a foreign object that only looked like a tensor
            continue
    return out


def _limit(value: Any) -> float | None:
    """A positive, finite count (Lightning uses -1 / None / inf for "no limit")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number <= 0 or number != number or number == float("inf"):
        return None
    return number


def _leave_bars_to_us(trainer: Any) -> None:
    """Keep the tqdm observer off Lightning's own bars while this callback feeds the activity: in a
    ``%%activitysmith_progress`` cell both would feed it, the bar's per-epoch count against our steps."""
    progress = getattr(trainer, "progress_bar_callback", None)
    for name in ("_train_progress_bar", "_val_progress_bar"):
        bar = getattr(progress, name, None)
        if bar is not None and getattr(bar, "activitysmith_follow", True):
            try:
                bar.activitysmith_follow = False
            except Exception:  # noqa: BLE001 - a bar class with __slots__: it stays visible, nothing breaks
                pass


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

"""Keras 3: ``model.fit(..., callbacks=[ActivitySmithCallback()])`` on the Lock Screen.

Keras draws its own progress bar (not tqdm) and has no global callback registry, so the one line to add
is the callback. It follows epochs and batches (``self.params`` ``epochs`` / ``steps``) and the logged
metrics (``loss``, ``accuracy``, ``val_*``). The per-batch hook stores the batch and its logs and
compares one clock reading; it is ``async_safe``, so Keras keeps dispatching batch hooks off the
training thread as it does without any callback.

Outcomes of an activity the callback owns: ``on_train_end`` -> "completed", or "stopped" when
``model.stop_training`` was set before the last batch (``EarlyStopping``, ``TerminateOnNaN``, your own
code). Keras calls no hook when ``fit`` raises; the run is then settled as "failed" (naming the
exception when it is known) by the ``with ActivitySmithCallback() as cb:`` block, the IPython cell's
end, the callback's next ``fit``, or the interpreter's exit.
"""
from __future__ import annotations

from typing import Any

try:
    import keras  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("activitysmith_jupyter.integrations.keras needs Keras 3: pip install keras") from exc

from .training import TrainingFollower, SettlesOnExit, ordered_metrics

__all__ = ["ActivitySmithCallback"]


class ActivitySmithCallback(SettlesOnExit, keras.callbacks.Callback):  # type: ignore[misc]  # keras: no types
    """Mirror ``model.fit`` to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Training"). Every other keyword goes to `Activity`
    (``key``, ``type`` — "progress", "segmented_progress" or "stats" —, ``notify``, ``channels``,
    ``color``, ``client``, ``policy``, ``clock``...).
    """

    async_safe = True  # Keras may run the batch hooks on its callback thread pool

    def __init__(self, title: str = "Training", **activity_options: Any) -> None:
        super().__init__()
        self._epochs: int | None = None
        self._steps: int | None = None
        self._epoch = 0  # index of the running epoch
        self._batch = 0  # batches done in it
        self._logs: dict[str, Any] | None = None  # the newest batch logs (stored, read only when due)
        self._epoch_logs: dict[str, Any] = {}  # the last epoch's logs: val_* stay on show
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="failed")

    # -- Keras hooks ---------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._run.settle(None)  # a previous fit that raised outside any with-block / cell ends first
        params = self.params or {}
        self._epochs = _count(params.get("epochs"))
        self._steps = _count(params.get("steps"))
        self._epoch, self._batch, self._logs, self._epoch_logs = 0, 0, None, {}
        self._run.begin()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch, self._batch, self._logs = epoch, 0, None
        self._run.tick()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batch = batch + 1
        self._logs = logs
        if self._run.clock.monotonic() >= self._run.due:  # the whole hot path: one clock read
            self._run.feed()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch + 1  # whole epochs done
        self._batch = 0
        self._logs = None
        self._epoch_logs = dict(logs or {})
        self._run.tick()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if logs:
            self._epoch_logs = {**self._epoch_logs, **logs}
        stopped = bool(getattr(self.model, "stop_training", False)) and not self._run.reached_total()
        self._run.finish("stopped" if stopped else "completed")


    # -- state -> snapshot -------------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        epochs, steps = self._epochs, self._steps
        epoch, batch = self._epoch, self._batch  # one read each: batch hooks may run on another thread
        metrics = ordered_metrics({**self._epoch_logs, **(self._logs or {})})
        shown = min(epoch + 1, epochs) if epochs else epoch + 1
        if batch == 0 and epoch > 0:
            shown = epoch  # between epochs: the one just done
        description = f"epoch {shown}/{epochs}" if epochs else f"epoch {shown}"
        if epochs and steps:
            return dict(n=float(epoch * steps + batch), total=float(epochs * steps), unit="step",
                        description=description, step=description, metrics=metrics)
        return dict(n=float(epoch), total=float(epochs) if epochs else None, unit="epoch",
                    description=description, step=description, metrics=metrics)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

"""Ray Train (v2): ``RunConfig(callbacks=[ActivitySmithTrainCallback()])`` on any trainer.

A ``ray.train.UserCallback``: Ray Train calls it on its *controller*, an actor (next to the driver, in
another process) that gets a pickled copy of it, with one metrics dict per worker for each
``ray.train.report`` (``after_report``) and the workers' exceptions (``after_exception``). The copy
reaches back to the driver, where the activity lives, through a ``ray.util.queue.Queue`` (Ray's own
actor-backed queue, 0 CPUs) made when ``trainer.fit()`` ships the callback to its controller; a
daemon thread of the driver drains it into the run. The subtitle reads ``report 12/50 · loss 0.231``
(rank 0's metrics; ``total=`` the reports expected, e.g. epochs) and ``worker 1 failed: ValueError: …``
once a worker raised (Train may retry it: ``FailureConfig``).

Train has no "training ended" hook for user callbacks: like Keras', the run is settled when the
``with`` block, the IPython cell or the interpreter ends, or the next ``fit()`` begins -- "failed" with the
exception ``fit()`` raised, else "completed".
"""
from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from types import FrameType, TracebackType
from typing import Any

from ray.train import UserCallback

from ..hub.wording import format_metrics
from .training import TrainingFollower, SettlesOnExit, ordered_metrics, positive_int

__all__ = ["ActivitySmithTrainCallback"]

log = logging.getLogger("activitysmith_jupyter")

_FIT_FRAME = "_initialize_and_run_controller"  # DataParallelTrainer's method that ships the callbacks


class ActivitySmithTrainCallback(SettlesOnExit, UserCallback):
    """Mirror a Ray Train run to a Live Activity (or the open ``%%activitysmith_progress`` one).

    title: the activity's title (default "Ray Train"). total: ``ray.train.report`` calls expected (e.g.
    the epochs), for a percentage. Other keywords go to `Activity` (``key``, ``type``, ``notify``,
    ``channels``, ``color``, ``client``, ``policy``, ``clock``...).
    """

    def __init__(self, title: str = "Ray Train", *, total: int | None = None, **activity_options: Any) -> None:
        self._init = (title, total, activity_options)
        self._total = positive_int("total", total)
        self._reports = 0
        self._metrics: dict[str, Any] = {}
        self._errors: dict[int, str] = {}
        self._fit: FrameType | None = None  # the fit() whose controller has our channel (held: ids get reused)
        self._channel: Any = None
        self._run = TrainingFollower(title, activity_options, build=self._fields, unfinished="completed")

    # -- the driver: fit() pickles the callbacks for its controller ------------------------------
    def __reduce__(self) -> tuple[Any, ...]:
        frame = _fit_frame()
        if frame is None:  # a copy for some other reason: a fresh callback with the same options
            title, total, options = self._init
            return (_rebuild, (title, total, {k: v for k, v in options.items() if _plain(v)}))
        if self._fit is not frame or self._channel is None:
            self._open(frame)
        return (_ControllerSide, (self._channel,))

    def _open(self, fit: FrameType) -> None:
        from ray.util.queue import Queue

        self._run.settle(None)  # a previous fit() left open
        self._fit, self._channel = fit, Queue(actor_options={"num_cpus": 0})
        self._reports, self._metrics, self._errors = 0, {}, {}
        self._run.begin()
        threading.Thread(target=self._drain, args=(self._channel,), name="activitysmith-ray-train",
                         daemon=True).start()

    def _drain(self, channel: Any) -> None:
        """Reports from the controller, into the run, until the run is settled or Ray shuts down."""
        from ray.util.queue import Empty

        while self._run.following and self._channel is channel:
            try:
                kind, payload = channel.get(block=True, timeout=1.0)
            except Empty:
                continue
            except Exception:  # noqa: BLE001 - ray.shutdown(): the queue's actor is gone
                log.debug("the Ray Train channel closed", exc_info=True)
                return
            self.on_event(kind, payload)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """What the controller sent and the drain thread has not taken yet is shown before the end."""
        self._take_waiting()
        super().__exit__(exc_type, exc, tb)

    def _take_waiting(self) -> None:
        channel = self._channel
        if channel is None:
            return
        try:
            waiting = channel.get_nowait_batch(channel.qsize())
        except Exception:  # noqa: BLE001 - Ray shut down: nothing more to show
            return
        for kind, payload in waiting:
            self.on_event(kind, payload)

    def on_event(self, kind: str, payload: Any) -> None:
        """One event of the controller: ``("report", metrics of rank 0)`` or ``("error", {rank: text})``."""
        if kind == "report":
            self._reports += 1
            self._metrics = ordered_metrics(payload or {})
            self._run.tick()
        elif kind == "error":
            self._errors.update(payload)
            self._run.feed()

    # -- the UserCallback hooks, when Train runs them in this process --------------------------------
    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        self.on_event("report", metrics[0] if metrics else {})

    def after_exception(self, run_context: Any, worker_exceptions: dict[int, Exception]) -> None:
        self.on_event("error", _error_lines(worker_exceptions))

    def _fields(self) -> dict[str, Any]:
        reports, total = self._reports, self._total
        description = f"report {reports}/{total}" if total else f"report {reports}"
        metrics = dict(self._metrics)
        parts = [description, format_metrics(metrics, limit=2) if metrics else ""]
        if self._errors:
            rank, text = sorted(self._errors.items())[0]
            parts.append(f"worker {rank} failed: {text}")
        return dict(n=float(reports), total=float(total) if total else None, unit="report",
                    description=description, metrics=metrics, subtitle=" · ".join(p for p in parts if p))


class _ControllerSide(UserCallback):
    """The controller's copy: sends each event to the driver (a small remote call, never raising)."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel

    def after_report(self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any) -> None:
        first = metrics[0] if metrics else {}
        self._send("report", {k: v for k, v in first.items() if _plain(v)})

    def after_exception(self, run_context: Any, worker_exceptions: dict[int, Exception]) -> None:
        self._send("error", _error_lines(worker_exceptions))

    def _send(self, kind: str, payload: Any) -> None:
        try:
            self._channel.put_nowait((kind, payload))
        except Exception:  # noqa: BLE001 - a full or gone queue must not fail the training run
            log.debug("could not send a Ray Train event", exc_info=True)


def _error_lines(worker_exceptions: Mapping[int, BaseException]) -> dict[int, str]:
    """``{rank: "ValueError: bad batch"}``: the exception's type and its message's first line."""
    lines = {}
    for rank, exc in worker_exceptions.items():
        message = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        lines[int(rank)] = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return lines


def _fit_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    for _ in range(200):  # Ray's serialization adds dozens of frames between fit() and us
        if frame is None:
            return None
        if frame.f_code.co_name == _FIT_FRAME and str(frame.f_globals.get("__name__", "")).startswith("ray.train"):
            return frame
        frame = frame.f_back
    return None


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _rebuild(title: str, total: int | None, options: dict[str, Any]) -> ActivitySmithTrainCallback:
    return ActivitySmithTrainCallback(title, total=total, **options)

"""How a run ended, in one set of words for every front end, and the last state it leaves on the phone.

Pure: no I/O, no threads. Any source of progress describes a moment as a :class:`Snapshot`; when
the run ends, :func:`final_state` turns (outcome, last snapshot, metrics, duration) into the last
content state and the closing push text. The tqdm drop-in, the cell magic, ``Activity`` blocks in
scripts and the framework callbacks all end through it, so a run reads the same wherever it ran.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .failure import format_failure
from .wording import (
    MAX_FINAL_SUBTITLE,
    MAX_PUSH_MESSAGE,
    closing_push_title,
    count_text,
    final_subtitle,
    format_duration,
    format_metrics,
    metric_list,
    truncate,
)

__all__ = [
    "DEFAULT_COLORS",
    "FAILURES",
    "FinalState",
    "OUTCOMES",
    "Outcome",
    "Snapshot",
    "count_label",
    "final_state",
    "outcome_for",
]

Outcome = Literal["completed", "stopped", "failed", "interrupted", "terminated", "killed"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "stopped", "failed", "interrupted", "terminated", "killed")
FAILURES: frozenset[Outcome] = frozenset(("failed", "terminated", "killed"))  # notify="failure" pushes these

DEFAULT_COLORS: Mapping[str, str] = {
    "completed": "green", "stopped": "orange", "failed": "red",
    "interrupted": "orange", "terminated": "red", "killed": "red",
}
MetricValue = float | int | str


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What a source of progress shows at one moment (cheap to make, read from any thread)."""

    n: float | None = None  # units done
    total: float | None = None  # units in all (None: unknown)
    unit: str = "it"
    description: str | None = None  # e.g. a bar's desc, "epoch 3/10"
    rate: float | None = None  # units per second
    metrics: Mapping[str, MetricValue] = field(default_factory=dict)  # loss=0.23 ...
    step: str | None = None  # label of the current step
    elapsed: float | None = None  # seconds since the source started
    subtitle: str | None = None  # a source's own wording; None: the hub words it
    number_format: Callable[[float], str] | None = field(default=None, compare=False, repr=False)
    # how n, total and rate read (tqdm's unit_scale: "1.05M"); None: "1,200"

    @property
    def percentage(self) -> float | None:
        """0-100, or None without a (positive) total."""
        if not self.total or self.n is None:
            return None
        return max(0.0, min(100.0, 100.0 * self.n / self.total))

    def count(self) -> str | None:
        """``1,200/5,000``, ``1,200 it`` without a total, None without a count."""
        return None if self.n is None else count_text(self.n, self.total, self.unit, self.number_format)

    def amount(self) -> str | None:
        """``1,200 rows``: the count alone (a ``value`` activity's value)."""
        return None if self.n is None else count_text(self.n, None, self.unit, self.number_format)


@dataclass(frozen=True, kw_only=True)
class FinalState:
    """What an ended run leaves: the last content state (sent with the end) and the closing push."""

    content_state: dict[str, Any]
    push_title: str  # "✅ Training finished in 3m 12s"
    push_message: str | None  # details: the error, else the last count and metrics


def outcome_for(exc: BaseException | None) -> Outcome:
    """The outcome of a run that raised `exc` (None: it returned).

    ``SystemExit(0)``/``SystemExit(None)`` completed; ``KeyboardInterrupt`` (and ``CancelledError``,
    how ipykernel interrupts an async cell) interrupted; any other exception failed."""
    if exc is None:
        return "completed"
    aio = sys.modules.get("asyncio")  # not loaded: no CancelledError can exist (and no import cost)
    if isinstance(exc, KeyboardInterrupt) or (aio is not None and isinstance(exc, aio.CancelledError)):
        return "interrupted"
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return "completed"
    return "failed"


def count_label(snap: Snapshot) -> str:
    """How a stats activity labels its count: the unit (``epoch 3/10``), ``progress`` for tqdm's ``it``."""
    return snap.unit if snap.unit and snap.unit != "it" else "progress"


def _detail(outcome: Outcome, error: BaseException | str | None) -> str | None:
    """The short reason a subtitle names (failures only): the exception's type, or the source's text."""
    if outcome not in FAILURES or error is None:
        return None
    return error if isinstance(error, str) else type(error).__qualname__


def _message(outcome: Outcome, last: Snapshot | None, metrics: Mapping[str, Any],
             error: BaseException | str | None, describe_file: Callable[[str], str | None] | None) -> str | None:
    if isinstance(error, str) and outcome in FAILURES:
        return truncate(error, MAX_PUSH_MESSAGE)
    if isinstance(error, BaseException) and outcome in FAILURES:
        return format_failure(error, describe_file=describe_file, limit=MAX_PUSH_MESSAGE)
    if outcome == "interrupted":
        return type(error).__name__ if isinstance(error, BaseException) else "KeyboardInterrupt"
    parts = [text for text in ((last.count() if last is not None else None),
                               format_metrics(metrics) if metrics else None) if text]
    return truncate(" · ".join(parts), MAX_PUSH_MESSAGE) if parts else None


def final_state(
    outcome: Outcome,
    last: Snapshot | None,
    *,
    title: str,
    duration: float,
    activity_type: str = "progress",
    steps: int | None = None,
    metrics: Mapping[str, MetricValue] | None = None,
    error: BaseException | str | None = None,
    colors: Mapping[str, str | None] | None = None,
    content: Mapping[str, Any] | None = None,
    describe_file: Callable[[str], str | None] | None = None,
) -> FinalState:
    """The last content state and the closing push of a run.

    `last`: the last snapshot of its source (its count is named: "Failed at 40/100 · 12s"), None for a
    run without one ("Failed after 12s: KeyError"). `error`: the exception (its type in the subtitle,
    its message and the last line of user code in the push), or a source's own short description.
    `content`: the state the phone shows now (kept: its color, step, message ...). `colors`: outcome ->
    color (None keeps the running color), over `DEFAULT_COLORS`. `describe_file`: how a file is named
    in the push (a notebook's "Cell In[3]").
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome={outcome!r} is not one of: {', '.join(OUTCOMES)}")
    took = format_duration(duration)
    subtitle = final_subtitle(outcome, took, count=last.count() if last is not None else None,
                              detail=_detail(outcome, error))
    if metrics and activity_type != "stats":  # a stats activity shows them as its metrics
        subtitle += " · " + format_metrics(metrics, limit=2)
    state = dict(content or {})
    state.pop("auto_dismiss_minutes", None)
    state.update(title=title, type=activity_type, subtitle=truncate(subtitle, MAX_FINAL_SUBTITLE))
    _show_end(state, outcome, last, activity_type=activity_type, steps=steps, metrics=metrics)
    color = {**DEFAULT_COLORS, **(colors or {})}.get(outcome)
    if color:
        state["color"] = color
    push_title, rest = closing_push_title(outcome, title, took, metrics)
    message = _message(outcome, last, rest, error, describe_file)
    return FinalState(content_state=state, push_title=push_title, push_message=message)


def _show_end(state: dict[str, Any], outcome: Outcome, last: Snapshot | None, *, activity_type: str,
              steps: int | None, metrics: Mapping[str, MetricValue] | None) -> None:
    """Where the bar, the segments, the value or the grid stand at the end (in `state`)."""
    done = outcome == "completed"
    pct = last.percentage if last is not None else None
    if activity_type == "segmented_progress":
        total = int(state.get("number_of_steps") or steps or 1)
        state["number_of_steps"] = total
        state["current_step"] = total if done else min(int(state.get("current_step") or 0), total)
    elif activity_type == "progress":
        if done:
            state["percentage"] = 100
        elif pct is not None:  # the count decides: 30/30 that then failed is 100 %, 9,999/10,000 is not
            full = last is not None and last.n is not None and last.total is not None and last.n >= last.total
            state["percentage"] = 100 if full else min(round(pct, 1), 99.9)
        else:
            state.setdefault("percentage", 0)
    elif activity_type == "value":
        amount = last.amount() if last is not None else None
        if amount is not None:
            state["value"] = amount
        state.setdefault("value", 0)
    elif activity_type == "stats":  # the metrics (the count is in the subtitle), else the last count
        if metrics:
            state["metrics"] = metric_list(metrics)
        elif last is not None and last.n is not None:
            state["metrics"] = metric_list({count_label(last): last.count()})

"""How a run ended, in one set of words for every front end, and the last state it leaves on the phone.

Pure: no I/O, no threads. Any source of progress describes a moment as a :class:`Snapshot`; when
the run ends, :func:`final_state` turns (outcome, last snapshot, metrics, duration) into the last
content state and the closing push text. The tqdm drop-in, the cell magic, ``Activity`` blocks in
scripts and the framework callbacks all end through it, so a run reads the same wherever it ran.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .failure import format_failure
from .wording import count_text, format_duration, format_number, truncate

__all__ = [
    "DEFAULT_COLORS",
    "FAILURES",
    "FinalState",
    "OUTCOMES",
    "Outcome",
    "Snapshot",
    "count_label",
    "final_state",
    "format_metrics",
    "metric_list",
    "outcome_for",
]

Outcome = Literal["completed", "stopped", "failed", "interrupted", "terminated", "killed"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "stopped", "failed", "interrupted", "terminated", "killed")
FAILURES: frozenset[Outcome] = frozenset(("failed", "terminated", "killed"))  # notify="failure" pushes these

DEFAULT_COLORS: Mapping[str, str] = {
    "completed": "green", "stopped": "orange", "failed": "red",
    "interrupted": "orange", "terminated": "red", "killed": "red",
}
# outcome -> (subtitle word, push emoji, push verb)
_WORDS: Mapping[Outcome, tuple[str, str, str]] = {
    "completed": ("Done", "✅", "finished in"),
    "stopped": ("Stopped", "⏹️", "stopped after"),
    "failed": ("Failed", "❌", "failed after"),
    "interrupted": ("Interrupted", "⏹️", "interrupted after"),
    "terminated": ("Terminated", "🛑", "terminated after"),
    "killed": ("Killed", "💀", "killed after"),
}
MAX_FINAL_SUBTITLE = 120
MAX_PUSH_MESSAGE = 400
MAX_PUSH_TITLE = 160  # a Lock Screen banner shows about two lines
MAX_METRICS = 8  # the API's limit for a stats activity
MAX_METRIC_TEXT = 64

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


def _significant(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return format_number(round(value))
    return f"{value:.3g}"


def format_metrics(metrics: Mapping[str, Any], *, limit: int = 3) -> str:
    """``loss 0.231 · acc 0.912``: the first `limit` metrics, numbers to 3 significant digits (a value
    named ``""``, a bar's free postfix text, reads alone)."""
    parts = []
    for name, value in list(metrics.items())[:limit]:
        if isinstance(value, float):
            text = _significant(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            text = format_number(value)
        else:
            text = str(value)
        parts.append(f"{name} {text}" if name else text)
    return " · ".join(parts)


def metric_list(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A ``stats`` activity's ``metrics``: up to 8 ``{"label", "value"}``; a number >= 0 stays a number
    (3 significant digits), anything else becomes text (the API takes no negative numbers)."""
    out: list[dict[str, Any]] = []
    for name, value in list(metrics.items())[:MAX_METRICS]:
        label = truncate(str(name), MAX_METRIC_TEXT) or "value"
        shown: Any
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            shown = value
        elif isinstance(value, float) and math.isfinite(value) and value >= 0:
            shown = float(f"{value:.3g}")
        else:
            text = _significant(value) if isinstance(value, float) else str(value)
            shown = truncate(text, MAX_METRIC_TEXT) or "-"
        out.append({"label": label, "value": shown})
    return out


def count_label(snap: Snapshot) -> str:
    """How a stats activity labels its count: the unit (``epoch 3/10``), ``progress`` for tqdm's ``it``."""
    return snap.unit if snap.unit and snap.unit != "it" else "progress"


def _detail(outcome: Outcome, error: BaseException | str | None) -> str | None:
    """The short reason a subtitle names (failures only): the exception's type, or the source's text."""
    if outcome not in FAILURES or error is None:
        return None
    return error if isinstance(error, str) else type(error).__qualname__


# A run that ended well names its last metrics in the push's title (what the Lock Screen shows first);
# a failure's title stays short and its message carries the error.
_METRICS_IN_TITLE: frozenset[str] = frozenset({"completed", "stopped"})
TITLE_METRICS = 2


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
    word, emoji, verb = _WORDS[outcome]
    took = format_duration(duration)
    detail = _detail(outcome, error)
    count = last.count() if last is not None else None
    done = outcome == "completed"
    if count is None:
        subtitle = f"Done in {took}" if done else f"{word} after {took}" + (f": {detail}" if detail else "")
    else:
        subtitle = (f"Done · {count} in {took}" if done
                    else f"{word} at {count}" + (f": {detail}" if detail else "") + f" · {took}")
    if metrics and activity_type != "stats":  # a stats activity shows them as its metrics
        subtitle += " · " + format_metrics(metrics, limit=2)
    state = dict(content or {})
    state.pop("auto_dismiss_minutes", None)
    state.update(title=title, type=activity_type, subtitle=truncate(subtitle, MAX_FINAL_SUBTITLE))
    pct = last.percentage if last is not None else None
    if activity_type == "segmented_progress":
        total = int(state.get("number_of_steps") or steps or 1)
        state["number_of_steps"] = total
        state["current_step"] = total if done else min(int(state.get("current_step") or 0), total)
    elif activity_type == "progress":
        if done:
            state["percentage"] = 100
        elif pct is not None:
            state["percentage"] = min(round(pct, 1), 99.9)
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
    palette: dict[str, str | None] = {**DEFAULT_COLORS, **(colors or {})}
    color = palette.get(outcome)
    if color:
        state["color"] = color
    push_title, rest = f"{emoji} {title} {verb} {took}", dict(metrics or {})
    if rest and outcome in _METRICS_IN_TITLE:  # "✅ Training finished in 3h 12m · loss 0.231 · acc 0.912"
        head = dict(list(rest.items())[:TITLE_METRICS])
        push_title += " · " + format_metrics(head, limit=TITLE_METRICS)
        rest = {k: v for k, v in rest.items() if k not in head}  # the message names the others
    message = _message(outcome, last, rest, error, describe_file)
    return FinalState(content_state=state, push_title=truncate(push_title, MAX_PUSH_TITLE), push_message=message)

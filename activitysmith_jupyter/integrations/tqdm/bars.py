"""A tqdm bar as a snapshot, and how a running bar reads (shared by the tqdm drop-in and the observer).

Imports tqdm (for its own number style: ``unit_scale`` sizes like ``1.05M``); loaded only with them.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from tqdm.std import tqdm as std_tqdm

from ...hub.content import running_state as _running_state
from ...hub.outcome import MetricValue, Snapshot
from ...hub.wording import NumberFormat, progress_text

__all__ = ["BarSnapshot", "bar_subtitle", "hub_snapshot", "postfix_metrics", "running_state", "snapshot"]

_PAIR = re.compile(r"^\s*(?P<name>[^=:\s][^=:]*?)\s*[=:]\s*(?P<value>\S.*?)\s*$")


@dataclass(frozen=True, kw_only=True)
class BarSnapshot:
    """What a bar showed at one moment (cheap to make; read from any thread)."""

    n: float
    total: float | None
    desc: str
    unit: str
    rate: float | None  # units per second (tqdm's smoothed rate, or n/elapsed)
    elapsed: float  # seconds since the bar started
    closed: bool = False
    completed: bool | None = None  # set when closed: True when it reached its total (or had none)
    bar_id: int = 0  # id() of the bar: tells bars apart
    unit_scale: Any = False
    unit_divisor: int = 1000
    postfix: str = ""  # tqdm's postfix text: set_postfix(loss=0.231) -> "loss=0.231"

    @property
    def percentage(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(100.0, 100.0 * self.n / self.total))


def snapshot(bar: Any, *, closed: bool = False) -> BarSnapshot:
    """A `BarSnapshot` of a tqdm bar (any tqdm class)."""
    n = getattr(bar, "n", 0) or 0
    total = getattr(bar, "total", None)
    start = getattr(bar, "start_t", None)
    timer = getattr(bar, "_time", time.time)
    elapsed = max(0.0, timer() - start) if start is not None else 0.0
    rate = None
    try:
        ema_dt = bar._ema_dt()
        rate = bar._ema_dn() / ema_dt if ema_dt else None
    except Exception:  # noqa: BLE001 - a bar still initialising, or a foreign tqdm class
        rate = None
    if not rate and elapsed > 0 and n:
        rate = n / elapsed
    completed = None
    if closed:
        completed = total is None or n >= total
    return BarSnapshot(n=n, total=total, desc=str(getattr(bar, "desc", "") or ""), unit=str(getattr(bar, "unit", "it")),
                       rate=rate, elapsed=elapsed, closed=closed, completed=completed, bar_id=id(bar),
                       unit_scale=getattr(bar, "unit_scale", False),
                       unit_divisor=getattr(bar, "unit_divisor", 1000) or 1000,
                       postfix=str(getattr(bar, "postfix", "") or ""))


def _number(text: str) -> MetricValue:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def postfix_metrics(text: str) -> dict[str, MetricValue]:
    """A bar's postfix as metrics: ``set_postfix(loss=0.231, acc=0.91)`` is stored by tqdm as the text
    ``loss=0.231, acc=0.91`` -> ``{"loss": 0.231, "acc": 0.91}``; ``name: value`` reads the same. Text
    that is no ``name=value`` (``set_postfix_str("warming up")``) is kept under the name ``""``."""
    metrics: dict[str, MetricValue] = {}
    loose: list[str] = []
    for part in text.split(", ") if text.strip() else ():
        pair = _PAIR.match(part)
        if pair is None:
            loose.append(part.strip())
        else:
            metrics[pair.group("name")] = _number(pair.group("value"))
    if loose:
        metrics[""] = ", ".join(p for p in loose if p)
    return metrics


def _number_format(s: BarSnapshot) -> NumberFormat | None:
    """tqdm's ``unit_scale`` style (``1.05M``), or None for the hub's ``1,200``."""
    if not s.unit_scale:
        return None
    scale = 1 if s.unit_scale is True else s.unit_scale
    divisor = s.unit_divisor

    def scaled(x: float) -> str:
        return str(std_tqdm.format_sizeof(x * scale, divisor=divisor))

    return scaled


def hub_snapshot(s: BarSnapshot, *, described: bool) -> Snapshot:
    """The hub's `Snapshot` of a bar. `described`: the bar's desc goes into the subtitle ("train: 25/100",
    for an activity titled otherwise); else it is left out (the drop-in's title is the desc)."""
    desc = s.desc.strip().rstrip(":").strip()
    return Snapshot(n=s.n, total=s.total, unit=s.unit, rate=s.rate, elapsed=s.elapsed,
                    description=(desc or None) if described else None, number_format=_number_format(s),
                    metrics=postfix_metrics(s.postfix))


def bar_subtitle(s: BarSnapshot, now: float) -> str:
    """What a Lock Screen shows between sparse updates: ``n/total · rate · ETA 14:32`` (wall clock)."""
    return progress_text(s.n, s.total, s.unit, s.rate, now, _number_format(s))


def running_state(s: BarSnapshot, *, title: str, color: str | None, now: float) -> dict[str, Any]:
    """The drop-in's content state of a running bar: progress with a percentage (or a value without total)."""
    kind = "progress" if s.total else "value"
    base: dict[str, Any] = {"title": title, "type": kind}
    if color:
        base["color"] = color
    return _running_state(hub_snapshot(s, described=False), base, title=title, activity_type=kind, now=now,
                          metrics={})

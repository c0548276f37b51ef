"""The content states of a running activity: the first one, and one per snapshot. Pure (the end's state
is :func:`activitysmith_jupyter.hub.outcome.final_state`)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .outcome import MetricValue, Snapshot, count_label
from .wording import MAX_METRICS, MAX_SUBTITLE, elapsed_text, format_clock, format_metrics, metric_list, progress_text, truncate

__all__ = ["first_state", "magnitude", "running_state", "snapshot_key", "stats_metrics",
           "with_metrics"]

_STATS_PLACEHOLDER = ({"label": "status", "value": "running"},)  # a stats start needs 1-8 metrics


def first_state(title: str, *, activity_type: str, steps: int | None, subtitle: str | None,
                color: str | None, metrics: Mapping[str, MetricValue]) -> dict[str, Any]:
    """What the phone shows before any progress: 0 %, step 0 of N, or the metrics so far."""
    content: dict[str, Any] = {"title": title, "type": activity_type}
    if activity_type == "segmented_progress":
        content.update(number_of_steps=steps or 1, current_step=0)
    elif activity_type == "progress":
        content["percentage"] = 0
    elif activity_type == "value":
        content["value"] = 0
    elif activity_type == "stats":
        content["metrics"] = metric_list(metrics) or [dict(m) for m in _STATS_PLACEHOLDER]
    content["subtitle"] = truncate(subtitle, MAX_SUBTITLE) if subtitle else elapsed_text(0)
    if color:
        content["color"] = color
    return content


def magnitude(n: float) -> int:
    """Buckets for a count without a total: a new state at 1, 2, 5, 10, 20, 50, 100 ..."""
    if n < 1:
        return 0
    exp = int(math.log10(n))
    lead = n / 10**exp
    return exp * 3 + (2 if lead >= 5 else 1 if lead >= 2 else 0) + 1


def snapshot_key(snap: Snapshot, title: str) -> tuple[Any, ...]:
    """What must change for a snapshot to be worth a new state: the whole percent (or the count's
    magnitude), the description, the step, the metrics, the title."""
    pct = snap.percentage
    bucket = int(pct) if pct is not None else (magnitude(snap.n) if snap.n is not None else None)
    return (title, snap.description, snap.step, bucket, dict(snap.metrics))


def running_state(snap: Snapshot, base: Mapping[str, Any], *, title: str, activity_type: str, now: float,
                  metrics: Mapping[str, MetricValue]) -> dict[str, Any]:
    """`base` (the state shown now) moved on to `snap`: ``desc: n/total · rate · ETA 14:32``, the
    percentage (progress), the count (value) or the metrics (stats). The type never changes."""
    content = dict(base)
    content["title"] = title
    subtitle = snap.subtitle
    if subtitle is None:
        progress = (progress_text(snap.n, snap.total, snap.unit, snap.rate, now, snap.number_format)
                    if snap.n is not None else None)
        label = (snap.description or "").strip().rstrip(":").strip() or snap.step
        subtitle = f"{label}: {progress}" if label and progress else (progress or label)
        named = {**metrics, **snap.metrics}
        if named and activity_type != "stats":  # a bar's postfix, metrics(): "… · loss 0.231 · acc 0.912"
            subtitle = " · ".join(t for t in (subtitle, format_metrics(named, limit=2)) if t)
    if subtitle:
        content["subtitle"] = truncate(subtitle, MAX_SUBTITLE)
    pct = snap.percentage
    if activity_type == "progress" and pct is not None:
        content["percentage"] = round(pct, 1)
    elif activity_type == "value" and snap.n is not None:
        content["value"] = snap.amount()
    elif activity_type == "stats":
        shown = stats_metrics(snap, {**metrics, **snap.metrics}, now)
        if shown:
            content["metrics"] = shown
    return content


def stats_metrics(snap: Snapshot, metrics: Mapping[str, MetricValue], now: float) -> list[dict[str, Any]]:
    """A running ``stats`` activity's metrics: the named values, the count (``epoch 3/10``), the ETA
    (wall clock) -- at most 8, the count and the ETA kept."""
    eta: str | None = None
    if snap.total and snap.rate and snap.n is not None and snap.n < snap.total:
        remaining = (snap.total - snap.n) / snap.rate
        if math.isfinite(remaining) and remaining < 366 * 86400:
            eta = format_clock(now + remaining, now)
    count = snap.count()
    room = MAX_METRICS - (count is not None) - (eta is not None)
    shown: dict[str, MetricValue] = dict(list(metrics.items())[:room])
    if count is not None:
        shown[count_label(snap)] = count
    if eta is not None:
        shown["ETA"] = eta
    return metric_list(shown)


def with_metrics(content: Mapping[str, Any], metrics: Mapping[str, MetricValue], activity_type: str,
                 subtitle: str) -> dict[str, Any]:
    """`content` showing `metrics` without a source's snapshot: a stats activity's grid, else `subtitle`
    followed by two of them ("Running · 6m elapsed · loss 0.231 · acc 0.912")."""
    if activity_type == "stats":
        grid = {"metrics": metric_list(metrics)} if metrics else {}
        return {**content, "subtitle": truncate(subtitle, MAX_SUBTITLE), **grid}
    text = f"{subtitle} · {format_metrics(metrics, limit=2)}" if metrics else subtitle
    return {**content, "subtitle": truncate(text, MAX_SUBTITLE)}

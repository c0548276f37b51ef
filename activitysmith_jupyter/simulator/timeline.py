"""Readable text of what the simulated phone showed, one line per event."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .records import Event

__all__ = ["format_timeline", "describe_state", "headline"]

_SYMBOLS = {
    "started": "▶", "updated": "↻", "rotated": "⟳", "ended": "■",
    "push": "🔔", "replaced": "✎", "badge": "◉", "metric": "▦",
}


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _metrics(items: Any) -> str:
    parts = []
    for m in items or []:
        if isinstance(m, Mapping):
            parts.append(f"{m.get('label', '?')} {_num(m.get('value', ''))}{m.get('unit') or ''}")
    return ", ".join(parts)


def describe_state(cs: Mapping[str, Any]) -> str:
    """A short bracketed description of a content state's type-specific part, e.g. "[progress 42%]"."""
    kind = cs.get("type")
    if "percentage" in cs:
        detail = f"progress {_num(cs['percentage'])}%"
    elif "value" in cs and "upper_limit" in cs:
        detail = f"progress {_num(cs['value'])}/{_num(cs['upper_limit'])}"
    elif "current_step" in cs or "number_of_steps" in cs:
        detail = f"step {_num(cs.get('current_step', '?'))}/{_num(cs.get('number_of_steps', '?'))}"
    elif cs.get("metrics"):
        detail = f"{kind or 'metrics'} {_metrics(cs['metrics'])}"
    elif "value" in cs:
        detail = f"value {_num(cs['value'])}"
    elif "duration_seconds" in cs or kind == "timer":
        running = "" if cs.get("is_running", True) else " paused"
        direction = "down" if cs.get("counts_down", True) else "up"
        dur = f" {_num(cs['duration_seconds'])}s" if "duration_seconds" in cs else ""
        detail = f"timer{dur} {direction}{running}"
    elif kind == "alert":
        detail = "alert"
    else:
        detail = kind or ""
    return f"[{detail}]" if detail else ""


def headline(cs: Mapping[str, Any]) -> str:
    """ "Title · subtitle — message" as the Lock Screen shows it."""
    text = str(cs.get("title", ""))
    if cs.get("subtitle"):
        text += f" · {cs['subtitle']}"
    if cs.get("message"):
        text += f" — {cs['message']}"
    return text


def _offset(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"+{int(minutes):02d}:{rest:04.1f}"


def format_timeline(events: Iterable[Event], skip: str | Iterable[str] = ()) -> str:
    """One line per event: relative time from the first event, symbol, kind, label, summary.

    `skip` names event kinds to leave out, one or several ("updated" for a long run's paced updates);
    offsets still count from the first event of all.
    """
    skipped = {skip} if isinstance(skip, str) else set(skip)
    unknown = skipped - _SYMBOLS.keys()
    if unknown:
        raise ValueError(f"timeline skip: unknown event kind {sorted(unknown)[0]!r} (one of {', '.join(_SYMBOLS)})")
    events = list(events)
    if not events:
        return ""
    t0 = events[0].time
    lines = []
    for ev in (e for e in events if e.kind not in skipped):
        symbol = _SYMBOLS.get(ev.kind, "•")
        label = ev.data.get("label")
        middle = f"{ev.kind:<9} {label:<16} " if label else f"{ev.kind}  "
        lines.append(f"{_offset(ev.time - t0)}  {symbol} {middle}{ev.summary}".rstrip())
    return "\n".join(lines)

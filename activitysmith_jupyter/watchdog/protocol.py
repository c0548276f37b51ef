"""What the watched process tells its watchdog, and the wording of what the watchdog sends. Pure.

One JSON object per line on the watchdog's stdin, written by the parent (``handle.py``), read by the
child (``main.py``). The pipe is one-way; its end of file means the parent is gone.

    hello    {pid, kind, api_key, base_url}      first line: who is watched, how to reach the API
    open     {key, title, type, channels, notify, started, state, stall_after}
    state    {key, state}                        the newest content state the parent handed on
    ending   {key, state, push}                  the parent queued its own end (and push, or null)
    closed   {key}                               ... and its dispatcher delivered it
    beat     {}                                  the parent's interpreter runs (every BEAT_SECONDS)
    monitor  {on, key, title}                    resource monitor on/off

The API key travels only here (never on a command line, never in a file).
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "BEAT_SECONDS",
    "OPS",
    "ProtocolError",
    "death_end",
    "decode",
    "encode",
    "format_minutes",
    "stall_push",
    "stall_subtitle",
]

BEAT_SECONDS = 5.0
OPS: tuple[str, ...] = ("hello", "open", "state", "ending", "closed", "beat", "monitor")
MAX_SUBTITLE = 80


class ProtocolError(ValueError):
    """A line on the pipe that is not one of our messages."""


def encode(op: str, **fields: Any) -> bytes:
    """One message as one line of UTF-8 JSON."""
    if op not in OPS:
        raise ProtocolError(f"op={op!r} is not one of: {', '.join(OPS)}")
    return (json.dumps({"op": op, **fields}, separators=(",", ":"), default=str) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    """The message on one line; ProtocolError for anything else."""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("op") not in OPS:
        raise ProtocolError("not a watchdog message")
    return message


def _duration(seconds: float) -> str:
    from ..activity import format_duration  # the package's one duration wording (loads only when sending)

    return format_duration(seconds)


def format_minutes(seconds: float) -> str:
    """``20 min``, ``1h 05m``: how long nothing moved."""
    minutes = max(1, int(seconds // 60))
    return f"{minutes} min" if minutes < 60 else _duration(minutes * 60.0)


def _percent(state: Mapping[str, Any]) -> str | None:
    pct = state.get("percentage")
    if isinstance(pct, (int, float)) and not isinstance(pct, bool) and math.isfinite(pct):
        return f"{pct:.0f} %"
    steps, current = state.get("number_of_steps"), state.get("current_step")
    if isinstance(steps, int) and isinstance(current, int):
        return f"step {current} of {steps}"
    return None


def _clip(text: str, limit: int = MAX_SUBTITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stall_subtitle(stalled_for: float, state: Mapping[str, Any]) -> str:
    """``⚠️ No progress for 20 min · stuck at 47 %``."""
    where = _percent(state)
    return _clip(f"⚠️ No progress for {format_minutes(stalled_for)}" + (f" · stuck at {where}" if where else ""))


def stall_push(title: str, stalled_for: float, state: Mapping[str, Any], *, why: str | None = None) -> dict[str, Any]:
    """``⚠️ Training has made no progress for 20 min — stuck at 47 %`` (`why`: the push's message)."""
    where = _percent(state)
    push: dict[str, Any] = {"title": _clip(f"⚠️ {title} has made no progress for {format_minutes(stalled_for)}"
                                           + (f" — stuck at {where}" if where else ""), 120)}
    if why:
        push["message"] = why
    return push


def death_end(kind: str, title: str, state: Mapping[str, Any], *, duration: float,
              channels: list[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The final content state and the push for an activity whose process died (outcome "killed"):
    ``Kernel died after 1h 12m`` in red, the bar left where it stopped."""
    took = _duration(duration)
    final = {k: v for k, v in state.items() if k != "auto_dismiss_minutes"}
    where = _percent(state)
    final.update(title=title, subtitle=_clip(f"{kind} died after {took}" + (f" · at {where}" if where else "")),
                 color="red")
    if final.get("type") == "progress" and isinstance(final.get("percentage"), (int, float)):
        final["percentage"] = min(float(final["percentage"]), 99.9)
    last = state.get("subtitle")
    push: dict[str, Any] = {"title": _clip(f"💀 {title}: {kind.lower()} died after {took}", 120)}
    details = [f"Stopped at {where}" if where else "", f"last: {last}" if isinstance(last, str) and last else ""]
    message = " · ".join(d for d in details if d)
    if message:
        push["message"] = _clip(message, 400)
    if channels:
        push["channels"] = list(channels)
    return final, push

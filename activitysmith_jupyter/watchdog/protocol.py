"""What the watched process tells its watchdog, and the wording of what the watchdog sends. Pure.

One JSON object per line on the watchdog's stdin, written by the parent (``handle.py``), read by the
child (``main.py``). The pipe is one-way; its end of file means the parent is gone.

    hello    {pid, kind}                         first line: who is watched
    target   {id, api_key, base_url}             how to reach one API (one line per client in use)
    open     {key, title, type, channels, notify, started, state, stall_after, target}
    state    {key, state}                        the newest content state the parent handed on
    ending   {key, state, push}                  the parent queued its own end (and push, or null)
    closed   {key}                               ... and its dispatcher delivered it
    beat     {}                                  the parent's interpreter runs (every `beat_interval`)
    monitor  {on, key, title, target}            resource monitor on/off

The API key travels only here (never on a command line, never in a file).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..hub.wording import death_texts, format_duration, push_request

__all__ = ["BEAT_SECONDS", "OPS", "ProtocolError", "beat_interval", "death_end", "decode", "encode", "quiet_limit"]

BEAT_SECONDS = 5.0
BEAT_FLOOR = 0.5  # the shortest gap between two heartbeats, however short a stall_after
OPS: tuple[str, ...] = ("hello", "target", "open", "state", "ending", "closed", "beat", "monitor")


def beat_interval(stall_after: float | None) -> float:
    """Seconds between the parent's heartbeats while an activity with `stall_after` is open: a quarter of
    it (so a silence of `stall_after` is told from the gap between two beats), at most BEAT_SECONDS."""
    if stall_after is None or stall_after <= 0:
        return BEAT_SECONDS
    return min(BEAT_SECONDS, max(BEAT_FLOOR, stall_after / 4))


def quiet_limit(stall_after: float) -> float:
    """The parent's silence the watchdog takes for a stall: `stall_after`, but never within two beats (and a
    second) of the parent's heartbeat. Within max(1.5 × stall_after, stall_after + 5 s), as a stall must be."""
    return max(stall_after, 2 * beat_interval(stall_after) + 1.0)


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


def death_end(kind: str, title: str, state: Mapping[str, Any], *, duration: float,
              channels: list[str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The final content state and the push for an activity whose process died (outcome "killed"):
    ``Kernel died after 1h 12m`` in red, the bar left where it stopped."""
    subtitle, push_title, message = death_texts(kind, title, format_duration(duration), state)
    final = {k: v for k, v in state.items() if k != "auto_dismiss_minutes"}
    final.update(title=title, subtitle=subtitle, color="red")
    if final.get("type") == "progress" and isinstance(final.get("percentage"), (int, float)):
        final["percentage"] = min(float(final["percentage"]), 99.9)
    return final, push_request(push_title, message, channels or ())

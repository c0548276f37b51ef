"""How numbers, durations and progress read on a Lock Screen. Pure: no I/O, no threads, no imports
of a framework; shared by the hub (``outcome``, ``activity``) and every source of progress."""
from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = [
    "count_text",
    "elapsed_bucket",
    "elapsed_text",
    "format_clock",
    "format_compact",
    "format_duration",
    "format_number",
    "format_rate",
    "progress_text",
    "truncate",
]

NumberFormat = Callable[[float], str]


def format_duration(seconds: float) -> str:
    """``3.2s``, ``42s``, ``3m 12s``, ``2h 05m``, ``1d 3h`` — short, for titles and subtitles."""
    s = max(0.0, float(seconds))
    if s < 10:
        return f"{s:.1f}s"
    whole = int(s)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d {whole % 86400 // 3600}h"


def elapsed_bucket(seconds: float) -> int:
    """Whole minutes to show for an elapsed time: 0 under 2 min, then steps of 2 min up to 10,
    5 min up to 60 and 15 min after that (so a source-less activity sends ~16 updates in its first hour)."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 2:
        return 0
    if minutes < 10:
        return minutes - minutes % 2
    if minutes < 60:
        return minutes - minutes % 5
    return minutes - minutes % 15


def elapsed_text(minutes: int) -> str:
    """``Running…``, then ``Running · 6m elapsed`` (an `elapsed_bucket`)."""
    if minutes == 0:
        return "Running…"
    return f"Running · {format_duration(minutes * 60).replace(' 0s', '')} elapsed"


def truncate(text: str, limit: int) -> str:
    """One line (whitespace runs collapsed) unless it has line breaks, cut to `limit` with ``…``."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_number(x: float) -> str:
    """``1,200`` for whole numbers, ``12.50`` otherwise."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def format_compact(x: float) -> str:
    """``980``, ``1.24k``, ``2k``, ``12.3k``, ``4.5M``: three significant digits, for counts that run large."""
    value, suffixes = float(x), ("", "k", "M", "G", "T")
    i = 0
    while abs(value) >= 999.5 and i < len(suffixes) - 1:
        value, i = value / 1000, i + 1
    return f"{value:.3g}{suffixes[i]}" if i else format_number(round(value) if value.is_integer() else value)


def format_rate(rate: float | None, unit: str, number: NumberFormat | None = None) -> str | None:
    """tqdm's rate style: ``123.45it/s``, ``1.23MB/s`` (with a scaling `number` format), ``2.50s/it``."""
    if not rate:
        return None
    if rate < 1:
        return f"{1 / rate:.2f}s/{unit}"
    return f"{number(rate) if number else f'{rate:.2f}'}{unit}/s"


def format_clock(when: float, now: float) -> str:
    """Wall-clock time of `when` (local): ``14:32``, or ``Tue 14:32`` beyond 24 h. A kernel on UTC (a
    server, a container) says so -- ``14:32 UTC`` -- since the phone is likely in another zone."""
    lt = time.localtime(when)
    text = time.strftime("%a %H:%M" if when - now >= 86400 else "%H:%M", lt)
    return f"{text} UTC" if lt.tm_gmtoff == 0 and lt.tm_zone in ("UTC", "GMT", "Etc/UTC") else text


def count_text(n: float | None, total: float | None, unit: str, number: NumberFormat | None = None) -> str:
    """``1,200/5,000``, or ``1,200 it`` without a total."""
    fmt = number or format_number
    done = "?" if n is None else fmt(n)
    if not total:
        return f"{done} {unit}"
    return f"{done}/{fmt(total)}"


def progress_text(n: float | None, total: float | None, unit: str, rate: float | None, now: float,
                  number: NumberFormat | None = None) -> str:
    """What a Lock Screen shows between sparse updates: ``n/total · rate · ETA 14:32`` (wall clock)."""
    parts = [count_text(n, total, unit, number)]
    rate_text = format_rate(rate, unit, number)
    if rate_text:
        parts.append(rate_text)
    if total and rate and n is not None and n < total:
        remaining = (total - n) / rate
        if math.isfinite(remaining) and remaining < 366 * 86400:
            parts.append(f"ETA {format_clock(now + remaining, now)}")
    return " · ".join(parts)

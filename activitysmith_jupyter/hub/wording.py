"""Everything the phone says, in one place: every title, subtitle and push text, every outcome word and
every length limit, and how numbers, durations and progress read on a Lock Screen.

Pure: no I/O, no threads, no imports of a framework. The hub (``outcome``, ``content``, ``activity``,
``stall``), the watchdog, ``activitysmith run`` and every source of progress word things through it, so a
run reads the same wherever it ran. The limits of the wire (metrics) are the API's, from ``payloads``;
the others are what a Lock Screen shows well (the API documents no length for these texts).
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..payloads.rules import MAX_METRIC_STRING_LENGTH, MAX_METRICS

__all__ = [
    "MAX_CODE_LINE",
    "MAX_EXC_MESSAGE",
    "MAX_FINAL_SUBTITLE",
    "MAX_METRICS",
    "MAX_METRIC_TEXT",
    "MAX_PUSH_MESSAGE",
    "MAX_PUSH_TITLE",
    "MAX_SUBTITLE",
    "MAX_TITLE",
    "OPEN_NOTEBOOK",
    "OUTCOME_WORDS",
    "STOP_RUN",
    "closing_push_title",
    "count_text",
    "death_texts",
    "final_subtitle",
    "format_metrics",
    "format_minutes",
    "metric_list",
    "percent_text",
    "push_request",
    "significant",
    "three_digits",
    "stall_push_title",
    "stall_subtitle",
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

# -------------------------------------------------------------------------------------------- limits
MAX_TITLE = 60  # a title we make up (a bar's desc, a command line, a notebook's source line)
MAX_SUBTITLE = 80  # a running activity's subtitle: one line on the Lock Screen
MAX_FINAL_SUBTITLE = 120  # an ended one may take two
MAX_PUSH_TITLE = 160  # a banner shows about two lines
MAX_PUSH_MESSAGE = 400
MAX_EXC_MESSAGE = 200  # an exception's message inside a push
MAX_CODE_LINE = 120  # the line of user code a failure names
MAX_METRIC_TEXT = MAX_METRIC_STRING_LENGTH  # the API's, for a stats metric's label and text value

# outcome -> (subtitle word, push emoji, push verb)
OUTCOME_WORDS: Mapping[str, tuple[str, str, str]] = {
    "completed": ("Done", "✅", "finished in"),
    "stopped": ("Stopped", "⏹️", "stopped after"),
    "failed": ("Failed", "❌", "failed after"),
    "interrupted": ("Interrupted", "⏹️", "interrupted after"),
    "terminated": ("Terminated", "🛑", "terminated after"),
    "killed": ("Died", "💀", "died after"),
}
# the buttons of a run in a Jupyter kernel (links.py, run_links.py)
OPEN_NOTEBOOK = "Open notebook"
STOP_RUN = "Stop"
_METRICS_IN_TITLE = frozenset({"completed", "stopped"})  # a good end names its metrics in the push's title
TITLE_METRICS = 2


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


_SCALE_SUFFIXES = ("", "k", "M", "G", "T", "P", "E")
_SCALED = re.compile(r"^(?P<digits>.*?\d)\s*(?P<suffix>[kKMGTPEZY]?)$")


def _scaled(x: float) -> tuple[float, str]:
    """`x` divided by 1000 until it reads in three digits, and the suffix that says so (``6742202`` ->
    ``(6.742202, "M")``)."""
    value, i = float(x), 0
    while abs(value) >= 999.5 and i < len(_SCALE_SUFFIXES) - 1:
        value, i = value / 1000, i + 1
    return value, _SCALE_SUFFIXES[i]


def three_digits(x: float) -> str:
    """At most 3 significant digits with a k/M/G suffix, as tqdm's ``unit_scale`` reads: ``6.64``, ``12.3``,
    ``294k``, ``6.74M`` (a phone has no room for ``6742202.16``)."""
    value, suffix = _scaled(x)
    return f"{value:.2f}{suffix}" if abs(value) < 9.995 else f"{value:.1f}{suffix}" if abs(value) < 99.95 \
        else f"{value:.0f}{suffix}"


def format_compact(x: float) -> str:
    """``980``, ``1.24k``, ``2k``, ``12.3k``, ``4.5M``: three significant digits, for counts that run large."""
    value, suffix = _scaled(x)
    return f"{value:.3g}{suffix}" if suffix else format_number(round(value) if value.is_integer() else value)


def format_rate(rate: float | None, unit: str, number: NumberFormat | None = None) -> str | None:
    """A rate for a phone: ``6.64 it/s``, ``294k iteration/s``, ``6.74M it/s``, ``1.23 MB/s`` (a one-letter
    unit takes the suffix), ``2.50 s/it`` (``min``/``h`` per unit when slower); `number`: a bar's own
    ``unit_scale`` format (tqdm's ``1.05M``)."""
    if not rate:
        return None
    if rate < 1:
        per = 1 / rate
        each, span = (per, "s") if per < 60 else (per / 60, "min") if per < 3600 else (per / 3600, "h")
        return f"{three_digits(each)} {span}/{unit}"
    text = number(rate) if number else three_digits(rate)
    match = _SCALED.match(text.strip())
    if match is None:  # a foreign format: keep it, with the space
        return f"{text.strip()} {unit}/s"
    digits, suffix = match["digits"], match["suffix"]
    return f"{digits} {suffix}{unit}/s" if suffix and len(unit) == 1 else f"{digits}{suffix} {unit}/s"


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


# ------------------------------------------------------------------------------------------ metrics
def significant(value: float) -> str:
    """3 significant digits (``0.231``), grouped whole numbers from 1,000 (``12,345``)."""
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
            text = significant(value)
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
            text = significant(value) if isinstance(value, float) else str(value)
            shown = truncate(text, MAX_METRIC_TEXT) or "-"
        out.append({"label": label, "value": shown})
    return out


# ------------------------------------------------------------------------------------------ the end
def final_subtitle(outcome: str, took: str, *, count: str | None, detail: str | None) -> str:
    """``Done · 8/8 in 3s``, ``Failed at 4/10: KeyError · 3s``, ``Done in 3s``, ``Failed after 3s: KeyError``."""
    word = OUTCOME_WORDS[outcome][0]
    reason = f": {detail}" if detail else ""
    if count is None:
        return f"Done in {took}" if outcome == "completed" else f"{word} after {took}{reason}"
    return f"Done · {count} in {took}" if outcome == "completed" else f"{word} at {count}{reason} · {took}"


def closing_push_title(outcome: str, title: str, took: str,
                       metrics: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(``✅ Training finished in 3h 12m · loss 0.231 · acc 0.912``, the metrics left for the message):
    a run that ended well names its first metrics in the title (what the Lock Screen shows first); a
    failure's title stays short and its message carries the error."""
    _, emoji, verb = OUTCOME_WORDS[outcome]
    text, rest = f"{emoji} {title} {verb} {took}", dict(metrics or {})
    if rest and outcome in _METRICS_IN_TITLE:
        head = dict(list(rest.items())[:TITLE_METRICS])
        text += " · " + format_metrics(head, limit=TITLE_METRICS)
        rest = {k: v for k, v in rest.items() if k not in head}
    return truncate(text, MAX_PUSH_TITLE), rest


def death_texts(who: str, title: str, took: str, state: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """(subtitle, push title, push message) of a run whose process died (`who`: "Kernel", "Process"):
    ``Kernel died after 1h 12m · at 47 %``, ``💀 Training died after 1h 12m``, ``Kernel died · stopped at
    47 % · last: epoch 3/10``."""
    where = percent_text(state)
    subtitle = truncate(f"{who} died after {took}" + (f" · at {where}" if where else ""), MAX_SUBTITLE)
    last = state.get("subtitle")
    details = [f"{who} died", f"stopped at {where}" if where else "",
               f"last: {last}" if isinstance(last, str) and last else ""]
    message = truncate(" · ".join(d for d in details if d), MAX_PUSH_MESSAGE)
    return subtitle, closing_push_title("killed", title, took)[0], message


def push_request(title: str, message: str | None = None, channels: Sequence[str] = (),
                 redirection: str | None = None) -> dict[str, Any]:
    """The body of a push the package sends on its own (an end, a stall, a death, a failing rank);
    `redirection`: what a tap opens (the notebook, for a run in a Jupyter kernel)."""
    push: dict[str, Any] = {"title": truncate(title, MAX_PUSH_TITLE)}
    if message:
        push["message"] = truncate(message, MAX_PUSH_MESSAGE)
    if channels:
        push["channels"] = list(channels)
    if redirection:
        push["redirection"] = redirection
    return push


# ----------------------------------------------------------------------------------------- a stall
def format_minutes(seconds: float) -> str:
    """``20 min``, ``1h 05m`` (``45s`` under a minute): how long nothing moved."""
    if seconds < 60:
        return format_duration(seconds)
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 60 else format_duration(minutes * 60.0)


def percent_text(state: Mapping[str, Any]) -> str | None:
    """Where a content state stands: ``47 %``, ``step 2 of 5``, or None."""
    pct = state.get("percentage")
    if isinstance(pct, (int, float)) and not isinstance(pct, bool) and math.isfinite(pct):
        return f"{pct:.0f} %"
    steps, current = state.get("number_of_steps"), state.get("current_step")
    if isinstance(steps, int) and isinstance(current, int):
        return f"step {current} of {steps}"
    return None


def stall_subtitle(stalled_for: float, state: Mapping[str, Any]) -> str:
    """``⚠️ No progress for 20 min · stuck at 47 %``."""
    where = percent_text(state)
    return truncate(f"⚠️ No progress for {format_minutes(stalled_for)}" + (f" · stuck at {where}" if where else ""),
                    MAX_SUBTITLE)


def stall_push_title(title: str, stalled_for: float, state: Mapping[str, Any]) -> str:
    """``⚠️ Training has made no progress for 20 min — stuck at 47 %``."""
    where = percent_text(state)
    return truncate(f"⚠️ {title} has made no progress for {format_minutes(stalled_for)}"
                    + (f" — stuck at {where}" if where else ""), MAX_PUSH_TITLE)

"""Payload -> self-contained HTML that looks like the iOS Lock Screen.

Pure functions over plain dicts (no IPython, no ipywidgets): the Composer shows them in a widget and
the simulator's page shows them in a browser. Rendering never raises on a half-typed or invalid
payload (it shows what it can); checking payloads is `payloads.validate`'s job, not this module's.

Every piece of user text goes through `html.escape`; the CSS is scoped under the ``asj-preview``
class so it cannot restyle the page it is embedded in. Remote media/icons are never loaded (the
preview shows their kind and file name), so rendering works offline and leaks nothing.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "COLOR_HEX",
    "SCOPE_CLASS",
    "STYLE",
    "render_live_activity",
    "render_lock_screen",
    "render_notification",
]

SCOPE_CLASS = "asj-preview"

# Display colours for the API's ten colour names (iOS system colours, dark appearance).
COLOR_HEX: dict[str, str] = {
    "lime": "#a6e22e",
    "green": "#30d158",
    "cyan": "#64d2ff",
    "blue": "#0a84ff",
    "purple": "#bf5af2",
    "magenta": "#ff2d95",
    "red": "#ff453a",
    "orange": "#ff9f0a",
    "yellow": "#ffd60a",
    "gray": "#8e8e93",
}
_DEFAULT_ACCENT = "#0a84ff"

# A few common SF Symbols drawn as close glyphs; anything else shows its first letter.
_SYMBOL_GLYPHS: dict[str, str] = {
    "checkmark": "✓", "checkmark.circle": "✓", "checkmark.circle.fill": "✓", "checkmark.seal.fill": "✓",
    "xmark": "✕", "xmark.circle": "✕", "xmark.circle.fill": "✕", "xmark.octagon.fill": "✕",
    "exclamationmark.triangle": "⚠", "exclamationmark.triangle.fill": "⚠", "exclamationmark.circle.fill": "!",
    "bell": "🔔", "bell.fill": "🔔", "flame": "🔥", "flame.fill": "🔥", "bolt": "⚡", "bolt.fill": "⚡",
    "clock": "◷", "clock.fill": "◷", "timer": "◷", "hourglass": "⌛", "cpu": "▦", "server.rack": "▤",
    "arrow.up.circle.fill": "↑", "arrow.down.circle.fill": "↓", "arrow.clockwise": "↻", "star.fill": "★",
    "heart.fill": "♥", "cart.fill": "🛒", "shippingbox.fill": "📦", "chart.bar.fill": "▮", "brain": "🧠",
}

STYLE = """
.asj-preview{all:initial;display:block;font-family:-apple-system,BlinkMacSystemFont,"SF Pro Text","Helvetica Neue",Helvetica,Arial,sans-serif;color:#fff;line-height:1.3;font-size:14px;}
.asj-preview *{box-sizing:border-box;}
.asj-preview .asj-screen{max-width:390px;padding:14px 12px 18px;border-radius:34px;background:radial-gradient(120% 80% at 30% 0%,#3a3f6b 0%,#1b1d33 45%,#0b0b12 100%);}
.asj-preview .asj-compact{padding:14px 10px 4px;border-radius:26px;}
.asj-preview .asj-clock{text-align:center;margin:6px 0 14px;}
.asj-preview .asj-date{font-size:15px;font-weight:600;color:rgba(255,255,255,.85);}
.asj-preview .asj-time{font-size:64px;font-weight:700;letter-spacing:-1px;line-height:1;}
.asj-preview .asj-section{font-size:12px;color:rgba(255,255,255,.6);margin:12px 6px 6px;text-transform:uppercase;letter-spacing:.04em;}
.asj-preview .asj-empty{font-size:13px;color:rgba(255,255,255,.5);margin:4px 8px;}
.asj-preview .asj-card{max-width:370px;margin:0 0 10px;padding:12px 14px;border-radius:22px;background:rgba(28,28,34,.86);box-shadow:0 1px 0 rgba(255,255,255,.06) inset;color:#fff;}
.asj-preview .asj-row{display:flex;align-items:center;gap:10px;}
.asj-preview .asj-grow{flex:1;min-width:0;}
.asj-preview .asj-app{font-size:12px;color:rgba(255,255,255,.6);text-transform:uppercase;letter-spacing:.03em;display:flex;gap:6px;align-items:center;margin-bottom:4px;}
.asj-preview .asj-appicon{width:20px;height:20px;border-radius:5px;background:linear-gradient(135deg,#5e5ce6,#0a84ff);display:inline-flex;align-items:center;justify-content:center;font-size:11px;font-weight:700;color:#fff;}
.asj-preview .asj-when{margin-left:auto;text-transform:none;}
.asj-preview .asj-level{font-size:11px;font-weight:600;color:#ff9f0a;text-transform:uppercase;}
.asj-preview .asj-title{font-weight:600;font-size:15px;overflow-wrap:anywhere;}
.asj-preview .asj-subtitle{font-weight:500;font-size:14px;color:rgba(255,255,255,.9);overflow-wrap:anywhere;}
.asj-preview .asj-message{font-size:14px;color:rgba(255,255,255,.85);white-space:pre-wrap;overflow-wrap:anywhere;}
.asj-preview .asj-avatar{width:38px;height:38px;border-radius:9px;background:#3a3a44;display:flex;align-items:center;justify-content:center;font-size:10px;color:rgba(255,255,255,.7);flex:none;}
.asj-preview .asj-media{margin-top:8px;height:64px;border-radius:12px;background:linear-gradient(135deg,#2c2c36,#3d3d4a);display:flex;align-items:center;gap:10px;padding:0 12px;font-size:13px;color:rgba(255,255,255,.8);overflow:hidden;}
.asj-preview .asj-media-kind{font-size:22px;}
.asj-preview .asj-link{margin-top:6px;font-size:12px;color:rgba(255,255,255,.55);overflow-wrap:anywhere;}
.asj-preview .asj-actions{margin-top:8px;display:flex;flex-direction:column;gap:4px;}
.asj-preview .asj-actions.asj-inline{flex-direction:row;}
.asj-preview .asj-button{flex:1;display:flex;align-items:center;justify-content:center;gap:6px;padding:7px 10px;border-radius:12px;background:rgba(255,255,255,.12);font-size:13px;font-weight:600;color:#fff;overflow-wrap:anywhere;text-align:center;}
.asj-preview .asj-button-kind{font-size:11px;font-weight:400;opacity:.7;}
.asj-preview .asj-icon{width:34px;height:34px;border-radius:50%;display:flex;align-items:center;justify-content:center;font-size:17px;font-weight:700;flex:none;color:#fff;}
.asj-preview .asj-badge{display:inline-block;padding:2px 8px;border-radius:999px;font-size:11px;font-weight:700;color:#000;white-space:nowrap;}
.asj-preview .asj-bar{height:8px;border-radius:4px;background:rgba(255,255,255,.16);overflow:hidden;margin-top:8px;}
.asj-preview .asj-fill{height:100%;border-radius:4px;}
.asj-preview .asj-progress-label{display:flex;justify-content:space-between;font-size:12px;color:rgba(255,255,255,.7);margin-top:4px;}
.asj-preview .asj-segments{display:flex;gap:4px;margin-top:8px;}
.asj-preview .asj-segment{flex:1;height:8px;border-radius:4px;background:rgba(255,255,255,.16);}
.asj-preview .asj-metric{margin-top:8px;}
.asj-preview .asj-metric-head{display:flex;justify-content:space-between;font-size:12px;color:rgba(255,255,255,.75);}
.asj-preview .asj-metric-value{font-weight:700;color:#fff;}
.asj-preview .asj-stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(76px,1fr));gap:8px;margin-top:8px;}
.asj-preview .asj-stat{background:rgba(255,255,255,.07);border-radius:12px;padding:6px 8px;}
.asj-preview .asj-stat-label{font-size:11px;color:rgba(255,255,255,.6);overflow-wrap:anywhere;}
.asj-preview .asj-stat-value{font-size:17px;font-weight:700;overflow-wrap:anywhere;}
.asj-preview .asj-value{font-size:34px;font-weight:700;letter-spacing:-.5px;margin-top:6px;overflow-wrap:anywhere;}
.asj-preview .asj-timer{font-size:34px;font-weight:700;font-variant-numeric:tabular-nums;margin-top:6px;}
.asj-preview .asj-timer-note{font-size:12px;color:rgba(255,255,255,.6);}
.asj-preview .asj-ended{opacity:.62;}
.asj-preview .asj-state{font-size:11px;font-weight:600;color:rgba(255,255,255,.6);text-transform:uppercase;}
.asj-preview .asj-alert-extra{margin-top:6px;font-size:12px;color:rgba(255,255,255,.7);}
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _color(name: Any, default: str = _DEFAULT_ACCENT) -> str:
    return COLOR_HEX.get(name, default) if isinstance(name, str) else default


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _fmt_number(value: Any) -> str:
    num = _number(value)
    if num is None:
        return str(value)
    return str(int(num)) if num.is_integer() and abs(num) < 1e15 else f"{num:g}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _wrap(inner: str, *, with_style: bool, wallpaper: bool = False) -> str:
    style = f"<style>{STYLE}</style>" if with_style else ""
    if wallpaper:
        inner = f'<div class="asj-screen asj-compact">{inner}</div>'
    return f'<div class="{SCOPE_CLASS}">{style}{inner}</div>'


# ---------------------------------------------------------------------------------------- pieces
def _icon(icon: Any, *, fallback_color: str = "#3a3a44") -> str:
    icon = _mapping(icon)
    symbol = icon.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        return ""
    glyph = _SYMBOL_GLYPHS.get(symbol, symbol[:1].upper())
    bg = _color(icon.get("color"), fallback_color)
    return (f'<div class="asj-icon" data-symbol="{_e(symbol)}" title="{_e(symbol)}" '
            f'style="background:{bg}">{_e(glyph)}</div>')


def _badge(badge: Any) -> str:
    badge = _mapping(badge)
    title = badge.get("title")
    if title is None or title == "":
        return ""
    bg = _color(badge.get("color"), "#ffd60a")
    return f'<span class="asj-badge" style="background:{bg}">{_e(title)}</span>'


def _button(action: Any, role: str, tint: str | None = None) -> str:
    action = _mapping(action)
    if not action:
        return ""
    kind = action.get("type")
    hint = {"open_url": "↗", "webhook": "⚡"}.get(kind, "")
    method = action.get("method")
    if kind == "webhook":
        hint += f" {method or 'POST'}"
    style = f' style="background:{tint}"' if tint else ""
    return (f'<div class="asj-button asj-{role}" data-type="{_e(kind)}" data-url="{_e(action.get("url"))}"{style}>'
            f'<span>{_e(action.get("title"))}</span><span class="asj-button-kind">{_e(hint.strip())}</span></div>')


def _media_kind(url: str) -> tuple[str, str]:
    path = urlsplit(url).path.lower()
    ext = path.rsplit(".", 1)[-1] if "." in path else ""
    if ext in {"mp3", "m4a", "wav", "aac", "caf", "ogg", "flac"}:
        return "audio", "♫"
    if ext in {"mp4", "mov", "m4v", "webm", "avi"}:
        return "video", "▶"
    return "image", "🖼"


# ---------------------------------------------------------------------------------- notification
def render_notification(request: Mapping[str, Any] | None, *, when: str = "now", with_style: bool = True,
                        wallpaper: bool = False) -> str:
    """A push-notification body (as sent to POST /push-notification) as a Lock Screen banner.

    ``wallpaper=True`` puts the banner on a dark Lock Screen backdrop (as the Composer shows it).
    """
    req = _mapping(request)
    icon = req.get("icon")
    avatar = ""
    if isinstance(icon, str) and icon:
        avatar = f'<div class="asj-avatar" data-icon="{_e(icon)}" title="{_e(icon)}">icon</div>'
    level = req.get("interruption_level")
    level_html = ""
    if level in ("time-sensitive", "passive"):
        level_html = f'<span class="asj-level">{_e("Time Sensitive" if level == "time-sensitive" else "Passive")}</span>'
    parts = [
        f'<div class="asj-app"><span class="asj-appicon">A</span>ActivitySmith{level_html}'
        f'<span class="asj-when">{_e(when)}</span></div>',
        f'<div class="asj-row">{avatar}<div class="asj-grow">',
        f'<div class="asj-title">{_e(req.get("title"))}</div>',
    ]
    if req.get("subtitle"):
        parts.append(f'<div class="asj-subtitle">{_e(req["subtitle"])}</div>')
    if req.get("message"):
        parts.append(f'<div class="asj-message">{_e(req["message"])}</div>')
    parts.append("</div></div>")
    media = req.get("media")
    if isinstance(media, str) and media:
        kind, glyph = _media_kind(media)
        name = urlsplit(media).path.rsplit("/", 1)[-1] or media
        parts.append(f'<div class="asj-media" data-kind="{kind}" data-url="{_e(media)}">'
                     f'<span class="asj-media-kind">{glyph}</span><span>{_e(kind)} · {_e(name)}</span></div>')
    redirection = req.get("redirection")
    if isinstance(redirection, str) and redirection:
        parts.append(f'<div class="asj-link asj-redirection" data-url="{_e(redirection)}">Opens {_e(redirection)}</div>')
    actions = [_button(a, "action") for a in _items(req.get("actions"))]
    if any(actions):
        parts.append(f'<div class="asj-actions">{"".join(actions)}</div>')
    inner = f'<div class="asj-card asj-notification">{"".join(parts)}</div>'
    return _wrap(inner, with_style=with_style, wallpaper=wallpaper)


# --------------------------------------------------------------------------------- live activity
def _progress_fraction(cs: Mapping[str, Any]) -> tuple[float | None, str]:
    pct = _number(cs.get("percentage"))
    if pct is not None:  # percentage wins over value/upper_limit
        return max(0.0, min(pct, 100.0)) / 100.0, f"{_fmt_number(pct)}%"
    value, upper = _number(cs.get("value")), _number(cs.get("upper_limit"))
    if value is not None and upper:
        return max(0.0, min(value / upper, 1.0)), f"{_fmt_number(value)} / {_fmt_number(upper)}"
    return None, ""


def _bar(fraction: float | None, color: str) -> str:
    width = 0.0 if fraction is None else fraction * 100
    return f'<div class="asj-bar"><div class="asj-fill" style="width:{width:.1f}%;background:{color}"></div></div>'


def _body_progress(cs: Mapping[str, Any], accent: str) -> str:
    fraction, label = _progress_fraction(cs)
    # the rounded percent only next to a value/upper_limit label: "41.2%" needs no "41%" beside it
    pct = "" if fraction is None or _number(cs.get("percentage")) is not None else f"{round(fraction * 100)}%"
    return _bar(fraction, accent) + (f'<div class="asj-progress-label"><span>{_e(label)}</span>'
                                     f'<span>{_e(pct)}</span></div>')


def _body_segments(cs: Mapping[str, Any], accent: str) -> str:
    steps = cs.get("number_of_steps")
    current = cs.get("current_step")
    n = steps if isinstance(steps, int) and not isinstance(steps, bool) and 0 < steps <= 50 else 0
    done = current if isinstance(current, int) and not isinstance(current, bool) and current >= 0 else 0
    step_colors = _items(cs.get("step_colors"))
    segs = []
    for i in range(n):
        color = "rgba(255,255,255,.16)"
        if i < done:
            color = accent
            if i < len(step_colors):
                color = _color(step_colors[i], accent)
            elif i == done - 1 and cs.get("step_color"):
                color = _color(cs.get("step_color"), accent)
        segs.append(f'<div class="asj-segment" data-done="{str(i < done).lower()}" style="background:{color}"></div>')
    label = f"Step {_fmt_number(current)} of {_fmt_number(steps)}" if steps is not None else ""
    return (f'<div class="asj-segments">{"".join(segs)}</div>'
            f'<div class="asj-progress-label"><span>{_e(label)}</span></div>')


def _body_metrics(cs: Mapping[str, Any], accent: str) -> str:
    metrics = [_mapping(m) for m in _items(cs.get("metrics"))]
    nums = [_number(m.get("value")) for m in metrics]
    scale = max([100.0] + [n for n in nums if n is not None])
    out = []
    for m, num in zip(metrics, nums):
        color = _color(m.get("color"), accent)
        unit = m.get("unit")
        frac = None if num is None else max(0.0, min(num / (100.0 if unit == "%" else scale), 1.0))
        out.append(f'<div class="asj-metric"><div class="asj-metric-head"><span class="asj-metric-label">{_e(m.get("label"))}</span>'
                   f'<span class="asj-metric-value">{_e(_fmt_number(m.get("value")))}{_e(unit or "")}</span></div>'
                   f'{_bar(frac, color)}</div>')
    return "".join(out)


def _body_stats(cs: Mapping[str, Any], accent: str) -> str:
    cells = []
    for m in (_mapping(m) for m in _items(cs.get("metrics"))):
        color = _color(m.get("color"), "#fff")
        cells.append(f'<div class="asj-stat"><div class="asj-stat-label">{_e(m.get("label"))}</div>'
                     f'<div class="asj-stat-value" style="color:{color}">{_e(_fmt_number(m.get("value")))}'
                     f'{_e(m.get("unit") or "")}</div></div>')
    return f'<div class="asj-stats">{"".join(cells)}</div>'


def _body_value(cs: Mapping[str, Any], accent: str) -> str:
    value = cs.get("value")
    text = value if isinstance(value, str) else _fmt_number(value) if value is not None else ""
    return f'<div class="asj-value" style="color:{accent}">{_e(text)}</div>'


def _clock_text(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _body_timer(cs: Mapping[str, Any], accent: str) -> str:
    duration = _number(cs.get("duration_seconds"))
    counts_down = cs.get("counts_down", True) is not False
    running = cs.get("is_running", True) is not False
    shown = duration if (counts_down and duration is not None) else 0.0
    note = ("counts down" if counts_down else "elapsed") + ("" if running else " · paused")
    return (f'<div class="asj-timer" data-running="{str(running).lower()}" style="color:{accent}">{_clock_text(shown or 0)}</div>'
            f'<div class="asj-timer-note">{_e(note)}</div>')


def _body_alert(cs: Mapping[str, Any], accent: str) -> str:
    return ""  # message is shown in the header for alerts


_Body = Callable[[Mapping[str, Any], str], str]
_BODIES: dict[str, _Body] = {
    "progress": _body_progress,
    "segmented_progress": _body_segments,
    "metrics": _body_metrics,
    "stats": _body_stats,
    "value": _body_value,
    "timer": _body_timer,
    "alert": _body_alert,
}


def render_live_activity(
    content_state_or_request: Mapping[str, Any] | None,
    *,
    ended: bool = False,
    action: Mapping[str, Any] | None = None,
    secondary_action: Mapping[str, Any] | None = None,
    alert: Mapping[str, Any] | None = None,
    with_style: bool = True,
    wallpaper: bool = False,
) -> str:
    """A Live Activity on the Lock Screen.

    Accepts a content_state dict, or a whole request body (start / stream / update / end) whose
    ``content_state``, ``action``, ``secondary_action`` and ``alert`` are used.
    """
    data = _mapping(content_state_or_request)
    if "content_state" in data:
        cs = _mapping(data.get("content_state"))
        action = action if action is not None else data.get("action")
        secondary_action = secondary_action if secondary_action is not None else data.get("secondary_action")
        alert = alert if alert is not None else data.get("alert")
    else:
        cs = data
    kind_value = cs.get("type")
    kind = kind_value if isinstance(kind_value, str) else ""
    accent = _color(cs.get("color"))
    head = [_icon(cs.get("icon"), fallback_color=accent if kind != "alert" else "#3a3a44"),
            '<div class="asj-grow">', f'<div class="asj-title">{_e(cs.get("title"))}</div>']
    if cs.get("subtitle"):
        head.append(f'<div class="asj-subtitle">{_e(cs["subtitle"])}</div>')
    if cs.get("message"):
        head.append(f'<div class="asj-message">{_e(cs["message"])}</div>')
    head.append("</div>")
    badge = _badge(cs.get("badge"))
    state = '<span class="asj-state">Ended</span>' if ended else ""
    if badge or state:
        head.append(f'<div style="display:flex;flex-direction:column;align-items:flex-end;gap:4px">{badge}{state}</div>')
    body = _BODIES[kind](cs, accent) if kind in _BODIES else ""
    color = cs.get("color")
    tint = COLOR_HEX.get(color) if kind == "alert" and isinstance(color, str) else None
    buttons = [_button(action, "action", tint), _button(secondary_action, "secondary-action", tint)]
    buttons_html = f'<div class="asj-actions asj-inline">{"".join(buttons)}</div>' if any(buttons) else ""
    alert_map = _mapping(alert)
    alert_html = ""
    if alert_map.get("title") or alert_map.get("body"):
        alert_html = (f'<div class="asj-alert-extra">🔔 {_e(alert_map.get("title") or "")}'
                      f'{" — " if alert_map.get("title") and alert_map.get("body") else ""}{_e(alert_map.get("body") or "")}</div>')
    classes = "asj-card asj-activity" + (" asj-ended" if ended else "")
    inner = (f'<div class="{classes}" data-type="{_e(kind)}" data-state="{"ended" if ended else "active"}">'
             f'<div class="asj-row">{"".join(head)}</div>{body}{buttons_html}{alert_html}</div>')
    return _wrap(inner, with_style=with_style, wallpaper=wallpaper)


# ----------------------------------------------------------------------------------- lock screen
def _clock_of(stamp: Any) -> str:
    """"2026-11-26T03:52:00.104Z" -> "03:52" (UTC, as recorded); anything else -> ""."""
    if isinstance(stamp, str) and len(stamp) >= 16 and stamp[10] == "T":
        return stamp[11:16]
    return ""


def render_lock_screen(
    activities: Iterable[Mapping[str, Any]],
    notifications: Iterable[Mapping[str, Any]],
    *,
    time_text: str = "9:41",
    date_text: str = "Simulated iPhone",
) -> str:
    """The whole Lock Screen: Live Activities (as in `Simulator.lock_screen()`) then notifications.

    ``activities`` items are lock-screen records ({"content_state", "action", "secondary_action",
    "state", ...}) or bare content states; ``notifications`` items are history records
    ({"request", "notification_id", "replaced", ...}) or bare push bodies. Newest notification first.
    """
    acts = []
    for rec in activities:
        rec = _mapping(rec)
        # a record reads like a request body (content_state, action, secondary_action); its alert was a
        # one-off banner when the update arrived, so the card does not keep showing it
        html_ = render_live_activity(rec, ended=rec.get("state") == "ended", alert={}, with_style=False)
        key = rec.get("stream_key") or rec.get("activity_id") or ""
        acts.append(f'<div class="asj-slot" data-key="{_e(key)}">{html_}</div>')
    notes = []
    for rec in reversed(list(notifications)):
        rec = _mapping(rec)
        request = rec.get("request") if "request" in rec else rec
        when = _clock_of(rec.get("time")) or "now"
        if rec.get("replaced"):
            when += " · replaced"
        notes.append(f'<div class="asj-slot" data-id="{_e(rec.get("notification_id") or "")}">'
                     f'{render_notification(_mapping(request), when=when, with_style=False)}</div>')
    inner = (
        '<div class="asj-screen">'
        f'<div class="asj-clock"><div class="asj-date">{_e(date_text)}</div><div class="asj-time">{_e(time_text)}</div></div>'
        '<div class="asj-section">Live Activities</div>'
        f'{"".join(acts) or "<div class=asj-empty>No Live Activities</div>"}'
        '<div class="asj-section">Notifications</div>'
        f'{"".join(notes) or "<div class=asj-empty>No notifications</div>"}'
        "</div>"
    )
    return _wrap(inner, with_style=True)

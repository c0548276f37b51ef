"""The Composer's HTML snippets (pure; no ipywidgets): inline errors, headings, the JSON and Python
views, the problem list and the last send's result. Every piece of text goes through `html.escape`."""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import Problem

__all__ = ["code_html", "error_html", "heading_html", "json_html", "problems_html", "result_html"]

_RED, _GREEN = "#d32f2f", "#2e7d32"
# The facts of a successful answer worth showing, in this order.
_RESULT_FACTS = ("notification_id", "operation", "activity_id", "stream_key", "devices_notified", "warning", "errors",
                 "message")


def error_html(message: str | None) -> str:
    """A field's inline error ("" when there is none)."""
    return f'<span style="color:{_RED}">⚠ {html.escape(message)}</span>' if message else ""


def heading_html(text: str) -> str:
    return f"<b>{html.escape(text)}</b>"


def json_html(text: str) -> str:
    return f'<pre class="asj-json-text" style="margin:0;white-space:pre-wrap">{html.escape(text)}</pre>'


def code_html(text: str) -> str:
    return f'<pre class="asj-code-text" style="margin:0;white-space:pre;overflow-x:auto">{html.escape(text)}</pre>'


def _items(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in pairs)


def problems_html(problems: list[Problem]) -> str:
    if not problems:
        return f'<div class="asj-ok" style="color:{_GREEN}">✓ no problems</div>'
    items = _items((p.path or "(body)", p.message) for p in problems)
    return (f'<div style="color:{_RED}"><b>{len(problems)} problem{"s" if len(problems) != 1 else ""}</b>'
            f'<ul class="asj-problem-list" style="margin:2px 0">{items}</ul></div>')


def result_html(result: Mapping[str, Any]) -> str:
    """``{'ok', 'call', 'response' | 'error'}`` (the Composer's ``result`` trait) as HTML."""
    call = html.escape(str(result["call"]))
    if result["ok"]:
        data = result["response"]
        lines = _items((k, str(data[k])) for k in _RESULT_FACTS if data.get(k) not in (None, [], ""))
        return (f'<div class="asj-result-ok" style="color:{_GREEN}"><b>✓ {call} '
                f'succeeded</b><ul style="margin:2px 0">{lines}</ul></div>')
    error = result["error"]
    if "problems" in error:
        detail = _items((p, m) for p, m in error["problems"])
        text = f"not sent: {len(error['problems'])} problem(s)<ul style='margin:2px 0'>{detail}</ul>"
    else:
        parts = [str(error.get(k)) for k in ("status", "code", "message") if error.get(k) is not None]
        text = html.escape(f"{error['type']}: " + " · ".join(parts))
    return f'<div class="asj-result-error" style="color:{_RED}"><b>✗ {call}</b> {text}</div>'

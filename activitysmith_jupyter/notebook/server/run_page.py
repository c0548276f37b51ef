"""The run page's HTML: title, state, elapsed time and, while the run is live, a Stop button.

Pure (no tornado): the handler passes the record, what it knows of the kernel and the XSRF form field.
The page shows what the Lock Screen already shows (the run's title) and nothing of the notebook: no
code, no output, no variable, no key. Every text is escaped; no script, no remote resource.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from ...hub.run_records import RunRecord
from ...hub.wording import OUTCOME_WORDS, STOP_RUN, format_clock, format_duration

__all__ = ["ALREADY_ENDED", "PageView", "STOPPED", "STOP_SENT", "render_run_page"]

ALREADY_ENDED = "This run has already ended: there is nothing to stop."
STOP_SENT = "Stop sent: the kernel is being interrupted."
STOPPED = "Stop sent: the run has ended."

_CSS = """
html,body{margin:0;background:#101014;color:#f2f2f7;font-family:-apple-system,BlinkMacSystemFont,"Helvetica Neue",Helvetica,Arial,sans-serif;}
main{max-width:460px;margin:0 auto;padding:28px 20px 40px;}
.app{font-size:13px;color:#8e8e93;text-transform:uppercase;letter-spacing:.05em;margin:0 0 10px;}
h1{font-size:26px;line-height:1.2;margin:0 0 14px;overflow-wrap:anywhere;}
.state{display:inline-block;padding:4px 12px;border-radius:999px;font-weight:600;font-size:15px;background:#2c2c34;}
.state.running{background:#0a84ff;color:#fff;}
.facts{color:#c7c7cc;font-size:16px;margin:14px 0 22px;}
.notice{background:#2c2c34;border-radius:14px;padding:12px 14px;margin:0 0 20px;font-size:15px;}
button.stop{width:100%;padding:16px;border:0;border-radius:16px;background:#ff453a;color:#fff;font-size:19px;font-weight:700;}
.hint{color:#8e8e93;font-size:13px;margin-top:14px;}
a{color:#64d2ff;}
"""


@dataclass(frozen=True)
class PageView:
    """What the page shows about one run."""

    record: RunRecord
    live: bool  # its kernel still runs it: the Stop button is shown
    now: float  # time.time()
    notice: str | None = None


def _state_word(view: PageView) -> str:
    if view.live:
        return "Running"
    outcome = view.record.outcome
    return OUTCOME_WORDS[outcome][0] if outcome is not None and outcome in OUTCOME_WORDS else "Ended"


def _facts(view: PageView) -> str:
    record = view.record
    started = f"started {format_clock(record.started, view.now)}"
    if view.live:
        return f"Running for {format_duration(view.now - record.started)} · {started}"
    if record.ended is not None:
        return f"Ran {format_duration(record.ended - record.started)} · {started}"
    return started


def render_run_page(view: PageView, *, action: str, xsrf_form_html: str) -> str:
    """The whole page; `action` is the page's own path (the form posts back to it)."""
    e = html.escape
    title = e(view.record.title)
    state = _state_word(view)
    notice = view.notice or ("" if view.live else ALREADY_ENDED)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{title} · ActivitySmith</title><style>{_CSS}</style></head><body><main>",
        "<p class='app'>ActivitySmith · Jupyter</p>",
        f"<h1 id='run-title'>{title}</h1>",
        f"<span id='run-state' class='state{' running' if view.live else ''}'>{e(state)}</span>",
        f"<p id='run-elapsed' class='facts'>{e(_facts(view))}</p>",
    ]
    if notice:
        parts.append(f"<p id='run-notice' class='notice'>{e(notice)}</p>")
    if view.live:
        parts.append(f"<form method='post' action='{e(action)}'>{xsrf_form_html}"
                     f"<button id='run-stop' class='stop' type='submit'>{e(STOP_RUN)}</button></form>"
                     "<p class='hint'>Stop interrupts the kernel, as JupyterLab's Interrupt button does; "
                     "the cell ends as interrupted.</p>")
    parts.append(f"<p class='hint'><a href='{e(action)}'>Reload</a></p></main></body></html>")
    return "".join(parts)

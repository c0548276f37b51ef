"""The simulator's web page (GET "/"): the simulated iPhone's Lock Screen, live.

The page is rendered with `preview.render_lock_screen` (the same HTML the Composer previews) from a
`StateView` (anything with `snapshot()`); `page_response` answers the page's two routes for the server
and the in-process transport, so `Simulator.handle` only ever sees API requests.
A few lines of JavaScript poll ``/_sim/state`` about once a second and, when the state changed,
fetch ``/`` again and swap the phone and the event log in place, so one renderer serves both the
first load and every update. The page never contains the API key (the state has none).
As on a phone, an ``open_url`` button of a Live Activity or a notification, and a tap on a notification
with a ``redirection``, open their URL (http(s) only, in a new tab): a notebook's "Open notebook" and
"Stop" buttons lead to the Jupyter server, so the whole loop can be tried without a phone.
"""
from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .preview import render_lock_screen
from .backend import StateView
from .records import SimResponse, json_response
from .routes import split_path

__all__ = ["PAGE_PATHS", "POLL_INTERVAL_MS", "page_response", "render_page"]

PAGE_PATHS = ("/", "/_sim/state")  # with or without the /api prefix; GET only, no key needed

POLL_INTERVAL_MS = 1000
_MAX_EVENTS = 60

_PAGE_CSS = """
html,body{margin:0;background:#101014;color:#e8e8ee;font-family:-apple-system,BlinkMacSystemFont,"Helvetica Neue",Helvetica,Arial,sans-serif;}
header{padding:14px 22px;border-bottom:1px solid #24242c;display:flex;align-items:baseline;gap:16px;}
header h1{font-size:18px;margin:0;font-weight:600;}
#asj-status{font-size:12px;color:#8e8e93;}
#asj-status.asj-live::before{content:"● ";color:#30d158;}
#asj-status.asj-offline::before{content:"● ";color:#ff453a;}
main{display:flex;flex-wrap:wrap;gap:28px;padding:22px;}
#asj-phone{width:400px;flex:none;}
#asj-side{flex:1;min-width:300px;font-size:13px;}
#asj-side h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:#8e8e93;margin:0 0 8px;}
#asj-side .asj-facts{margin:0 0 18px;color:#c7c7cc;}
#asj-events ol{list-style:none;margin:0;padding:0;}
#asj-events li{padding:5px 0;border-bottom:1px solid #202027;display:flex;gap:10px;}
#asj-events time{color:#8e8e93;font-variant-numeric:tabular-nums;flex:none;}
#asj-events .kind{color:#64d2ff;flex:none;width:70px;}
a{color:#64d2ff;}
#asj-phone .asj-button[data-type="open_url"],#asj-phone .asj-notification:has(.asj-redirection){cursor:pointer;}
#asj-phone .asj-button[data-type="open_url"]:hover{filter:brightness(1.3);}
"""

# a tap opens the URL, as iOS does (not %-formatted: no interval in it)
_TAPS = r"""
document.addEventListener('click', function (event) {
  var target = event.target.closest('#asj-phone .asj-button, #asj-phone .asj-notification');
  if (!target) { return; }
  var url = null;
  if (target.classList.contains('asj-button')) {
    url = target.getAttribute('data-type') === 'open_url' ? target.getAttribute('data-url') : null;
  } else {
    var link = target.querySelector('.asj-redirection');
    url = link ? link.getAttribute('data-url') : null;
  }
  if (url && /^https?:\/\//i.test(url)) { window.open(url, '_blank', 'noopener'); }
});
"""

_SCRIPT = """
(function () {
  var last = null, status = document.getElementById('asj-status');
  function mark(ok, text) { status.className = ok ? 'asj-live' : 'asj-offline'; status.textContent = text; }
  async function tick() {
    try {
      var snapshot = await (await fetch('/_sim/state', {cache: 'no-store'})).json();
      delete snapshot.now;  // changes every poll; re-render only when the phone changed
      var state = JSON.stringify(snapshot);
      if (state !== last) {
        var page = await (await fetch('/', {cache: 'no-store'})).text();
        var doc = new DOMParser().parseFromString(page, 'text/html');
        ['asj-phone', 'asj-side'].forEach(function (id) {
          var fresh = doc.getElementById(id);
          if (fresh) { document.getElementById(id).innerHTML = fresh.innerHTML; }
        });
        last = state;
      }
      mark(true, 'live · updated ' + new Date().toLocaleTimeString());
    } catch (err) {
      mark(false, 'simulator not reachable');
    }
    setTimeout(tick, %(interval)d);
  }
  tick();
})();
"""


def _events_html(events: list[Mapping[str, Any]]) -> str:
    items = []
    for event in reversed(events[-_MAX_EVENTS:]):
        stamp = str(event.get("time") or "")
        clock = stamp[11:19] if len(stamp) >= 19 else stamp
        items.append(f'<li><time datetime="{html.escape(stamp)}">{html.escape(clock)}</time>'
                     f'<span class="kind">{html.escape(str(event.get("kind", "")))}</span>'
                     f'<span>{html.escape(str(event.get("summary", "")))}</span></li>')
    return f'<ol>{"".join(items)}</ol>' if items else "<p>Nothing yet: send something from a notebook.</p>"


def _facts_html(state: Mapping[str, Any]) -> str:
    facts = [f"App icon badge: {html.escape(str(state.get('badge') or 0))}"]
    metrics = state.get("metrics") or {}
    if isinstance(metrics, Mapping) and metrics:
        shown = ", ".join(f"{html.escape(str(k))} = {html.escape(str(_metric_value(v)))}" for k, v in metrics.items())
        facts.append(f"Lock Screen widget metrics: {shown}")
    return "".join(f"<div>{fact}</div>" for fact in facts)


def _metric_value(value: Any) -> Any:
    return value.get("value") if isinstance(value, Mapping) else value


def page_response(source: StateView, method: str, target: str) -> SimResponse | None:
    """The page (GET /) or the state as JSON (GET /_sim/state); None for any other request (an API call)."""
    path = split_path(target)
    if method.upper() != "GET" or path not in PAGE_PATHS:
        return None
    if path == "/_sim/state":
        return json_response(200, source.snapshot())
    return SimResponse(200, {"content-type": "text/html; charset=utf-8"}, render_page(source).encode("utf-8"))


def render_page(source: StateView) -> str:
    """The whole HTML page for the simulated phone's current state."""
    state = source.snapshot()
    phone = render_lock_screen(state.get("lock_screen") or [], state.get("notifications") or [],
                               date_text="ActivitySmith simulator")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>ActivitySmith simulator</title>"
        f"<style>{_PAGE_CSS}</style></head><body>"
        "<header><h1>ActivitySmith simulator</h1><span id='asj-status'>loading…</span>"
        "<a href='/_sim/state'>state as JSON</a></header>"
        f"<main><div id='asj-phone'>{phone}</div>"
        f"<div id='asj-side'><h2>Device</h2><div class='asj-facts'>{_facts_html(state)}</div>"
        f"<h2>Events</h2><div id='asj-events'>{_events_html(list(state.get('events') or []))}</div></div></main>"
        f"<script>{_SCRIPT % {'interval': POLL_INTERVAL_MS}}{_TAPS}</script>"
        "</body></html>"
    )

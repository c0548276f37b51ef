"""How a failed background send is told: one line per kind of failure, naming what failed.

The dispatcher's thread never prints and never uses `warnings` (a warning raised on that thread can only
point at the package's own code or at threading.py, and Python quotes that source line). Every failure is
kept in ``last_error`` and logged to ``logging.getLogger("activitysmith_jupyter")``: the first of each kind
(`Notice.topic`: unreachable, server, refused, auth, slots, internal) at WARNING, which Python shows on
stderr even where logging was never set up; the later ones of that kind, and 429 flow control, at INFO.
Each line names the send (the push's title, or the Live Activity's stream key) and its endpoint.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.endpoints import ENDPOINTS
from ..errors import APIConnectionError, APIError

__all__ = ["describe", "reason", "subject"]

_ENDPOINT_OF = {"update": "stream", "end": "end_stream", "push": "push"}
_WHAT = {"update": "the Live Activity {key!r}", "end": "the end of the Live Activity {key!r}"}
_MAX_TITLE_SHOWN = 60  # a log line, not the phone: enough to recognise the push


def subject(kind: str, key: str | None, body: Mapping[str, Any] | None) -> str:
    """The send, for a person: ``the push "Nightly ETL failed" (POST /push-notification)``,
    ``the Live Activity 'nightly-etl' (PUT /live-activity/stream/nightly-etl)``."""
    endpoint = ENDPOINTS[_ENDPOINT_OF.get(kind, "push")]
    if kind == "push" or key is None:
        title = str(body.get("title") or "") if body else ""
        if len(title) > _MAX_TITLE_SHOWN:
            title = title[:_MAX_TITLE_SHOWN - 1] + "…"
        named = f'the push "{title}"' if title else "a push without a title"
        return f"{named} ({endpoint.method} {endpoint.path()})"
    return f"{_WHAT.get(kind, _WHAT['update']).format(key=key)} ({endpoint.method} {endpoint.path(key)})"

def reason(exc: BaseException) -> str:
    """Why it failed, without repeating the endpoint the subject already names."""
    if isinstance(exc, APIError):
        detail = ": ".join(part.rstrip(".") for part in (exc.error, exc.message) if part)
        return f"HTTP {exc.status}" + (f" ({detail})" if detail else "")
    if isinstance(exc, APIConnectionError):
        return exc.message.rstrip(".")
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def describe(kind: str, key: str | None, body: Mapping[str, Any] | None, exc: BaseException, what: str,
             *, first: bool) -> str:
    """The one line for a failed send; `what` says what happens next. `first`: the first of its kind (the
    line the user sees), which says where the later ones go."""
    later = " (shown once; more like it are logged at INFO)" if first else ""
    return f"activitysmith_jupyter: {subject(kind, key, body)} failed: {reason(exc)}; {what}{later}"

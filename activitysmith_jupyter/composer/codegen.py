"""Copy-pasteable Python that makes the Composer's call with this package (pure; no widgets).

The snippet never contains the API key: `ActivitySmith()` reads ACTIVITYSMITH_API_KEY from the
environment (and falls back to the embedded simulator when it is not set).
"""
from __future__ import annotations

import pprint
from collections.abc import Mapping
from typing import Any

__all__ = ["python_snippet"]

_CALLS = {  # the Composer's two tabs
    "push": ("client.notifications.send(", "response.notification_id"),
    "stream": ("client.live_activities.stream(", "response.operation"),
}


def _literal(value: Any, indent: int) -> str:
    text = pprint.pformat(value, indent=1, width=88 - indent, sort_dicts=False)
    return text.replace("\n", "\n" + " " * indent)


def python_snippet(endpoint: str, body: Mapping[str, Any], *, key: str | None = None) -> str:
    """Python source that sends ``body`` to ``endpoint`` ("push" or "stream"; ``key`` = stream key)."""
    call, result = _CALLS[endpoint]
    args = []
    if endpoint == "stream":
        args.append(repr(key or ""))
    args.append(_literal(dict(body), 4))
    lines = [
        "from activitysmith_jupyter import ActivitySmith",
        "",
        "client = ActivitySmith()  # key from ACTIVITYSMITH_API_KEY (unset: embedded simulator)",
        f"response = {call}",
        *(f"    {arg}," for arg in args),
        ")",
        f"print({result})",
    ]
    return "\n".join(lines) + "\n"

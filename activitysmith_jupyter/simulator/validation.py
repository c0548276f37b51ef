"""Server-side request checks: the project's one rule set (payloads.validate), minus the official SDK's
injected model defaults, which the real API accepts on every type."""
from __future__ import annotations

import copy
from typing import Any

from .. import payloads

__all__ = ["problems", "without_sdk_defaults"]


def without_sdk_defaults(body: dict[str, Any]) -> dict[str, Any]:
    """A copy without what SDK 1.14.0 always adds: counts_down/is_running true in every content_state
    and method "POST" on every action (legacy end's auto_dismiss_minutes is a valid field already)."""
    body = copy.deepcopy(body)
    cs = body.get("content_state")
    if isinstance(cs, dict):
        for name, default in payloads.CONTENT_STATE_DEFAULTS.items():
            if cs.get(name) is default:
                del cs[name]
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    for act in [body.get("action"), body.get("secondary_action"), *actions]:
        if isinstance(act, dict) and act.get("type") == "open_url" and act.get("method") == "POST":
            del act["method"]
    return body


def problems(endpoint: str, body: Any, key: str | None) -> list[str]:
    """Every problem as "path: message" (empty when valid)."""
    if isinstance(body, dict):
        body = without_sdk_defaults(body)
    return [f"{p.path}: {p.message}" if p.path else p.message
            for p in payloads.validate(endpoint, body, key=key)]  # type: ignore[arg-type]

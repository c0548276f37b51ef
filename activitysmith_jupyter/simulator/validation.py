"""Server-side request checks: the project's one rule set (payloads.validate), as the API's 400 text.

The official SDK's injected model defaults (counts_down/is_running true on every type, method "POST"
on open_url actions, auto_dismiss_minutes on legacy end) are valid there, as on the real API."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import payloads
from ..errors import Problem

__all__ = ["describe", "problems"]


def describe(found: Iterable[Problem]) -> list[str]:
    """Problems as "path: message" lines (a body-level problem has no path)."""
    return [f"{p.path}: {p.message}" if p.path else p.message for p in found]


def problems(endpoint: str, body: Any, key: str | None) -> list[str]:
    """Every problem as "path: message" (empty when valid)."""
    return describe(payloads.validate(endpoint, body, key=key))

"""Plain records the simulator keeps: received requests, phone events, activities, responses."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["SimResponse", "RecordedRequest", "Event", "ActivityRecord", "Reply", "iso", "redact_headers", "json_response"]

_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})


def iso(t: float | None) -> str | None:
    """ISO-8601 UTC timestamp with milliseconds and a trailing Z (None stays None)."""
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers with credentials replaced by a fixed mask (for reprs, pages and JSON)."""
    return {k: ("[redacted]" if k in _SECRET_HEADERS else v) for k, v in headers.items()}


@dataclass(frozen=True)
class SimResponse:
    """What the simulator answers; `fault` ("drop"/"refuse") and `delay` tell the wire layer what to do."""

    status: int
    headers: dict[str, str]
    body: bytes
    fault: str | None = None
    delay: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> SimResponse:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return SimResponse(status, {"content-type": "application/json", **(headers or {})}, body)


class Reply(Exception):
    """Raised while handling a request to answer it with an error response instead."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = json_response(status, body, headers)


@dataclass
class RecordedRequest:
    """One request that reached the simulated API. `headers` keys are lowercase; repr never shows secrets."""

    method: str
    path: str
    key: str | None
    json: Any
    headers: dict[str, str] = field(repr=False)
    status: int = 0
    response: dict[str, Any] | None = None
    time: float = 0.0

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, key={self.key!r}, "
            f"status={self.status}, json={self.json!r}, headers={redact_headers(self.headers)!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view without credentials."""
        return {
            "method": self.method, "path": self.path, "key": self.key, "json": self.json,
            "headers": redact_headers(self.headers), "status": self.status,
            "response": self.response, "time": iso(self.time),
        }


@dataclass(frozen=True)
class Event:
    """Something the phone showed: kind in started/updated/rotated/ended/push/replaced/badge/metric."""

    time: float
    kind: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"time": iso(self.time), "kind": self.kind, "summary": self.summary, "data": self.data}


@dataclass
class ActivityRecord:
    """One Live Activity on the simulated phone (stream-managed when `stream_key` is set)."""

    activity_id: str
    stream_key: str | None
    content_state: dict[str, Any]
    started_at: float
    action: dict[str, Any] | None = None
    secondary_action: dict[str, Any] | None = None
    alert: dict[str, Any] | None = None
    channels: list[str] | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    state: str = "active"  # "active" | "ended"
    updates: int = 0
    updated_at: float | None = None
    ended_at: float | None = None
    dismiss_at: float | None = None
    previous_activity_id: str | None = None

    @property
    def type(self) -> str | None:
        return self.content_state.get("type")

    def view(self) -> dict[str, Any]:
        """The lock-screen dict of the contract (JSON-safe)."""
        return {
            "activity_id": self.activity_id, "stream_key": self.stream_key, "state": self.state,
            "content_state": self.content_state, "action": self.action,
            "secondary_action": self.secondary_action, "alert": self.alert, "channels": self.channels,
            "updates": self.updates, "started_at": iso(self.started_at), "updated_at": iso(self.updated_at),
            "ended_at": iso(self.ended_at), "previous_activity_id": self.previous_activity_id,
        }

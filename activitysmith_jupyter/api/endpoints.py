"""The API's endpoints as data: one row per call, carried by every prepared request and every error.

"Safe to repeat" is a property of the endpoint, decided here once: a sent ``POST /push-notification``
or ``POST /live-activity/start`` is never repeated after an ambiguous failure (it would buzz the phone
twice or start a second Live Activity); every other call is idempotent on the server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["ApiEndpoint", "ENDPOINTS", "endpoint_for"]


@dataclass(frozen=True, slots=True)
class ApiEndpoint:
    """One API call: its payload rules (``name``, a ``payloads.ENDPOINTS`` entry), method, path template
    (``{}`` marks the one path parameter), response class name, and whether a repeat is harmless."""

    name: str
    method: str
    template: str
    response_type: str
    repeatable: bool
    key_name: str | None = None  # the path parameter's argument name, for error messages

    def path(self, key: str | None = None) -> str:
        """The path below the base URL, the key percent-encoded (TypeError unless it is a string)."""
        if self.key_name is None:
            return self.template
        if not isinstance(key, str):
            raise TypeError(f"{self.key_name} must be a string, not {type(key).__name__}")
        return self.template.replace("{}", quote(key, safe=""))

    def __repr__(self) -> str:
        return f"ApiEndpoint({self.name!r}, {self.method} {self.template})"


ENDPOINTS: dict[str, ApiEndpoint] = {
    e.name: e
    for e in (
        ApiEndpoint("push", "POST", "/push-notification", "PushNotificationResponse", repeatable=False),
        ApiEndpoint("replace", "PUT", "/push-notification/{}", "PushNotificationReplaceResponse", True,
                    "notification_id"),
        ApiEndpoint("start", "POST", "/live-activity/start", "LiveActivityStartResponse", repeatable=False),
        ApiEndpoint("update", "POST", "/live-activity/update", "LiveActivityUpdateResponse", True),
        ApiEndpoint("end", "POST", "/live-activity/end", "LiveActivityEndResponse", True),
        ApiEndpoint("stream", "PUT", "/live-activity/stream/{}", "LiveActivityStreamPutResponse", True,
                    "stream_key"),
        ApiEndpoint("end_stream", "DELETE", "/live-activity/stream/{}", "LiveActivityStreamDeleteResponse", True,
                    "stream_key"),
        ApiEndpoint("metric", "POST", "/metrics/{}/value", "MetricValueUpdateResponse", True, "key"),
        ApiEndpoint("badge", "POST", "/badge", "AppIconBadgeCountUpdateResponse", True),
    )
}

_PATTERNS: list[tuple[ApiEndpoint, re.Pattern[str]]] = [
    (e, re.compile("^" + re.escape(e.template).replace(r"\{\}", "[^/]+") + "$")) for e in ENDPOINTS.values()
]


def endpoint_for(method: str, path: str) -> ApiEndpoint | None:
    """The endpoint a (method, path) pair calls (query string ignored), or None for an unknown one."""
    method, path = method.upper(), path.split("?", 1)[0]
    for endpoint, pattern in _PATTERNS:
        if endpoint.method == method and pattern.match(path):
            return endpoint
    return None

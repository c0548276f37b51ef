"""Everything both clients decide, as plain functions with no I/O.

`build_*` turn a call (dict request and/or keyword fields) into a `PreparedRequest` whose body went
through `payloads.prepare` (PayloadError before anything is sent). `after_response` and
`after_failure` decide what an answer or a transport failure means: a response object, one more
attempt after a delay (`Retry`), or an exception. The sync and async clients only move bytes.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from . import payloads
from ._retry import Failure, classify_failure, is_retryable, parse_retry_after, retry_delay
from .errors import APIConnectionError, APIError, APITimeoutError, LiveActivityLimitError, error_for_status
from .responses import APIObject, response_object

__all__ = [
    "PreparedRequest",
    "Retry",
    "after_failure",
    "after_response",
    "build_badge",
    "build_end",
    "build_end_stream",
    "build_metric",
    "build_push",
    "build_replace",
    "build_start",
    "build_stream",
    "build_update",
    "connection_error",
    "encode_json",
]

logger = logging.getLogger("activitysmith_jupyter")


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """One validated API call, ready to send (and, if allowed, to send again)."""

    method: str
    path: str  # below the base URL, path parameters already percent-encoded
    body: dict[str, Any] | None  # the JSON that goes on the wire (None: no body)
    content: bytes | None
    response_type: str  # responses.RESPONSE_FIELDS key


@dataclass(frozen=True, slots=True)
class Retry:
    """Send the same request again after `delay` seconds."""

    delay: float
    reason: str


# ---------------------------------------------------------------------------------------- requests


# Bodies come from payloads.prepare, which refuses anything that is not plain JSON (NaN included),
# so the encoder needs no `default=` hook.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (the SDK's `json.dumps` output parses to the same value)."""
    return _ENCODER.encode(body).encode("utf-8")


def _segment(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    return quote(value, safe="")


def _prepared(method: str, path: str, body: dict[str, Any] | None, response_type: str) -> PreparedRequest:
    content = encode_json(body) if body is not None else None
    return PreparedRequest(method, path, body, content, response_type)


def build_push(request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("push", request, **(fields or {}))
    return _prepared("POST", "/push-notification", body, "PushNotificationResponse")


def build_replace(notification_id: str, request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("replace", request, key=notification_id, **(fields or {}))
    path = f"/push-notification/{_segment(notification_id, 'notification_id')}"
    return _prepared("PUT", path, body, "PushNotificationReplaceResponse")


def build_start(request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("start", request, **(fields or {}))
    return _prepared("POST", "/live-activity/start", body, "LiveActivityStartResponse")


def build_update(request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("update", request, **(fields or {}))
    return _prepared("POST", "/live-activity/update", body, "LiveActivityUpdateResponse")


def build_end(request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("end", request, **(fields or {}))
    return _prepared("POST", "/live-activity/end", body, "LiveActivityEndResponse")


def build_stream(stream_key: str, request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("stream", request, key=stream_key, **(fields or {}))
    path = f"/live-activity/stream/{_segment(stream_key, 'stream_key')}"
    return _prepared("PUT", path, body, "LiveActivityStreamPutResponse")


def build_end_stream(stream_key: str, request: Any = None, fields: Mapping[str, Any] | None = None) -> PreparedRequest:
    body = payloads.prepare("end_stream", request, key=stream_key, **(fields or {}))
    path = f"/live-activity/stream/{_segment(stream_key, 'stream_key')}"
    # No request at all: a bodyless DELETE ends the stream with its latest state (like the SDK).
    return _prepared("DELETE", path, body or None, "LiveActivityStreamDeleteResponse")


def build_metric(key: str, value_or_request: Any, timestamp: Any = None) -> PreparedRequest:
    body = payloads.prepare("metric", value_or_request, key=key, timestamp=timestamp)
    path = f"/metrics/{_segment(key, 'key')}/value"
    return _prepared("POST", path, body, "MetricValueUpdateResponse")


def build_badge(value: Any, *, channels: Any = None) -> PreparedRequest:
    body = payloads.prepare("badge", value, channels=channels)
    return _prepared("POST", "/badge", body, "AppIconBadgeCountUpdateResponse")


# ------------------------------------------------------------------------------------ responses


def after_response(
    prepared: PreparedRequest,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    attempt: int,
    max_retries: int,
    now: float,
    rng: Callable[[], float],
) -> APIObject | Retry:
    """A decoded response object, a `Retry`, or raises the APIError for this answer."""
    if 200 <= status < 300:
        return _decode_success(prepared, status, content)
    retry_after_header = headers.get("retry-after")
    error = error_for_status(
        status,
        content,
        method=prepared.method,
        path=prepared.path,
        retry_after=parse_retry_after(retry_after_header, now=now),
    )
    if attempt < max_retries and is_retryable(
        prepared.method,
        prepared.path,
        status=status,
        live_activity_limit=isinstance(error, LiveActivityLimitError),
    ):
        return Retry(retry_delay(attempt, retry_after_header, now=now, rng=rng), f"HTTP {status}")
    raise error


def _decode_success(prepared: PreparedRequest, status: int, content: bytes) -> APIObject:
    try:
        data = json.loads(content) if content.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise APIError(
            status,
            error="invalid_response",
            message=f"the server answered {status} with a body that is not a JSON object "
            f"({len(content)} bytes); the request may have taken effect",
            method=prepared.method,
            path=prepared.path,
        )
    return response_object(prepared.response_type, data)


def after_failure(
    prepared: PreparedRequest,
    exc: Exception,
    *,
    attempt: int,
    max_retries: int,
    now: float,
    rng: Callable[[], float],
) -> Retry:
    """A `Retry` after a transport failure, or raises APIConnectionError / APITimeoutError."""
    failure = classify_failure(exc)
    if attempt < max_retries and is_retryable(prepared.method, prepared.path, failure=failure):
        return Retry(retry_delay(attempt, None, now=now, rng=rng), _describe(failure, exc))
    raise connection_error(prepared, exc, failure) from exc


def connection_error(prepared: PreparedRequest, exc: Exception, failure: Failure) -> APIConnectionError:
    """The exception the caller sees for a transport failure (never includes request headers)."""
    where = {"method": prepared.method, "path": prepared.path}
    if failure is Failure.NOT_SENT and not isinstance(exc, httpx.PoolTimeout):
        return APIConnectionError(f"Could not connect to the ActivitySmith API ({type(exc).__name__}); "
                                  "the request was not sent.", **where)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__}).", **where)
    if failure is Failure.DROPPED:
        return APIConnectionError(f"The connection dropped before an answer ({type(exc).__name__}); "
                                  "the request may have taken effect.", **where)
    return APIConnectionError(f"Connection error ({type(exc).__name__}).", **where)


def _describe(failure: Failure, exc: Exception) -> str:
    return f"{failure.value} ({type(exc).__name__})"

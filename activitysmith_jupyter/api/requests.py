"""Everything both clients decide, as plain functions with no I/O.

`build` turns a call (endpoint name, dict request and/or keyword fields, path key) into a
`PreparedRequest` that carries its `ApiEndpoint` and a body that went through `payloads.prepare`
(PayloadError before anything is sent). `after_response` and `after_failure` decide what an answer or a
transport failure means: a response object, one more attempt after a delay (`Retry`), or an exception.
The sync and async clients only move bytes.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import payloads
from .connection import import_httpx
from .endpoints import ENDPOINTS, ApiEndpoint
from .retry import Failure, classify_failure, parse_retry_after, retry_delay, should_retry
from ..errors import APIConnectionError, APIError, APITimeoutError, LiveActivityLimitError, error_for_status
from ..responses import APIObject, response_object

__all__ = [
    "PreparedRequest",
    "Retry",
    "after_failure",
    "after_response",
    "build",
    "connection_error",
    "encode_json",
]


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """One validated API call, ready to send (and, if its endpoint allows, to send again)."""

    endpoint: ApiEndpoint
    path: str  # below the base URL, the path parameter already percent-encoded
    body: dict[str, Any] | None  # the JSON that goes on the wire (None: no body)
    content: bytes | None

    @property
    def method(self) -> str:
        return self.endpoint.method


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


def build(name: str, request: Any = None, fields: Mapping[str, Any] | None = None, *,
          key: str | None = None) -> PreparedRequest:
    """The prepared call to endpoint `name` (an `ENDPOINTS` key); `key` fills the path parameter
    (notification id, stream key, metric key). The body is validated before the path is built."""
    endpoint = ENDPOINTS[name]
    body: dict[str, Any] | None = payloads.prepare(name, request, key=key, **(fields or {}))
    if name == "end_stream" and not body:
        body = None  # no request at all: a bodyless DELETE ends the stream with its latest state (like the SDK)
    content = encode_json(body) if body is not None else None
    return PreparedRequest(endpoint, endpoint.path(key), body, content)


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
        endpoint=prepared.endpoint,
        path=prepared.path,
        headers=headers,
        retry_after=parse_retry_after(retry_after_header, now=now),
    )
    if attempt < max_retries and should_retry(
        prepared.endpoint,
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
            body=content.decode("utf-8", "replace"),
            endpoint=prepared.endpoint,
            path=prepared.path,
        )
    return response_object(prepared.endpoint.response_type, data)


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
    if attempt < max_retries and should_retry(prepared.endpoint, failure=failure):
        return Retry(retry_delay(attempt, None, now=now, rng=rng), _describe(failure, exc))
    raise connection_error(prepared, exc, failure) from exc


def connection_error(prepared: PreparedRequest, exc: Exception, failure: Failure) -> APIConnectionError:
    """The exception the caller sees for a transport failure (never includes request headers)."""
    name = type(exc).__name__
    httpx = import_httpx()  # already imported: it raised `exc`
    cls: type[APIConnectionError] = APIConnectionError
    if failure is Failure.NOT_SENT and not isinstance(exc, httpx.PoolTimeout):
        text = f"Could not connect to the ActivitySmith API ({name}); the request was not sent."
    elif isinstance(exc, httpx.TimeoutException):
        cls, text = APITimeoutError, f"Request timed out ({name})."
    elif failure is Failure.DROPPED:
        text = f"The connection dropped before an answer ({name}); the request may have taken effect."
    else:
        text = f"Connection error ({name})."
    return cls(text, endpoint=prepared.endpoint, path=prepared.path)


def _describe(failure: Failure, exc: Exception) -> str:
    return f"{failure.value} ({type(exc).__name__})"

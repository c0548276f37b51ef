"""Exceptions: one root, and the one place that maps an HTTP status to an exception class.

Nothing here ever stores or prints request headers: an error carries the status, the response (its
raw text, the decoded JSON, its headers minus any credential-bearing ones) and the endpoint, so no
``Authorization`` header or API key can leak into a repr, a log line or a traceback.

The official SDK's exception names (``ApiException``, ``NotFoundException`` …) are aliases of the
classes here, and every `APIError` has the SDK's reading attributes: ``status``, ``reason``, ``body``
(raw text), ``data`` (the parsed error, ``e.data.message``), ``headers``.
"""
from __future__ import annotations

import http
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .responses import APIObject, response_object

if TYPE_CHECKING:
    import httpx

    from .api.endpoints import ApiEndpoint

__all__ = [
    "ActivitySmithError",
    "Problem",
    "PayloadError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "BillingError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "NoRecipientsError",
    "RateLimitError",
    "LiveActivityLimitError",
    "ServerError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "error_for_status",
    # the official SDK's names (activitysmith_openapi.exceptions), mapped onto this tree
    "ApiException",
    "BadRequestException",
    "UnauthorizedException",
    "ForbiddenException",
    "NotFoundException",
    "ServiceException",
]

# Response headers never kept on an error (they can carry credentials).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class ActivitySmithError(Exception):
    """Root of every exception raised by activitysmith_jupyter."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (``content_state.metrics[3].value``) and what is allowed."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PayloadError(ActivitySmithError, ValueError):
    """A request was refused before sending; ``.problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem] | Problem | str, *, endpoint: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.endpoint = endpoint
        super().__init__(self._render())

    def _render(self) -> str:
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        where = f" in the {self.endpoint} request" if self.endpoint else ""
        return f"{len(lines)} problems{where}:\n" + "\n".join(f"  {line}" for line in lines)

    def __str__(self) -> str:
        return self._render()

    def __repr__(self) -> str:
        return f"PayloadError({self.problems!r})"


class APIError(ActivitySmithError):
    """The API answered with a non-2xx status.

    ``status``, ``reason`` (the status phrase), ``body`` (the response text), ``data`` (the JSON error
    object as an `APIObject`, or None), ``headers`` (response headers, case-insensitive, credentials
    removed), ``error``/``message`` (the JSON's fields), ``endpoint`` and ``method``/``path`` (the call).
    """

    def __init__(
        self,
        status: int,
        *,
        error: str | None = None,
        message: str | None = None,
        body: str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: httpx.Headers | None = None,
        endpoint: ApiEndpoint | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.body = body
        self._json: dict[str, Any] | None = dict(data) if data is not None else None
        self.headers = headers
        self.endpoint = endpoint
        self.method = method or (endpoint.method if endpoint else "")
        self.path = path
        self.retry_after = retry_after
        super().__init__(self.__str__())

    @property
    def reason(self) -> str:
        """The status's reason phrase (``"Not Found"``), like the SDK's ``ApiException.reason``."""
        try:
            return http.HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def data(self) -> APIObject | None:
        """The decoded JSON error object (``e.data.message``), or None when the body was not one."""
        return None if self._json is None else response_object("APIErrorBody", self._json)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.path) if part)
        head = f"HTTP {self.status}" + (f" on {where}" if where else "")
        detail = ": ".join(part for part in (self.error, self.message) if part)
        return f"{head}: {detail}" if detail else head

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, error={self.error!r}, "
            f"message={self.message!r}, method={self.method!r}, path={self.path!r})"
        )


class BadRequestError(APIError):
    """400: the server refused the request body."""


class AuthenticationError(APIError):
    """401: missing or invalid API key."""


class BillingError(APIError):
    """402: trial expired/exhausted or overage cap reached; ``.upgrade_url`` says where to fix it."""

    @property
    def upgrade_url(self) -> str | None:
        value = (self._json or {}).get("upgrade_url")
        return value if isinstance(value, str) else None


class PermissionDeniedError(APIError):
    """403: e.g. a channel outside the key's scope."""


class NotFoundError(APIError):
    """404: unknown notification id, stream key or metric key."""


class ConflictError(APIError):
    """409: the notification cannot be replaced."""


class NoRecipientsError(APIError):
    """422: nobody to deliver to."""


class RateLimitError(APIError):
    """429: too many requests; ``.retry_after`` (seconds) is whatever the caller parsed, or None."""


class LiveActivityLimitError(RateLimitError):
    """429 with ``limit``/``active``: too many concurrent Live Activities on a device."""

    @property
    def limit(self) -> int | None:
        return _int_or_none((self._json or {}).get("limit"))

    @property
    def active(self) -> int | None:
        return _int_or_none((self._json or {}).get("active"))

    @property
    def blocked_devices(self) -> int | None:
        return _int_or_none((self._json or {}).get("blocked_devices"))

    @property
    def targeted_devices(self) -> int | None:
        return _int_or_none((self._json or {}).get("targeted_devices"))


class ServerError(APIError):
    """5xx: the server failed."""


InternalServerError = ServerError  # anthropic-style alias

# The official SDK's exception names: `except NotFoundException:` works after changing the import.
ApiException = APIError
BadRequestException = BadRequestError
UnauthorizedException = AuthenticationError
ForbiddenException = PermissionDeniedError
NotFoundException = NotFoundError
ServiceException = ServerError


class APIConnectionError(ActivitySmithError):
    """The request never reached the server, or the connection dropped before an answer."""

    def __init__(self, message: str = "Connection error.", *, method: str = "", path: str = "",
                 endpoint: ApiEndpoint | None = None) -> None:
        self.message = message
        self.endpoint = endpoint
        self.method = method or (endpoint.method if endpoint else "")
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.path) if part)
        return f"{self.message} ({where})" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, method={self.method!r}, path={self.path!r})"


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""

    def __init__(self, message: str = "Request timed out.", *, method: str = "", path: str = "",
                 endpoint: ApiEndpoint | None = None) -> None:
        super().__init__(message, method=method, path=path, endpoint=endpoint)


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: BillingError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: NoRecipientsError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    body: Mapping[str, Any] | bytes | str | None,
    *,
    endpoint: ApiEndpoint | None = None,
    method: str = "",
    path: str = "",
    headers: Mapping[str, str] | httpx.Headers | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Build the exception for a non-2xx answer. ``body`` may be raw bytes/text or decoded JSON.

    ``headers`` (the *response* headers) are kept without Authorization/Cookie/Set-Cookie;
    ``retry_after`` is stored as given (parsing Retry-After is the client's job).
    """
    text = _text(body)
    data = dict(body) if isinstance(body, Mapping) else _decode_json(text)
    cls = _class_for(status, data)
    error = data.get("error") if data else None
    message = data.get("message") if data else None
    return cls(
        status,
        error=error if isinstance(error, str) else None,
        message=message if isinstance(message, str) else None,
        body=text,
        data=data,
        headers=_safe_headers(headers),
        endpoint=endpoint,
        method=method,
        path=path,
        retry_after=retry_after,
    )


def _class_for(status: int, data: dict[str, Any] | None) -> type[APIError]:
    if status == 429 and data and ("limit" in data or "active" in data):
        return LiveActivityLimitError
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, APIError)


def _text(body: Mapping[str, Any] | bytes | str | None) -> str | None:
    if isinstance(body, Mapping):
        return json.dumps(dict(body))
    if isinstance(body, (bytes, bytearray)):
        return bytes(body).decode("utf-8", "replace")
    return body


def _decode_json(text: str | None) -> dict[str, Any] | None:
    if text is None or not text.strip():
        return None
    try:
        decoded = json.loads(text)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _safe_headers(headers: Mapping[str, str] | httpx.Headers | None) -> httpx.Headers | None:
    if headers is None:
        return None
    import httpx  # only on an error answer; the client has imported it already

    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    return httpx.Headers([(k, v) for k, v in items if k.lower() not in _SECRET_HEADERS])


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

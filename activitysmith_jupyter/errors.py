"""Exceptions: one root, and the one place that maps an HTTP status to an exception class.

Nothing here ever stores or prints request headers: an error carries the status, the decoded error
body and the method/path, so no ``Authorization`` header or API key can leak into a repr, a log line
or a traceback.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
]


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
    """The API answered with a non-2xx status."""

    def __init__(
        self,
        status: int,
        *,
        error: str | None = None,
        message: str | None = None,
        body: dict[str, Any] | None = None,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.message = message
        self.body = body
        self.method = method
        self.path = path
        self.retry_after = retry_after
        super().__init__(self.__str__())

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
        value = (self.body or {}).get("upgrade_url")
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
        return _int_or_none((self.body or {}).get("limit"))

    @property
    def active(self) -> int | None:
        return _int_or_none((self.body or {}).get("active"))

    @property
    def blocked_devices(self) -> int | None:
        return _int_or_none((self.body or {}).get("blocked_devices"))

    @property
    def targeted_devices(self) -> int | None:
        return _int_or_none((self.body or {}).get("targeted_devices"))


class ServerError(APIError):
    """5xx: the server failed."""


InternalServerError = ServerError  # anthropic-style alias


class APIConnectionError(ActivitySmithError):
    """The request never reached the server, or the connection dropped before an answer."""

    def __init__(self, message: str = "Connection error.", *, method: str = "", path: str = "") -> None:
        self.message = message
        self.method = method
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        where = " ".join(part for part in (self.method, self.path) if part)
        return f"{self.message} ({where})" if where else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, method={self.method!r}, path={self.path!r})"


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""

    def __init__(self, message: str = "Request timed out.", *, method: str = "", path: str = "") -> None:
        super().__init__(message, method=method, path=path)


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
    method: str = "",
    path: str = "",
    headers: Mapping[str, str] | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Build the exception for a non-2xx answer. ``body`` may be raw bytes/text or decoded JSON.

    ``headers`` (the *response* headers) are accepted for symmetry but never stored; ``retry_after``
    is stored as given (parsing Retry-After is the client's job).
    """
    del headers  # never kept: see module docstring
    data = _decode_body(body)
    cls = _class_for(status, data)
    error = data.get("error") if data else None
    message = data.get("message") if data else None
    return cls(
        status,
        error=error if isinstance(error, str) else None,
        message=message if isinstance(message, str) else None,
        body=data,
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


def _decode_body(body: Mapping[str, Any] | bytes | str | None) -> dict[str, Any] | None:
    if isinstance(body, Mapping):
        return dict(body)
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str) and body.strip():
        try:
            decoded = json.loads(body)
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

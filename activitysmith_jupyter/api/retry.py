"""Retry policy as pure functions: what may be repeated, and how long to wait first.

A request that never reached the server (connection refused, connect timeout) is always safe to
retry. Anything the server may have acted on is retried only when its endpoint says repeating it is
harmless (`ApiEndpoint.repeatable`): a sent ``POST /push-notification`` or ``POST /live-activity/start``
is never repeated (it would buzz the phone twice or start a second Live Activity).
"""
from __future__ import annotations

import email.utils
import enum
import math
from collections.abc import Callable

from .connection import import_httpx
from .endpoints import ApiEndpoint, endpoint_for

__all__ = [
    "exponential_backoff",
    "DEFAULT_MAX_RETRIES",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "Failure",
    "classify_failure",
    "is_retryable",
    "parse_retry_after",
    "retry_delay",
    "safe_to_repeat",
    "should_retry",
]

DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds, doubled per attempt
MAX_RETRY_DELAY = 8.0  # cap of the exponential backoff
MAX_RETRY_AFTER = 60.0  # cap of a server-requested Retry-After


class Failure(enum.Enum):
    """How a request failed without an HTTP response."""

    NOT_SENT = "not_sent"  # never reached the server: always safe to retry
    DROPPED = "dropped"  # connection broke after sending began: the server may have acted
    TIMEOUT = "timeout"  # no answer in time: the server may have acted
    OTHER = "other"  # a local/protocol problem retrying will not fix


def classify_failure(exc: BaseException) -> Failure:
    """Map an httpx transport exception to a `Failure` (no I/O)."""
    httpx = import_httpx()  # already imported: it raised `exc`
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Failure.NOT_SENT
    if isinstance(exc, httpx.TimeoutException):
        return Failure.TIMEOUT
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return Failure.DROPPED
    return Failure.OTHER


def should_retry(
    endpoint: ApiEndpoint | None,
    *,
    status: int | None = None,
    failure: Failure | None = None,
    live_activity_limit: bool = False,
) -> bool:
    """Whether one more attempt at a call to `endpoint` is allowed, given a response `status` or a
    `failure` (an unknown endpoint, None, counts as repeatable).

    `live_activity_limit`: the 429 is the device's Live Activity cap, which waiting does not lift.
    """
    if failure is Failure.NOT_SENT:
        return True
    if endpoint is not None and not endpoint.repeatable:
        return False
    if failure is not None:
        return failure in (Failure.DROPPED, Failure.TIMEOUT)
    if status is None:
        return False
    if status == 429:
        return not live_activity_limit
    return status == 408 or status >= 500


def safe_to_repeat(method: str, path: str) -> bool:
    """False for the two requests that must never be sent twice (looked up in the endpoint table)."""
    endpoint = endpoint_for(method, path)
    return endpoint is None or endpoint.repeatable


def is_retryable(
    method: str,
    path: str,
    *,
    status: int | None = None,
    failure: Failure | None = None,
    live_activity_limit: bool = False,
) -> bool:
    """`should_retry` for a (method, path) pair; prefer `should_retry(error.endpoint, ...)`."""
    return should_retry(endpoint_for(method, path), status=status, failure=failure,
                        live_activity_limit=live_activity_limit)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:  # RFC 9110 dates are always GMT
            return None
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def retry_delay(
    attempt: int,
    retry_after_header: str | None,
    *,
    now: float,
    rng: Callable[[], float],
) -> float:
    """Seconds to sleep before retry number `attempt` (0 = the first retry).

    The server's Retry-After wins (capped at MAX_RETRY_AFTER); otherwise exponential backoff from
    INITIAL_RETRY_DELAY, capped at MAX_RETRY_DELAY, minus up to 25 % jitter (`rng()` in [0, 1)).
    """
    requested = parse_retry_after(retry_after_header, now=now)
    if requested is not None:
        return min(requested, MAX_RETRY_AFTER)
    return exponential_backoff(attempt, base=INITIAL_RETRY_DELAY, cap=MAX_RETRY_DELAY) * (1.0 - 0.25 * rng())


def exponential_backoff(attempt: int, *, base: float, cap: float) -> float:
    """``base * 2**attempt``, at most `cap` (for any attempt: 2.0 ** 1024 would overflow)."""
    return min(base * 2.0 ** min(max(0, attempt), 32), cap)

"""The retry policy's pure functions, tested directly (no client, no clock)."""
from __future__ import annotations

import email.utils

import httpx
import pytest

from activitysmith_jupyter.api.retry import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    Failure,
    classify_failure,
    is_retryable,
    parse_retry_after,
    retry_delay,
    safe_to_repeat,
)

NOW = 1_790_000_000.0
REQUEST = httpx.Request("POST", "https://activitysmith.com/api/push-notification")


def no_jitter() -> float:
    return 0.0


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (30, 8.0)],
    ids=["first", "second", "third", "fourth", "reaches-cap", "stays-capped", "huge-attempt"],
)
def test_backoff_doubles_from_half_a_second_up_to_the_cap(attempt: int, expected: float) -> None:
    assert retry_delay(attempt, None, now=NOW, rng=no_jitter) == expected


def test_backoff_stays_capped_after_a_thousand_retries() -> None:
    # a client with max_retries=10_000 ("keep trying") reaches attempts where 2.0 ** attempt overflows
    assert retry_delay(1024, None, now=NOW, rng=no_jitter) == MAX_RETRY_DELAY
    assert retry_delay(10**6, None, now=NOW, rng=no_jitter) == MAX_RETRY_DELAY


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 6])
def test_jitter_shortens_backoff_by_at_most_a_quarter(attempt: int) -> None:
    full = min(INITIAL_RETRY_DELAY * 2**attempt, MAX_RETRY_DELAY)
    assert retry_delay(attempt, None, now=NOW, rng=lambda: 0.999999) == pytest.approx(full * 0.75, rel=1e-5)
    assert retry_delay(attempt, None, now=NOW, rng=lambda: 0.5) == pytest.approx(full * 0.875)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("1.5", 1.5), (" 3 ", 3.0), ("120", MAX_RETRY_AFTER), ("-4", 0.0)],
    ids=["seconds", "zero", "fractional", "whitespace", "capped", "negative-means-now"],
)
def test_retry_after_seconds_win_over_backoff(header: str, expected: float) -> None:
    assert retry_delay(3, header, now=NOW, rng=no_jitter) == expected


def test_retry_after_http_date_is_measured_from_now() -> None:
    header = email.utils.formatdate(NOW + 12, usegmt=True)
    assert retry_delay(0, header, now=NOW, rng=no_jitter) == pytest.approx(12.0)


def test_retry_after_http_date_in_the_past_means_no_wait() -> None:
    header = email.utils.formatdate(NOW - 30, usegmt=True)
    assert retry_delay(0, header, now=NOW, rng=no_jitter) == 0.0


def test_retry_after_http_date_far_ahead_is_capped() -> None:
    header = email.utils.formatdate(NOW + 3600, usegmt=True)
    assert retry_delay(0, header, now=NOW, rng=no_jitter) == MAX_RETRY_AFTER


@pytest.mark.parametrize("header", ["soon", "", "nan", "Mon, 99 Foo 2026 99:99:99 GMT"],
                         ids=["word", "empty", "nan", "broken-date"])
def test_unusable_retry_after_falls_back_to_backoff(header: str) -> None:
    assert parse_retry_after(header, now=NOW) is None
    assert retry_delay(1, header, now=NOW, rng=no_jitter) == 1.0


@pytest.mark.parametrize(
    ("method", "path", "safe"),
    [
        ("POST", "/push-notification", False),
        ("POST", "/live-activity/start", False),
        ("post", "/live-activity/start?x=1", False),
        ("PUT", "/push-notification/ntf_1", True),
        ("PUT", "/live-activity/stream/job", True),
        ("DELETE", "/live-activity/stream/job", True),
        ("POST", "/live-activity/update", True),
        ("POST", "/live-activity/end", True),
        ("POST", "/metrics/deploy.rate/value", True),
        ("POST", "/badge", True),
    ],
    ids=["push", "start", "start-lowercase-query", "replace", "stream", "end-stream", "update", "end", "metric",
         "badge"],
)
def test_only_push_and_start_are_unsafe_to_repeat(method: str, path: str, safe: bool) -> None:
    assert safe_to_repeat(method, path) is safe


@pytest.mark.parametrize(("method", "path"), [("POST", "/push-notification"), ("POST", "/live-activity/start"),
                                              ("PUT", "/live-activity/stream/job")], ids=["push", "start", "stream"])
def test_a_request_that_never_reached_the_server_is_always_retryable(method: str, path: str) -> None:
    assert is_retryable(method, path, failure=Failure.NOT_SENT)


@pytest.mark.parametrize("failure", [Failure.DROPPED, Failure.TIMEOUT], ids=["dropped", "timeout"])
@pytest.mark.parametrize(("method", "path"), [("POST", "/push-notification"), ("POST", "/live-activity/start")],
                         ids=["push", "start"])
def test_a_sent_push_or_start_is_never_retried_after_a_failure(method: str, path: str, failure: Failure) -> None:
    assert not is_retryable(method, path, failure=failure)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize(("method", "path"), [("POST", "/push-notification"), ("POST", "/live-activity/start")],
                         ids=["push", "start"])
def test_a_sent_push_or_start_is_never_retried_after_an_answer(method: str, path: str, status: int) -> None:
    assert not is_retryable(method, path, status=status)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_throttling_and_server_errors_are_retried_when_safe(status: int) -> None:
    assert is_retryable("PUT", "/live-activity/stream/job", status=status)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not is_retryable("PUT", "/live-activity/stream/job", status=status)


def test_the_live_activity_limit_is_not_retried() -> None:
    assert not is_retryable("PUT", "/live-activity/stream/job", status=429, live_activity_limit=True)


@pytest.mark.parametrize("failure", [Failure.DROPPED, Failure.TIMEOUT], ids=["dropped", "timeout"])
def test_dropped_and_timed_out_requests_are_retried_when_safe(failure: Failure) -> None:
    assert is_retryable("DELETE", "/live-activity/stream/job", failure=failure)


def test_other_transport_failures_are_not_retried() -> None:
    assert not is_retryable("PUT", "/live-activity/stream/job", failure=Failure.OTHER)


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (httpx.ConnectError("refused", request=REQUEST), Failure.NOT_SENT),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), Failure.NOT_SENT),
        (httpx.PoolTimeout("pool", request=REQUEST), Failure.NOT_SENT),
        (httpx.ReadTimeout("slow", request=REQUEST), Failure.TIMEOUT),
        (httpx.WriteTimeout("slow", request=REQUEST), Failure.TIMEOUT),
        (httpx.RemoteProtocolError("closed", request=REQUEST), Failure.DROPPED),
        (httpx.ReadError("reset", request=REQUEST), Failure.DROPPED),
        (httpx.WriteError("broken pipe", request=REQUEST), Failure.DROPPED),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), Failure.OTHER),
    ],
    ids=["connect-error", "connect-timeout", "pool-timeout", "read-timeout", "write-timeout", "remote-protocol",
         "read-error", "write-error", "unsupported-protocol"],
)
def test_transport_exceptions_are_classified(exc: Exception, failure: Failure) -> None:
    assert classify_failure(exc) is failure


@pytest.mark.parametrize(("attempt", "expected"), [(0, 1.0), (3, 8.0), (5, 30.0), (1024, 30.0), (10**9, 30.0)],
                         ids=["first", "doubling", "capped", "past-float-range", "huge"])
def test_exponential_backoff_is_capped_for_any_attempt(attempt, expected) -> None:
    # the dispatcher retries terminal sends for as long as it takes: attempts grow without bound
    from activitysmith_jupyter.api.retry import exponential_backoff

    assert exponential_backoff(attempt, base=1.0, cap=30.0) == expected

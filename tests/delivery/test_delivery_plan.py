"""The dispatcher's decision after a failed send (`_delivery.plan_failure`), tested directly: no I/O."""
from __future__ import annotations

import httpx
import pytest

from activitysmith_jupyter.delivery.resend import LIVE_ACTIVITY_LIMIT_BACKOFF, MAX_BACKOFF, Verdict, plan_failure
from activitysmith_jupyter.api.retry import MAX_RETRY_AFTER
from activitysmith_jupyter.errors import (APIConnectionError, APIError, APITimeoutError, error_for_status)


def api_error(status: int, *, retry_after: float | None = None, body: bytes = b"") -> APIError:
    return error_for_status(status, body or b'{"error": "x", "message": "y"}', method="POST",
                            path="/push-notification", retry_after=retry_after)


def connection_error(cause: Exception) -> APIConnectionError:
    try:
        raise APIConnectionError("connection failed") from cause
    except APIConnectionError as exc:
        return exc


REQUEST = httpx.Request("POST", "http://127.0.0.1/push-notification")
LIMIT = b'{"error": "live_activity_limit", "message": "full", "limit": 4, "active": 4}'

CASES = {
    "500": ("push", api_error(500), Verdict.RETRY, True),
    "502": ("end", api_error(502), Verdict.RETRY, True),
    "503": ("update", api_error(503), Verdict.RETRY, True),
    "408": ("push", api_error(408), Verdict.RETRY, True),
    "400": ("push", api_error(400), Verdict.GIVE_UP, True),
    "403": ("update", api_error(403), Verdict.GIVE_UP, True),
    "422": ("push", api_error(422), Verdict.GIVE_UP, True),
    "401": ("end", api_error(401), Verdict.STOP, True),
    "404-first-end": ("end", api_error(404), Verdict.GIVE_UP, True),
    "200-unreadable": ("push", APIError(200, error="invalid_response", message="x"), Verdict.DELIVERED, True),
    "dropped": ("push", connection_error(httpx.RemoteProtocolError("gone", request=REQUEST)), Verdict.RETRY, True),
    "read-timeout": ("push", connection_error(httpx.ReadTimeout("slow", request=REQUEST)), Verdict.RETRY, True),
    "refused": ("push", connection_error(httpx.ConnectError("refused", request=REQUEST)), Verdict.RETRY, False),
    "timeout-no-cause": ("end", APITimeoutError(), Verdict.RETRY, True),
    "local-problem": ("push", connection_error(httpx.UnsupportedProtocol("ftp", request=REQUEST)),
                      Verdict.GIVE_UP, False),
    "start-device-full": ("update", api_error(429, body=LIMIT), Verdict.WAIT_FOR_SLOT, True),
    "internal-bug": ("push", ZeroDivisionError("bug"), Verdict.GIVE_UP, False),
}


@pytest.mark.parametrize(("kind", "exc", "verdict", "reached"), CASES.values(), ids=CASES.keys())
def test_plan_after_each_kind_of_failure(kind: str, exc: BaseException, verdict: Verdict, reached: bool) -> None:
    plan = plan_failure(kind, exc, attempts=0, ambiguous=False, throttled=0)
    assert (plan.verdict, plan.reached) == (verdict, reached)


def test_an_end_that_finds_nothing_after_an_ambiguous_attempt_was_delivered() -> None:
    plan = plan_failure("end", api_error(404), attempts=1, ambiguous=True, throttled=0)
    assert plan.verdict is Verdict.DELIVERED


@pytest.mark.parametrize(("retry_after", "throttled", "delay"),
                         [(30.0, 0, 30.0), (0.0, 0, 1.0), (0.0, 3, 8.0), (0.0, 5000, MAX_BACKOFF),
                          (None, 2, 4.0), (10_000.0, 0, MAX_RETRY_AFTER)],
                         ids=["honoured", "zero-backs-off", "storm-doubles", "storm-capped", "no-header",
                              "capped-retry-after"])
def test_a_429_waits_for_retry_after_but_never_less_than_the_storm_backoff(retry_after: float | None, throttled: int,
                                                                          delay: float) -> None:
    plan = plan_failure("push", api_error(429, retry_after=retry_after), attempts=0, ambiguous=False,
                        throttled=throttled)
    assert plan.verdict is Verdict.RETRY and plan.throttled and plan.delay == delay


@pytest.mark.parametrize("attempts", [0, 3, 10_000], ids=["first", "fourth", "ten-thousandth"])
def test_retry_delays_double_up_to_the_cap_without_overflow(attempts: int) -> None:
    assert plan_failure("end", api_error(503), attempts=attempts, ambiguous=True, throttled=0).delay == min(
        2.0 ** attempts if attempts < 64 else MAX_BACKOFF, MAX_BACKOFF)
    slot = plan_failure("update", api_error(429, body=LIMIT), attempts=attempts, ambiguous=False, throttled=0)
    assert LIVE_ACTIVITY_LIMIT_BACKOFF <= slot.delay <= MAX_BACKOFF


@pytest.mark.parametrize(("kind", "exc", "topic", "quiet", "words"), [
    ("end", api_error(401), "auth", False, "API key was refused"),
    ("update", api_error(429, body=LIMIT), "slots", False, "'train' waits"),
    ("push", api_error(429, retry_after=5.0), "throttled", True, "retry in 5 s"),
    ("push", api_error(503), "server", False, "retry in 1 s"),
    ("push", api_error(400), "refused", False, "given up"),
], ids=["401", "device-full", "rate-limited", "503", "400"])
def test_each_plan_is_told_once_per_topic_and_429s_quietly(kind: str, exc: APIError, topic: str, quiet: bool,
                                                           words: str) -> None:
    from activitysmith_jupyter.delivery.resend import notice

    note = notice(plan_failure(kind, exc, attempts=0, ambiguous=False, throttled=0), exc, "train")
    assert (note.topic, note.quiet) == (topic, quiet)
    assert words in note.what

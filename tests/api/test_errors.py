"""errors: one root, one status -> class map, no secrets in any repr or message."""
from __future__ import annotations


import pytest

from activitysmith_jupyter import errors
from activitysmith_jupyter.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ActivitySmithError,
    AuthenticationError,
    BadRequestError,
    BillingError,
    ConflictError,
    LiveActivityLimitError,
    NoRecipientsError,
    NotFoundError,
    PayloadError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    ServerError,
    error_for_status,
)

SECRET = "ask_live_SECRET_0123456789"


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, BadRequestError), (401, AuthenticationError), (402, BillingError), (403, PermissionDeniedError),
        (404, NotFoundError), (409, ConflictError), (422, NoRecipientsError), (429, RateLimitError),
        (500, ServerError), (502, ServerError), (503, ServerError), (418, APIError), (405, APIError), (302, APIError),
    ],
    ids=lambda v: str(v) if isinstance(v, int) else v.__name__,
)
def test_status_maps_to_exactly_one_class(status: int, cls: type) -> None:
    error = error_for_status(status, {"error": "code", "message": "text"}, method="POST", path="/badge")
    assert type(error) is cls
    assert isinstance(error, APIError) and isinstance(error, ActivitySmithError)
    assert (error.status, error.error, error.message, error.method, error.path) == (status, "code", "text", "POST", "/badge")


@pytest.mark.parametrize(
    "body",
    [
        {"error": "live_activity_limit", "message": "Too many", "limit": 4, "active": 4},
        {"error": "x", "limit": 4},
        {"error": "x", "active": 5, "blocked_devices": 1, "targeted_devices": 2},
    ],
    ids=["limit-and-active", "limit-only", "active-only"],
)
def test_429_with_limit_or_active_is_a_live_activity_limit_error(body: dict) -> None:
    error = error_for_status(429, body, method="POST", path="/live-activity/start")
    assert type(error) is LiveActivityLimitError
    assert isinstance(error, RateLimitError)
    assert error.limit == body.get("limit")
    assert error.active == body.get("active")
    assert error.blocked_devices == body.get("blocked_devices")


def test_plain_429_is_a_rate_limit_error_with_the_retry_after_the_caller_gives() -> None:
    error = error_for_status(429, {"error": "rate_limited", "message": "slow down", "code": "rate_limited"},
                             headers={"Retry-After": "7"}, retry_after=7.0)
    assert type(error) is RateLimitError
    assert error.retry_after == 7.0
    assert error_for_status(429, None).retry_after is None


def test_retry_after_is_settable_after_construction() -> None:
    error = error_for_status(503, b"")
    error.retry_after = 2.5
    assert error.retry_after == 2.5


def test_billing_error_exposes_upgrade_url() -> None:
    body = {"error": "trial_expired", "message": "Upgrade", "upgrade_url": "https://activitysmith.com/billing",
            "trial_period": {"started_at": "a", "ends_at": "b"}}
    error = error_for_status(402, body)
    assert isinstance(error, BillingError)
    assert error.upgrade_url == "https://activitysmith.com/billing"
    assert error.data == body
    assert error_for_status(402, {}).upgrade_url is None


@pytest.mark.parametrize(
    "raw,expected_body",
    [
        (b'{"error": "not_found", "message": "no such key"}', {"error": "not_found", "message": "no such key"}),
        ('{"error": "not_found"}', {"error": "not_found"}),
        (b"<html>Bad gateway</html>", None),
        (b"", None),
        (None, None),
        (b"[1, 2]", None),
        (b"\xff\xfe", None),
    ],
    ids=["json-bytes", "json-text", "html", "empty", "none", "json-not-object", "not-utf8"],
)
def test_body_is_decoded_when_it_is_a_json_object(raw, expected_body) -> None:
    error = error_for_status(404, raw)
    assert isinstance(error, NotFoundError)
    assert error.data == expected_body
    assert error.error == (expected_body or {}).get("error")


def test_non_string_error_fields_are_ignored() -> None:
    error = error_for_status(400, {"error": {"nested": True}, "message": 5})
    assert error.error is None and error.message is None


def test_error_text_reads_well() -> None:
    error = error_for_status(403, {"error": "forbidden", "message": "channel ops is outside the key's scope"},
                             method="POST", path="/push-notification")
    assert str(error) == "HTTP 403 on POST /push-notification: forbidden: channel ops is outside the key's scope"
    assert str(error_for_status(500, None)) == "HTTP 500"
    assert repr(error).startswith("PermissionDeniedError(status=403, error='forbidden'")


def test_no_repr_or_message_contains_authorization_or_the_key() -> None:
    headers = {"Authorization": f"Bearer {SECRET}", "Retry-After": "1", "Set-Cookie": f"s={SECRET}"}
    api_error = error_for_status(401, {"error": "unauthorized"}, method="GET", path="/badge", headers=headers)
    connection = APIConnectionError(method="POST", path="/push-notification")
    timeout = APITimeoutError(method="PUT", path="/live-activity/stream/k")
    for error in (api_error, connection, timeout):
        for text in (str(error), repr(error), repr(error.args), repr(vars(error))):
            assert SECRET not in text
            assert "Authorization" not in text and "Bearer" not in text


def test_connection_errors_form_their_own_branch() -> None:
    timeout = APITimeoutError(method="PUT", path="/live-activity/stream/k")
    assert isinstance(timeout, APIConnectionError) and isinstance(timeout, ActivitySmithError)
    assert not isinstance(timeout, APIError)
    assert str(timeout) == "Request timed out. (PUT /live-activity/stream/k)"
    assert str(APIConnectionError()) == "Connection error."


def test_payload_error_is_a_value_error_listing_every_problem() -> None:
    problems = [Problem("title", "is required"), Problem("actions[1].url", "a webhook URL must be https://")]
    error = PayloadError(problems, endpoint="push")
    assert isinstance(error, ValueError) and isinstance(error, ActivitySmithError)
    assert error.problems == problems
    assert str(error) == "2 problems in the push request:\n  title: is required\n  actions[1].url: a webhook URL must be https://"


@pytest.mark.parametrize(
    "given,expected",
    [
        (Problem("badge", "must be an integer 0-2147483647"), "badge: must be an integer 0-2147483647"),
        ("api_key must not be empty", "api_key must not be empty"),
        ([Problem("stream_key", "must be 1-255 characters")], "stream_key: must be 1-255 characters"),
    ],
    ids=["one-problem", "plain-text", "list-of-one"],
)
def test_payload_error_accepts_one_problem_or_text(given, expected: str) -> None:
    error = PayloadError(given)
    assert str(error) == expected
    assert len(error.problems) == 1


def test_problem_is_frozen_and_hashable() -> None:
    problem = Problem("content_state.percentage", "must be a number 0-100")
    with pytest.raises(AttributeError):
        problem.path = "x"  # type: ignore[misc]
    assert {problem, Problem("content_state.percentage", "must be a number 0-100")} == {problem}


def test_every_public_exception_is_exported_and_rooted() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, ActivitySmithError), name
    assert errors.InternalServerError is ServerError

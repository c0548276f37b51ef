"""The endpoint travels with the call: on the prepared request, on every error, and it alone decides
whether a request may be repeated. Also the SDK-style attributes of an error answer."""
from __future__ import annotations

import datetime as dt
import json
import typing

import pytest
from _client_twins import api, call  # noqa: F401  (api is a fixture)

from activitysmith_jupyter.api import requests as rq
from activitysmith_jupyter import responses
from activitysmith_jupyter.api.endpoints import ENDPOINTS, endpoint_for
from activitysmith_jupyter.api.retry import Failure, should_retry
from activitysmith_jupyter.errors import (
    APIConnectionError,
    ApiException,
    NotFoundError,
    RateLimitError,
    ServerError,
    error_for_status,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("name", "key", "method", "path"),
    [("push", None, "POST", "/push-notification"), ("replace", "ntf 1/2", "PUT", "/push-notification/ntf%201%2F2"),
     ("stream", "job", "PUT", "/live-activity/stream/job"), ("end_stream", "job", "DELETE", "/live-activity/stream/job"),
     ("metric", "a.b", "POST", "/metrics/a.b/value"), ("badge", None, "POST", "/badge")],
    ids=["push", "replace-encoded", "stream", "end-stream", "metric", "badge"],
)
def test_a_prepared_request_carries_its_endpoint(name: str, key, method: str, path: str) -> None:
    requests = {"badge": 3, "metric": 1, "end_stream": None,
                "stream": {"content_state": {"title": "T", "type": "progress", "percentage": 1}}}
    prepared = rq.build(name, requests.get(name, {"title": "T"}), key=key)
    assert prepared.endpoint is ENDPOINTS[name]
    assert (prepared.method, prepared.path) == (method, path)
    assert endpoint_for(method, path) is ENDPOINTS[name]


@pytest.mark.parametrize("name", list(ENDPOINTS), ids=list(ENDPOINTS))
def test_only_push_and_start_may_not_be_repeated_after_an_ambiguous_failure(name: str) -> None:
    endpoint = ENDPOINTS[name]
    assert endpoint.repeatable is (name not in ("push", "start"))
    assert should_retry(endpoint, failure=Failure.DROPPED) is endpoint.repeatable
    assert should_retry(endpoint, failure=Failure.NOT_SENT)


async def test_api_errors_carry_the_endpoint_of_the_call(api, sim) -> None:  # noqa: F811
    sim.inject(404, body={"error": "not_found", "message": "no such stream"}, times=1)
    with pytest.raises(NotFoundError) as info:
        await call(api.live_activities.end_stream("gone"))
    error = info.value
    assert error.endpoint is ENDPOINTS["end_stream"]
    assert (error.method, error.path) == ("DELETE", "/live-activity/stream/gone")
    assert should_retry(error.endpoint, status=503)  # what a dispatcher asks, no (method, path) strings


async def test_connection_errors_carry_the_endpoint_too(api, sim) -> None:  # noqa: F811
    sim.inject(drop=True, times=None, path="/push-notification")
    with pytest.raises(APIConnectionError) as info:
        await call(api.notifications.send(title="lost"))
    assert info.value.endpoint is ENDPOINTS["push"]
    assert len(sim.requests) == 1  # a sent push is never repeated


async def test_an_error_answer_reads_like_the_sdks_api_exception(api, sim) -> None:  # noqa: F811
    sim.inject(429, body={"error": "rate_limited", "message": "slow down"}, retry_after=2, times=None)
    with pytest.raises(ApiException) as info:
        await call(api.notifications.send(title="x"))
    error = info.value
    assert isinstance(error, RateLimitError)
    assert (error.status, error.reason) == (429, "Too Many Requests")
    assert json.loads(error.body) == {"error": "rate_limited", "message": "slow down"}
    assert error.data.message == "slow down" and error.data.error == "rate_limited"
    assert error.headers["retry-after"] == error.headers["Retry-After"] == "2"
    assert error.retry_after == 2.0 and error.message == "slow down"


def test_error_headers_keep_no_credentials() -> None:
    error = error_for_status(500, b"oops", headers={"Set-Cookie": "s=1", "Authorization": "Bearer x",
                                                    "X-Request-Id": "r1"})
    assert isinstance(error, ServerError)
    assert dict(error.headers) == {"x-request-id": "r1"}
    assert (error.body, error.data) == ("oops", None)


async def test_each_response_kind_is_a_typed_class_with_aware_timestamps(api) -> None:  # noqa: F811
    r = await call(api.live_activities.stream("typed", title="Job", type="progress", percentage=3))
    assert type(r) is responses.LiveActivityStreamPutResponse
    hints = typing.get_type_hints(responses.LiveActivityStreamPutResponse, vars(responses))
    assert hints["operation"] is str and hints["timestamp"] is dt.datetime
    assert isinstance(r.timestamp, dt.datetime) and r.timestamp.utcoffset() == dt.timedelta(0)
    assert r.model_dump()["timestamp"] == r.timestamp
    assert dict(r)["operation"] == "started" and dict(r)["previous_activity_id"] is None

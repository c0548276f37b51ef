"""Differential test of the *reading* side: SDK code that reads responses (attributes, `to_dict`,
`model_dump`, `to_str`, `dict(resp)`, `timestamp.isoformat()`), exceptions (`status`, `reason`, `body`,
`data.message`, `headers`, the SDK's exception classes) and constants runs against the official SDK
1.14.0 and against the package, both talking to the same loopback simulator server; the results must
agree (ids aside, which the server makes fresh per call). Known, documented differences are asserted
as such (README "Porting from the official SDK").
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

activitysmith = pytest.importorskip("activitysmith")

from activitysmith_openapi import exceptions as sdk_exceptions  # noqa: E402

import activitysmith_jupyter  # noqa: E402
from activitysmith_jupyter import errors as our_exceptions  # noqa: E402
from activitysmith_jupyter.api.client import ActivitySmith  # noqa: E402

KEY = "test-key"
ID_FIELDS = {"notification_id", "activity_id", "ended_activity_id", "previous_activity_id", "stream_key"}
SDK_EXCEPTIONS = ("ApiException", "BadRequestException", "UnauthorizedException", "ForbiddenException",
                  "NotFoundException", "ServiceException")


@pytest.fixture
def ours(server):
    with ActivitySmith(KEY, base_url=server.url, max_retries=0) as client:
        yield client


# A call: (client, tag, ids) -> response. `tag` keeps the two clients' streams and metrics apart;
# `ids` holds what this client's setup created.
Call = Callable[[Any, str, dict[str, str]], Any]

CALLS: dict[str, Call] = {
    "push": lambda c, tag, ids: c.notifications.send(title="Build finished", message="all green"),
    "replace": lambda c, tag, ids: c.notifications.replace(ids["notification_id"], title="Build replaced"),
    "start": lambda c, tag, ids: c.live_activities.start(title="Deploy", type="segmented_progress",
                                                         number_of_steps=4, current_step=1),
    "update": lambda c, tag, ids: c.live_activities.update(activity_id=ids["activity_id"], title="Deploy",
                                                           current_step=2),
    "end": lambda c, tag, ids: c.live_activities.end(activity_id=ids["activity_id"], title="Deploy",
                                                     current_step=4),
    "stream_put": lambda c, tag, ids: c.live_activities.stream(
        f"job-{tag}", content_state={"title": "Job", "type": "progress", "percentage": 40}),
    "stream_delete": lambda c, tag, ids: c.live_activities.end_stream(f"open-{tag}"),
    "metric": lambda c, tag, ids: c.metrics.update(f"rate.{tag}", 99.5),
    "badge": lambda c, tag, ids: c.badge_count(7),
}


def _setup(name: str, client: Any, tag: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    if name == "replace":
        ids["notification_id"] = client.notifications.send(title="Build running").notification_id
    if name in ("update", "end"):
        ids["activity_id"] = client.live_activities.start(title="Deploy", type="segmented_progress",
                                                          number_of_steps=4, current_step=1).activity_id
    if name == "stream_delete":
        client.live_activities.stream(f"open-{tag}", title="Open", type="progress", percentage=5)
    return ids


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (type(v).__name__ if k in ID_FIELDS else _without_ids(v)) for k, v in value.items()}
    return value


def _sdk_fields(response: Any) -> list[str]:
    return list(type(response).model_fields)


def read_response(response: Any, fields: list[str]) -> dict[str, Any]:
    """What SDK users write to read a response (only the SDK's documented fields)."""
    return {
        "attributes": _without_ids({name: getattr(response, name) for name in fields}),
        "model_dump": _without_ids({k: v for k, v in response.model_dump().items() if k in fields}),
        "model_dump_json": _without_ids({k: v for k, v in json.loads(response.model_dump_json()).items()
                                         if k in fields}),
        "dict": _without_ids({k: v for k, v in dict(response).items() if k in fields}),
        # (the SDK's to_dict() also lists its nullable fields as None whenever they are absent)
        "to_dict_keys": sorted(k for k, v in response.to_dict().items() if k in fields and v is not None),
        "timestamp": (response.timestamp.isoformat(), response.timestamp.tzinfo is not None)
        if "timestamp" in fields else None,
        "success": response.success,
    }


@pytest.mark.parametrize("name", list(CALLS), ids=list(CALLS))
def test_responses_read_the_same_through_the_sdk_and_the_package(name: str, sdk, ours, sim) -> None:
    sdk_response = CALLS[name](sdk, "t", _setup(name, sdk, "t"))
    our_response = CALLS[name](ours, "t2", _setup(name, ours, "t2"))
    fields = _sdk_fields(sdk_response)
    assert type(our_response).__name__ == type(sdk_response).__name__
    assert read_response(our_response, fields) == read_response(sdk_response, fields)
    # to_str() is pprint of model_dump(): the same text once ids are aligned (the simulator sends no field
    # the SDK would drop), except that pydantic's UTC is its own TzInfo(0) class, ours the standard library's
    extra = set(our_response.to_dict()) - set(fields)
    assert not extra, f"the simulator sent fields the SDK does not know: {extra}"
    for read in (lambda r: r.to_str(), str):  # to_str(), and print(response)
        theirs = read(sdk_response).replace("tzinfo=TzInfo(0)", "tzinfo=datetime.timezone.utc")
        assert _align_ids(read(our_response), our_response, sdk_response) == theirs


def _align_ids(text: str, ours: Any, theirs: Any) -> str:
    for name in ID_FIELDS:
        mine, other = getattr(ours, name, None), getattr(theirs, name, None)
        if isinstance(mine, str) and isinstance(other, str):
            text = text.replace(repr(mine), repr(other))
    return text


@pytest.mark.parametrize("name", ["push", "stream_put", "badge"], ids=["push", "stream_put", "badge"])
def test_documented_differences_of_the_reading_methods(name: str, sdk, ours) -> None:
    sdk_response = CALLS[name](sdk, "d", _setup(name, sdk, "d"))
    our_response = CALLS[name](ours, "d2", _setup(name, ours, "d2"))
    # to_dict(): the SDK turns timestamp into a datetime; the package returns the JSON as received
    assert isinstance(sdk_response.to_dict()["timestamp"], dt.datetime)
    assert isinstance(our_response.to_dict()["timestamp"], str)
    assert dt.datetime.fromisoformat(our_response.to_dict()["timestamp"].replace("Z", "+00:00")) \
        == sdk_response.to_dict()["timestamp"]
    # to_json(): the SDK's json.dumps of that datetime raises; the package's works
    with pytest.raises(TypeError):
        sdk_response.to_json()
    assert json.loads(our_response.to_json()) == our_response.to_dict()


# (status, error JSON, a Retry-After header)
ERRORS: dict[str, tuple[int, dict[str, Any], float | None]] = {
    "400": (400, {"error": "bad_request", "message": "title is required"}, None),
    "401": (401, {"error": "unauthorized", "message": "Invalid API key"}, None),
    "403": (403, {"error": "forbidden", "message": "channel ops is outside the key's scope"}, None),
    "404": (404, {"error": "not_found", "message": "no such notification"}, None),
    "409": (409, {"error": "conflict", "message": "cannot replace"}, None),
    "422": (422, {"error": "no_recipients", "message": "nobody to deliver to"}, None),
    "429": (429, {"error": "rate_limited", "message": "slow down"}, 3),
    "500": (500, {"error": "internal", "message": "boom"}, None),
    "503": (503, {"error": "unavailable", "message": "try later"}, 7),
}


def read_error(error: BaseException, names: Any) -> dict[str, Any]:
    """What SDK users write in `except ApiException as e:`."""
    assert isinstance(error, names.ApiException)
    return {
        "classes": [n for n in SDK_EXCEPTIONS if isinstance(error, getattr(names, n))],
        "status": error.status,
        "reason": error.reason,
        "body": json.loads(error.body),
        "retry_after": error.headers.get("Retry-After"),
        "content_type": error.headers.get("content-type"),
    }


@pytest.mark.parametrize("endpoint", ["push", "stream_put"], ids=["push", "stream_put"])
@pytest.mark.parametrize("case", list(ERRORS), ids=list(ERRORS))
def test_errors_read_the_same_through_the_sdk_and_the_package(case: str, endpoint: str, sdk, ours, sim) -> None:
    status, body, retry_after = ERRORS[case]
    caught = {}
    if endpoint != "push":
        retry_after = None  # urllib3 under the SDK would wait out a Retry-After on a PUT and try again
    for who, client, names in (("sdk", sdk, sdk_exceptions), ("ours", ours, our_exceptions)):
        sim.inject(status, body=body, retry_after=retry_after, times=1)
        with pytest.raises(names.ApiException) as info:
            CALLS[endpoint](client, who, {})
        caught[who] = info.value
    assert read_error(caught["ours"], our_exceptions) == read_error(caught["sdk"], sdk_exceptions)
    # e.data is the parsed error: the SDK parses it only for statuses its endpoint documents
    sdk_data, our_data = caught["sdk"].data, caught["ours"].data
    if sdk_data is not None and hasattr(sdk_data, "message"):
        assert our_data.message == sdk_data.message
    assert (our_data.message, our_data.error) == (body["message"], body["error"])
    # the package's own attributes stay
    assert (caught["ours"].message, caught["ours"].error) == (body["message"], body["error"])


def test_a_real_not_found_reads_the_same(sdk, ours) -> None:
    caught = {}
    for who, client, names in (("sdk", sdk, sdk_exceptions), ("ours", ours, our_exceptions)):
        with pytest.raises(names.NotFoundException) as info:
            client.notifications.replace("ntf_does_not_exist", title="x")
        caught[who] = info.value
    assert read_error(caught["ours"], our_exceptions) == read_error(caught["sdk"], sdk_exceptions)
    assert caught["ours"].data.message == caught["sdk"].data.message


def test_the_error_aliases_are_the_package_classes() -> None:
    e = our_exceptions
    assert (e.ApiException, e.BadRequestException, e.UnauthorizedException, e.ForbiddenException,
            e.NotFoundException, e.ServiceException) == (e.APIError, e.BadRequestError, e.AuthenticationError,
                                                         e.PermissionDeniedError, e.NotFoundError, e.ServerError)


def test_constants_go_on_the_wire_the_same(sdk, ours, sim) -> None:
    for client, pkg in ((sdk, activitysmith), (ours, activitysmith_jupyter)):
        client.notifications.send(title="Heads up", interruption_level=pkg.PushInterruptionLevel.TIME_SENSITIVE)
        client.live_activities.stream("colored", title="Job", type="progress", percentage=1,
                                      color=pkg.LiveActivityColor.MAGENTA)
    sdk_push, sdk_stream, our_push, our_stream = (r.json for r in sim.requests[-4:])
    assert sdk_push["interruption_level"] == our_push["interruption_level"] == "time-sensitive"
    assert sdk_stream["content_state"]["color"] == our_stream["content_state"]["color"] == "magenta"

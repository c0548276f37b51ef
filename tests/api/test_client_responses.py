"""Responses: attribute access like the SDK's models, unknown fields kept, `to_dict()`, a safe repr."""
from __future__ import annotations

import pickle

import httpx
import pytest
from _client_twins import KEY, api, call, close, make_client  # noqa: F401  (api is a fixture)

from activitysmith_jupyter.responses import RESPONSE_FIELDS, APIObject, response_object

pytestmark = pytest.mark.anyio


async def test_every_endpoint_returns_its_response_type(api, sim) -> None:  # noqa: F811
    sent = await call(api.notifications.send(title="Hi"))
    started = await call(api.live_activities.start(title="Job", type="progress", percentage=1))
    results = {
        "PushNotificationResponse": sent,
        "PushNotificationReplaceResponse": await call(api.notifications.replace(sent.notification_id, title="Hey")),
        "LiveActivityStartResponse": started,
        "LiveActivityUpdateResponse": await call(api.live_activities.update(activity_id=started.activity_id,
                                                                           title="Job", percentage=5)),
        "LiveActivityEndResponse": await call(api.live_activities.end(activity_id=started.activity_id, title="Job")),
        "LiveActivityStreamPutResponse": await call(api.live_activities.stream("s", title="S", type="value", value=1)),
        "LiveActivityStreamDeleteResponse": await call(api.live_activities.end_stream("s")),
        "MetricValueUpdateResponse": await call(api.metrics.update("m.key", 1)),
        "AppIconBadgeCountUpdateResponse": await call(api.badge_count(4)),
    }
    assert set(results) == set(RESPONSE_FIELDS)
    for type_name, result in results.items():
        assert isinstance(result, APIObject)
        assert repr(result).startswith(type_name + "(")
        assert result.success is True
        for name in RESPONSE_FIELDS[type_name]:  # every documented field is readable
            getattr(result, name)
    assert sent.notification_id.startswith("ntf_")
    assert started.activity_id


async def test_stream_response_reads_like_the_sdk_model(api) -> None:  # noqa: F811
    r = await call(api.live_activities.stream("job", title="Job", type="progress", percentage=1))
    assert (r.operation, r.stream_key) == ("started", "job")
    assert r.previous_activity_id is None  # documented but absent -> None
    assert r["operation"] == "started"
    assert r.get("warning", "none") == "none"
    with pytest.raises(AttributeError):
        r.not_a_field


def _mock(kind: str, body: dict) -> object:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return make_client(kind, KEY, transport=transport)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_unknown_fields_are_kept(kind) -> None:
    body = {"success": True, "operation": "updated", "stream_key": "job", "timestamp": "2026-01-01T00:00:00Z",
            "brand_new": {"nested": [1, {"deep": True}]}}
    c = _mock(kind, body)
    try:
        r = await call(c.live_activities.stream("job", title="Job"))
    finally:
        await close(c)
    assert r.brand_new.nested[1].deep is True
    assert r.to_dict() == body
    assert "brand_new" in dir(r) and "brand_new" in r


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_unknown_operation_is_not_an_error(kind) -> None:
    c = _mock(kind, {"success": True, "operation": "teleported", "stream_key": "job"})
    try:
        assert (await call(c.live_activities.stream("job", title="Job"))).operation == "teleported"
    finally:
        await close(c)


def test_to_dict_is_a_deep_copy() -> None:
    r = response_object("PushNotificationResponse", {"success": True, "tags": ["a"], "x": {"y": 1}})
    d = r.to_dict()
    d["tags"].append("b")
    d["x"]["y"] = 2
    assert r.to_dict() == {"success": True, "tags": ["a"], "x": {"y": 1}}


def test_response_objects_are_read_only() -> None:
    r = response_object("MetricValueUpdateResponse", {"success": True})
    with pytest.raises(AttributeError):
        r.success = False


def test_response_objects_compare_with_dicts_and_each_other() -> None:
    a = response_object("MetricValueUpdateResponse", {"success": True})
    assert a == {"success": True}
    assert a == response_object("MetricValueUpdateResponse", {"success": True})
    assert a != {"success": False}


def test_response_objects_pickle() -> None:
    r = response_object("LiveActivityStartResponse", {"success": True, "activity_id": "act_1"})
    back = pickle.loads(pickle.dumps(r))
    assert back == r
    assert back.ended_activity_id is None


def test_repr_shows_the_fields_and_the_type() -> None:
    r = response_object("AppIconBadgeCountUpdateResponse", {"success": True, "badge": 3})
    assert repr(r) == "AppIconBadgeCountUpdateResponse(success=True, badge=3)"

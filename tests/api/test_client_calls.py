"""Every call shape of the official SDK works on both clients; bad payloads never reach the wire."""
from __future__ import annotations

import inspect
from typing import Any

import anyio
import pytest
from _bad_payloads import BAD as BAD_BODIES
from _client_twins import KEY, api, call  # noqa: F401  (api is a fixture)

from activitysmith_jupyter import payloads
from activitysmith_jupyter.api.client import (
    ActivitySmith,
    AsyncActivitySmith,
    AsyncLiveActivities,
    AsyncMetrics,
    AsyncNotifications,
    LiveActivities,
    Metrics,
    Notifications,
)
from activitysmith_jupyter.errors import PayloadError

pytestmark = pytest.mark.anyio
sdk_client = pytest.importorskip("activitysmith.client")


def _public(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize(
    ("sdk_cls", "ours"),
    [
        ("NotificationsResource", (Notifications, AsyncNotifications)),
        ("LiveActivitiesResource", (LiveActivities, AsyncLiveActivities)),
        ("MetricsResource", (Metrics, AsyncMetrics)),
    ],
    ids=["notifications", "live_activities", "metrics"],
)
def test_every_sdk_method_and_alias_exists_on_both_clients(sdk_cls: str, ours) -> None:
    expected = _public(getattr(sdk_client, sdk_cls))
    for cls in ours:
        assert expected <= _public(cls), expected - _public(cls)


def test_type_constants_have_the_sdk_values() -> None:
    sdk_cls = sdk_client.LiveActivitiesResource
    names = [n for n in dir(sdk_cls) if n.startswith("TYPE_")]
    assert len(names) == len(payloads.TYPES)
    for cls in (LiveActivities, AsyncLiveActivities):
        assert {n: getattr(cls, n) for n in names} == {n: getattr(sdk_cls, n) for n in names}


def test_client_level_methods_match_the_sdk() -> None:
    for cls in (ActivitySmith, AsyncActivitySmith):
        assert callable(cls.badge_count)
    assert inspect.iscoroutinefunction(AsyncActivitySmith.badge_count)
    for cls in (AsyncNotifications, AsyncLiveActivities, AsyncMetrics):
        for name in _public(cls):
            attr = getattr(cls, name)
            if inspect.isfunction(attr) and not isinstance(inspect.getattr_static(cls, name), staticmethod):
                assert inspect.iscoroutinefunction(attr), name


def test_live_activities_helpers_are_the_payload_helpers(client) -> None:
    la = client.live_activities
    assert la.metric("CPU", 9, unit="%") == {"label": "CPU", "value": 9, "unit": "%"}
    assert la.alert_icon("bolt") == payloads.alert_icon("bolt")
    assert la.alert_badge("S3", color="cyan") == {"title": "S3", "color": "cyan"}
    assert (la.TYPE_METRICS, la.TYPE_STATS, la.TYPE_TIMER) == ("metrics", "stats", "timer")


SHAPES = {
    "dict": lambda c: c.live_activities.stream("job", {"content_state": {"title": "Job", "type": "progress",
                                                                         "percentage": 5}}),
    "keywords": lambda c: c.live_activities.stream("job", title="Job", type="progress", percentage=5),
    "content_state_keyword": lambda c: c.live_activities.stream(
        "job", content_state=payloads.content_state("Job", type="progress", percentage=5)),
    "dict_plus_keywords": lambda c: c.live_activities.stream("job", {"content_state": {"title": "Job",
                                                                                       "type": "progress"}},
                                                             percentage=5),
    "alias": lambda c: c.live_activities.reconcile_live_activity_stream("job", {"content_state": {
        "title": "Job", "type": "progress", "percentage": 5}}),
    "alias_keyword_request": lambda c: c.live_activities.reconcile_live_activity_stream(
        "job", live_activity_stream_request={"content_state": {"title": "Job", "type": "progress", "percentage": 5}}),
}


@pytest.mark.parametrize("shape", list(SHAPES))
async def test_every_call_shape_sends_the_same_body(api, sim, shape) -> None:  # noqa: F811
    await call(SHAPES[shape](api))
    assert sim.requests[-1].json == {"content_state": {"title": "Job", "type": "progress", "percentage": 5}}


async def test_sdk_model_objects_are_accepted_as_requests(api, sim) -> None:  # noqa: F811
    from activitysmith_openapi.models.push_notification_request import PushNotificationRequest

    await call(api.notifications.send(PushNotificationRequest(title="From a model", message="ok")))
    assert sim.requests[-1].json == {"title": "From a model", "message": "ok"}


async def test_metric_request_dict_and_alias(api, sim) -> None:  # noqa: F811
    await call(api.metrics.update_metric_value("signups.today", {"value": 5, "timestamp": "2026-03-19T08:00:00Z"}))
    assert sim.requests[-1].json == {"value": 5, "timestamp": "2026-03-19T08:00:00+00:00"}


async def test_end_stream_without_request_sends_no_body(api, sim) -> None:  # noqa: F811
    await call(api.live_activities.stream("job", title="Job", type="progress", percentage=5))
    await call(api.live_activities.end_stream("job"))
    assert (sim.requests[-1].method, sim.requests[-1].json) == ("DELETE", None)


async def test_end_stream_accepts_auto_dismiss_seconds_keyword(api, sim) -> None:  # noqa: F811
    await call(api.live_activities.stream("job", title="Job", type="progress", percentage=5))
    await call(api.live_activities.end_stream("job", title="Job", auto_dismiss_seconds=30))
    assert sim.requests[-1].json == {"content_state": {"title": "Job", "auto_dismiss_seconds": 30}}


async def test_inputs_are_never_mutated(api) -> None:  # noqa: F811
    request = {"title": "x", "channels": "a,b"}
    await call(api.notifications.send(request, message="m"))
    assert request == {"title": "x", "channels": "a,b"}


BAD = {
    "push_without_title": (lambda c: c.notifications.send(message="no title"), "title"),
    "push_media_with_actions": (lambda c: c.notifications.send(
        title="x", media="https://cdn.example.com/a.png",
        actions=[payloads.action("Open", "open_url", "https://example.com")]), "media"),
    "push_bad_interruption_level": (lambda c: c.notifications.send(title="x", interruption_level="urgent"),
                                    "interruption_level"),
    "push_misspelt_keyword": (lambda c: c.notifications.send(titel="x"), "title"),
    "stream_percentage_out_of_range": (lambda c: c.live_activities.stream(
        "job", title="x", type="progress", percentage=150), "content_state.percentage"),
    "stream_bad_key": (lambda c: c.live_activities.stream("bad key/1", title="x", type="progress", percentage=1),
                       "stream_key"),
    "stream_nan": (lambda c: c.live_activities.stream("job", title="x", type="progress", percentage=float("nan")),
                   "percentage"),
    "start_without_type": (lambda c: c.live_activities.start(title="x"), "type"),
    "update_too_many_tags": (lambda c: c.live_activities.update(activity_id="a", title="x",
                                                                tags=[f"t{i}" for i in range(21)]), "tags"),
    "metric_bad_key": (lambda c: c.metrics.update("Not A Key", 1), "key"),
    "metric_bool_value": (lambda c: c.metrics.update("ok.key", True), "value"),
    "badge_negative": (lambda c: c.badge_count(-1), "badge"),
    "metadata_nested": (lambda c: c.notifications.send(title="x", metadata={"a": {"b": 1}}), "metadata"),
}


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_payloads_raise_payload_error_and_send_nothing(api, sim, name) -> None:  # noqa: F811
    make_call, mentioned = BAD[name]
    with pytest.raises(PayloadError) as info:
        await call(make_call(api))
    assert info.value.problems
    assert mentioned in str(info.value)
    assert sim.requests == []


async def test_payload_error_lists_every_problem(api, sim) -> None:  # noqa: F811
    with pytest.raises(PayloadError) as info:
        await call(api.live_activities.stream("job", title="x", type="progress", percentage=150, color="pink"))
    assert len(info.value.problems) >= 2
    assert sim.requests == []


async def test_async_client_runs_requests_concurrently(sim, clock) -> None:
    async with AsyncActivitySmith(KEY, transport=sim.transport()) as c:
        results: list = [None] * 8

        async def one(i: int) -> None:
            results[i] = await c.metrics.update(f"m.{i}", i)

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(one, i)
    assert all(r.success for r in results)
    assert sorted(r.path for r in sim.requests) == sorted(f"/metrics/m.{i}/value" for i in range(8))


# Every bad body of the payload-rules table, sent through the real client: refused before sending.
def _send_bad(api, endpoint: str, body: Any, key: Any) -> Any:  # noqa: F811
    la = api.live_activities
    return {
        "push": lambda: api.notifications.send(body),
        "replace": lambda: api.notifications.replace(key if key is not None else "ntf_1", body),
        "start": lambda: la.start(body),
        "update": lambda: la.update(body),
        "end": lambda: la.end(body),
        "stream": lambda: la.stream(key if key is not None else "job", body),
        "end_stream": lambda: la.end_stream(key if key is not None else "job", body),
        "metric": lambda: api.metrics.update(key, body),
    }[endpoint]()


def _expressible(endpoint: str, body: Any) -> bool:
    """Bodies the client sends as given: not badge_count's (value, channels=) or a metric without a value,
    not a top-level `channels` (the client turns it into `target`, as the SDK does), not a non-dict
    request (a TypeError)."""
    if endpoint == "badge" or not isinstance(body, dict) or "channels" in body:
        return False
    return endpoint != "metric" or "value" in body


_THROUGH_CLIENT = [c for c in BAD_BODIES if _expressible(c[1], c[2])]


def test_at_least_40_bad_bodies_go_through_the_client() -> None:
    assert len(_THROUGH_CLIENT) >= 40


@pytest.mark.parametrize(("endpoint", "body", "key", "path"), [c[1:] for c in _THROUGH_CLIENT],
                         ids=[c[0] for c in _THROUGH_CLIENT])
async def test_every_bad_body_is_refused_naming_its_field_and_nothing_is_sent(api, sim, endpoint, body, key,  # noqa: F811
                                                                              path) -> None:
    with pytest.raises(PayloadError) as info:
        await call(_send_bad(api, endpoint, body, key))
    assert path in [p.path for p in info.value.problems]
    assert sim.requests == []

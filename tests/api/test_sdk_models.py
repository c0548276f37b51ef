"""The official SDK's model objects anywhere in a request (issue 9): the same calls, with the same model
instances, through the official SDK 1.14.0 and through our clients against one loopback simulator
server, send the same JSON. Models are read by duck typing (`to_dict()` / `model_dump()`), so the
package never imports pydantic or the SDK."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from _wire_compare import same_json, without_sdk_defaults

activitysmith = pytest.importorskip("activitysmith")

import activitysmith_openapi.models as M  # noqa: E402
from activitysmith_openapi.exceptions import ApiException  # noqa: E402

from activitysmith_jupyter import payloads  # noqa: E402
from activitysmith_jupyter.api.client import ActivitySmith, AsyncActivitySmith  # noqa: E402
from activitysmith_jupyter.errors import ActivitySmithError  # noqa: E402

KEY = "test-key"


def _cpu(value: float) -> Any:
    return M.ActivityMetric(label="CPU", value=M.ActivityMetricValue(value), unit="%", color=M.LiveActivityColor.ORANGE)


def _open(title: str = "Open") -> Any:
    return M.PushNotificationAction(title=title, type=M.PushNotificationActionType.OPEN_URL, url="https://a.io/x")


def _hook() -> Any:
    return M.PushNotificationAction(title="Approve", type=M.PushNotificationActionType.WEBHOOK, url="https://h.io/ok",
                                    method=M.PushNotificationWebhookMethod.GET, body={"id": 7})


def _live_action() -> Any:
    return M.LiveActivityAction(title="Dashboard", type=M.LiveActivityActionType.OPEN_URL, url="https://status.io")


def _icon() -> Any:
    return M.LiveActivityAlertIcon(symbol="server.rack", color=M.LiveActivityColor.BLUE)


def _badge() -> Any:
    return M.LiveActivityAlertBadge(title="PROD", color=M.LiveActivityColor.RED)


# (client, ids) -> the call's result; every example passes SDK model objects somewhere, nested ones included.
Example = Callable[[Any, dict[str, str]], Any]
EXAMPLES: dict[str, Example] = {
    "push_keyword_actions_and_target": lambda c, ids: c.notifications.send(
        title="Deploy?", actions=[_open(), _hook()], target=M.ChannelTarget(channels=["ops"]),
        interruption_level=M.PushInterruptionLevel("time-sensitive")),
    "push_dict_with_nested_models": lambda c, ids: c.notifications.send(
        {"title": "Deploy?", "actions": [_open()], "target": M.ChannelTarget(channels=["ops", "devs"])}),
    "push_whole_request_model": lambda c, ids: c.notifications.send(M.PushNotificationRequest(
        title="Built", message="ok", actions=[_open(), _hook()], target=M.ChannelTarget(channels=["ci"]),
        metadata={"run": M.MetadataValue(42)}, tags=["ci"])),
    "replace_with_action_models": lambda c, ids: c.notifications.replace(
        ids["notification_id"], title="Recovered", actions=[_open("Details")]),
    "stream_content_state_model": lambda c, ids: c.live_activities.stream(
        "prod-web-1", content_state=M.StreamContentState(
            title="Server", type="metrics", metrics=[_cpu(76), _cpu(12.5)], icon=_icon(),
            color=M.LiveActivityColor.CYAN),
        action=_live_action(), alert=M.AlertPayload(title="High CPU", body="76%")),
    "stream_keyword_metrics_icon_badge": lambda c, ids: c.live_activities.stream(
        "deploy", title="Deploy", type="progress", percentage=40, icon=_icon(), badge=_badge(),
        target=M.ChannelTarget(channels=["ops"])),
    "stream_dict_with_nested_models": lambda c, ids: c.live_activities.stream(
        "srv", {"content_state": {"title": "Server", "type": "stats", "metrics": [_cpu(3)]},
                "secondary_action": _live_action()}),
    "stream_whole_request_model": lambda c, ids: c.live_activities.stream("srv-2", M.LiveActivityStreamRequest(
        content_state=M.StreamContentState(title="Queue", type="value", value=M.LiveActivityValue("1,200")),
        target=M.ChannelTarget(channels=["ops"]))),
    "start_request_model": lambda c, ids: c.live_activities.start(M.LiveActivityStartRequest(
        content_state=M.ContentStateStart(title="Import", type="segmented_progress", number_of_steps=3,
                                          current_step=1, badge=_badge()),
        action=_live_action(), target=M.ChannelTarget(channels=["ops"]))),
    "start_keywords_with_models": lambda c, ids: c.live_activities.start(
        title="Import", type="metrics", metrics=[_cpu(1)], action=_live_action(),
        target=M.ChannelTarget(channels=["ops"])),
    "update_content_state_model": lambda c, ids: c.live_activities.update(
        activity_id=ids["activity_id"], content_state=M.ContentStateUpdate(title="Import", percentage=50,
                                                                           icon=_icon())),
    "end_request_model": lambda c, ids: c.live_activities.end(M.LiveActivityEndRequest(
        activity_id=ids["activity_id"], content_state=M.ContentStateEnd(title="Done", percentage=100,
                                                                        auto_dismiss_minutes=1))),
    "end_stream_delete_request_model": lambda c, ids: c.live_activities.end_stream(
        "prod-web-1", M.LiveActivityStreamDeleteRequest(content_state=M.StreamContentState(title="Done", auto_dismiss_seconds=0))),
    "metric_request_model": lambda c, ids: c.metrics.update(
        "deploy.success_rate", M.MetricValueUpdateRequest(value=M.MetricValueUpdateRequestValue(99.5))),
}
NEEDS_NOTIFICATION = {"replace_with_action_models"}
NEEDS_ACTIVITY = {"update_content_state_model", "end_request_model"}


def _setup(name: str, ours: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    if name in NEEDS_NOTIFICATION:
        ids["notification_id"] = ours.notifications.send(title="down").notification_id
    if name in NEEDS_ACTIVITY:
        ids["activity_id"] = ours.live_activities.start(title="Import", type="progress", percentage=1).activity_id
    if name.startswith("end_stream"):
        ours.live_activities.stream("prod-web-1", title="Server", type="progress", percentage=5)
    return ids


def _sdk_request(sdk: Any, name: str, ids: dict[str, str], sim: Any) -> Any:
    before = len(sim.requests)
    try:
        EXAMPLES[name](sdk, ids)
    except ApiException:
        pass  # only the recorded request matters
    assert len(sim.requests) == before + 1
    return sim.requests[-1]


def _assert_same(name: str, sdk_request: Any, our_request: Any) -> None:
    assert (our_request.method, our_request.path) == (sdk_request.method, sdk_request.path)
    legacy_end = sdk_request.path == "/live-activity/end"
    ours = without_sdk_defaults(our_request.json, legacy_end=legacy_end)
    theirs = without_sdk_defaults(sdk_request.json, legacy_end=legacy_end)
    assert same_json(ours, theirs), f"{name}:\n ours={our_request.json}\n  sdk={sdk_request.json}"


@pytest.mark.parametrize("name", list(EXAMPLES), ids=list(EXAMPLES))
def test_sdk_models_send_the_same_body_as_the_sdk(name: str, sdk: Any, server: Any, sim: Any) -> None:
    with ActivitySmith(KEY, base_url=server.url, max_retries=0) as ours:
        ids = _setup(name, ours)
        sdk_request = _sdk_request(sdk, name, ids, sim)
        if name.startswith("end_stream"):
            _setup(name, ours)
        before = len(sim.requests)
        try:
            EXAMPLES[name](ours, ids)
        except ActivitySmithError:
            pass
        assert len(sim.requests) == before + 1
        _assert_same(name, sdk_request, sim.requests[-1])


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(EXAMPLES), ids=list(EXAMPLES))
async def test_sdk_models_send_the_same_body_through_the_async_client(name: str, sdk: Any, sim: Any) -> None:
    with ActivitySmith(KEY, transport=sim.transport()) as setup_client:
        ids = _setup(name, setup_client)
        sdk_request = _sdk_request(sdk, name, ids, sim)
        if name.startswith("end_stream"):
            _setup(name, setup_client)
    async with AsyncActivitySmith(KEY, transport=sim.transport(), max_retries=0) as ours:
        before = len(sim.requests)
        try:
            await EXAMPLES[name](ours, ids)
        except ActivitySmithError:
            pass
        assert len(sim.requests) == before + 1
        _assert_same(name, sdk_request, sim.requests[-1])


def test_nested_models_become_plain_data_and_the_inputs_are_untouched() -> None:
    actions = [_open(), _hook()]
    body = payloads.build_request("push", {"title": "t", "actions": actions}, target=M.ChannelTarget(channels=["a"]))
    assert body == {"title": "t", "target": {"channels": ["a"]}, "actions": [
        {"title": "Open", "type": "open_url", "url": "https://a.io/x", "method": "POST"},
        {"title": "Approve", "type": "webhook", "url": "https://h.io/ok", "method": "GET", "body": {"id": 7}}]}
    assert all(type(a["type"]) is str for a in body["actions"])  # enum members become their values
    assert isinstance(actions[0], M.PushNotificationAction)
    assert payloads.validate("push", body) == []


def test_any_pydantic_like_object_is_read_with_model_dump_by_alias_without_nones() -> None:
    calls: list[dict[str, Any]] = []

    class Dumpable:
        def model_dump(self, **kwargs: Any) -> dict[str, Any]:
            calls.append(kwargs)
            return {"symbol": "bolt", "color": "red"}

    body = payloads.build_request("stream", title="x", icon=Dumpable())
    assert body["content_state"]["icon"] == {"symbol": "bolt", "color": "red"}
    assert calls == [{"by_alias": True, "exclude_none": True}]


def test_a_model_class_is_not_mistaken_for_an_instance() -> None:
    problems = payloads.validate("push", payloads.build_request("push", title="t", target=M.ChannelTarget))
    assert [p.path for p in problems] == ["target"]


def test_reading_models_imports_neither_pydantic_nor_the_sdk() -> None:
    code = ("import sys; from activitysmith_jupyter import payloads; "
            "payloads.build_request('push', {'title': 't', 'actions': [object()]}); "
            "bad = [m for m in ('pydantic', 'activitysmith', 'activitysmith_openapi') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)

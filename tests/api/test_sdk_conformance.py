"""The official SDK 1.14.0, pointed at the loopback simulator, runs every seed example; the simulator
records exactly the golden bodies, and every answer parses into the SDK's response models."""
from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _wire_compare import load_golden

activitysmith = pytest.importorskip("activitysmith")
models = pytest.importorskip("activitysmith_openapi.models")

SEEDS = load_golden()

RESPONSE_MODELS = {
    "push": models.PushNotificationResponse,
    "replace": models.PushNotificationReplaceResponse,
    "stream": models.LiveActivityStreamPutResponse,
    "end_stream": models.LiveActivityStreamDeleteResponse,
    "start": models.LiveActivityStartResponse,
    "update": models.LiveActivityUpdateResponse,
    "end": models.LiveActivityEndResponse,
    "metric": models.MetricValueUpdateResponse,
    "badge": models.AppIconBadgeCountUpdateResponse,
}


def same(a: Any, b: Any) -> bool:
    """JSON equality where numbers compare by value (the SDK sends 9 as 9.0) but bools stay bools."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b)
    return a == b


def check_responses_parse(sim) -> None:
    from activitysmith_jupyter.simulator.routes import match_route

    for rec in sim.requests:
        if rec.status == 200:
            endpoint, _ = match_route(rec.method, rec.path)
            RESPONSE_MODELS[endpoint].from_dict(rec.response)  # raises on a field the SDK refuses


def test_sdk_runs_every_seed_example_and_the_simulator_records_the_golden_bodies(sim, sdk):
    namespace: dict[str, Any] = {"activitysmith": sdk}
    activity_ids: dict[str, str] = {}
    for seed in SEEDS:
        exec(seed["source"], namespace)  # noqa: S102 - the seed's own example code
        if seed["path"] == "/live-activity/start":
            activity_ids[seed["name"]] = namespace["activity_id"]
    assert len(sim.requests) == len(SEEDS) == 18
    started = iter(activity_ids.values())
    real_id = None
    for seed, rec in zip(SEEDS, sim.requests):
        expected = dict(seed["json"])
        if seed["path"] == "/live-activity/start":
            real_id = next(started)
        elif "activity_id" in expected:
            expected["activity_id"] = real_id
        assert rec.status == 200, (seed["name"], rec.response)
        assert (rec.method, rec.path) == (seed["method"], seed["path"]), seed["name"]
        assert same(rec.json, expected), seed["name"]
        for name, value in seed["headers"].items():
            assert rec.headers[name.lower()] == value, (seed["name"], name)
    assert len(set(activity_ids.values())) == 4
    assert all(a.startswith("act_") for a in activity_ids.values())
    check_responses_parse(sim)


def test_sdk_parses_every_stream_operation(sim, sdk):
    la = sdk.live_activities
    cs = {"title": "Job", "type": "progress", "percentage": 10}
    ops = [la.stream("job", {"content_state": cs}).operation,
           la.stream("job", {"content_state": cs}).operation,
           la.stream("job", {"content_state": {**cs, "percentage": 20}}).operation,
           la.stream("job", {"content_state": {"title": "Job", "type": "value", "value": 3}}).operation]
    sim.pause_stream("job")
    ops.append(la.stream("job", {"content_state": cs}).operation)
    end = la.end_stream("job")
    again = la.end_stream("job")
    assert ops == ["started", "noop", "updated", "rotated", "paused"]
    assert (end.operation, again.operation, again.ignored) == ("ended", "ended", True)
    check_responses_parse(sim)


def test_sdk_parses_warning_replace_metric_badge_and_legacy_answers(sim, sdk, clock):
    la = sdk.live_activities
    for step in range(14):
        r = la.stream("fast", {"content_state": {"title": "Fast", "type": "segmented_progress",
                                                 "number_of_steps": 20, "current_step": step}})
    assert r.warning
    sent = sdk.notifications.send({"title": "Build running", "channels": ["ops"]})
    replaced = sdk.notifications.replace(sent.notification_id, {"title": "Build passed"})
    assert replaced.notification_id == sent.notification_id
    assert sdk.metrics.update("deploy.success_rate", 99.5).success is True
    badge = sdk.badge_count(3, channels=["ops"])
    assert (badge.badge, badge.effective_channel_slugs) == (3, ["ops"])
    start = la.start({"content_state": {"title": "T", "type": "timer", "duration_seconds": 60}})
    la.update({"activity_id": start.activity_id, "content_state": {"title": "T", "is_running": False}})
    la.end({"activity_id": start.activity_id, "content_state": {"title": "T"}})
    assert la.end({"activity_id": start.activity_id, "content_state": {"title": "T"}}).ignored is True
    check_responses_parse(sim)


def test_sdk_sees_error_statuses(sim, sdk):
    from activitysmith_openapi.exceptions import ApiException, NotFoundException

    with pytest.raises(NotFoundException):
        sdk.live_activities.end_stream("never-started")
    for i in range(4):
        sdk.live_activities.stream(f"job-{i}", {"content_state": {"title": "J", "type": "progress", "percentage": i}})
    with pytest.raises(ApiException) as info:
        sdk.live_activities.stream("job-4", {"content_state": {"title": "J", "type": "progress", "percentage": 1}})
    assert info.value.status == 429
    assert json.loads(info.value.body)["limit"] == 4

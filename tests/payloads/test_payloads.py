"""payloads: SDK-identical request building, and validate() naming every problem by its field path.

The official SDK 1.14.0 is imported as a peer: its helpers and its request building are the reference.
Its HTTP layer is replaced by a function that captures the serialized body, so nothing is sent.
"""
from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import _wire_compare as wire
from _bad_payloads import BAD, _action, _metrics, _start, _state
from _wire_compare import load_golden

from activitysmith_jupyter import payloads
from activitysmith_jupyter.errors import PayloadError, Problem
from activitysmith_jupyter.payloads import build_request, check, prepare, validate


# --------------------------------------------------------------------------------------------------
# The official SDK as a reference (its HTTP call is replaced by a capture)
# --------------------------------------------------------------------------------------------------


class _Captured(Exception):
    pass


@pytest.fixture(scope="module")
def sdk():
    activitysmith = pytest.importorskip("activitysmith")
    client = activitysmith.ActivitySmith(api_key="ask_test_capture")

    def capture(method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        raise _Captured(method, url, body)

    client.notifications._api.api_client.call_api = capture
    return client


def sdk_body(sdk, endpoint: str, key: str | None, args: tuple, kwargs: dict) -> Any:
    """What the official SDK puts on the wire for the same call."""
    calls = {
        "push": lambda: sdk.notifications.send(*args, **kwargs),
        "replace": lambda: sdk.notifications.replace(key, *args, **kwargs),
        "start": lambda: sdk.live_activities.start(*args, **kwargs),
        "update": lambda: sdk.live_activities.update(*args, **kwargs),
        "end": lambda: sdk.live_activities.end(*args, **kwargs),
        "stream": lambda: sdk.live_activities.stream(key, *args, **kwargs),
        "end_stream": lambda: sdk.live_activities.end_stream(key, *args, **kwargs),
        "metric": lambda: sdk.metrics.update(key, *args, **kwargs),
        "badge": lambda: sdk.badge_count(*args, **kwargs),
    }
    with pytest.raises(_Captured) as captured:
        calls[endpoint]()
    return captured.value.args[2]


def without_sdk_defaults(endpoint: str, body: Any) -> Any:
    return wire.without_sdk_defaults(body, legacy_end=endpoint == "end")


# --------------------------------------------------------------------------------------------------
# Golden file: the seed's dict requests build the bodies the SDK sent
# --------------------------------------------------------------------------------------------------

_ENDPOINT_BY_ROUTE = {
    ("POST", "/push-notification"): "push",
    ("POST", "/live-activity/start"): "start",
    ("POST", "/live-activity/update"): "update",
    ("POST", "/live-activity/end"): "end",
    ("PUT", "/live-activity/stream"): "stream",
    ("DELETE", "/live-activity/stream"): "end_stream",
}


class _SeedRecorder:
    """Stands in for the seed's ``activitysmith`` client: records (method, args, kwargs)."""

    def __init__(self, activity_id: str | None) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.activity_id = activity_id
        self.notifications = self.live_activities = self

    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return self

        return call


@pytest.mark.parametrize("case", load_golden(), ids=lambda c: c["name"])
def test_seed_request_builds_the_golden_body(case: dict) -> None:
    route = case["path"].rsplit("/", 1)[0] if case["path"].startswith("/live-activity/stream/") else case["path"]
    endpoint = _ENDPOINT_BY_ROUTE[(case["method"], route)]
    recorder = _SeedRecorder(case["json"].get("activity_id"))
    exec(case["source"], {"activitysmith": recorder, "activity_id": recorder.activity_id})
    (_, args, kwargs), = recorder.calls
    if endpoint in ("stream", "end_stream"):
        key, *args = args
        assert case["path"].endswith("/" + key)
    body = build_request(endpoint, *args, **kwargs)
    assert without_sdk_defaults(endpoint, body) == without_sdk_defaults(endpoint, case["json"])
    assert validate(endpoint, body, key=key if endpoint in ("stream", "end_stream") else None) == []
    assert validate(endpoint, case["json"]) == []  # exactly what the SDK sent is valid too


# --------------------------------------------------------------------------------------------------
# Every SDK call shape: build_request == the SDK's wire body
# --------------------------------------------------------------------------------------------------

_PROGRESS = {"title": "Reindex", "type": "progress", "percentage": 10}
_UTC = timezone.utc

SDK_SHAPES = [
    # id, endpoint, key, args, kwargs
    ("push-keywords", "push", None, (), {"title": "Build done", "message": "42 tests", "subtitle": "ci"}),
    ("push-dict", "push", None, ({"title": "Build done", "tags": ["ci"]},), {}),
    ("push-dict-plus-keywords-override", "push", None,
     ({"title": "old", "message": "keep", "metadata": {"a": 1}},), {"title": "new", "icon": "https://x.io/i.png"}),
    ("push-none-keywords-ignored", "push", None, ({"title": "t"},), {"message": None, "subtitle": None}),
    ("push-all-keywords", "push", None, (), {
        "title": "t", "message": "m", "subtitle": "s", "redirection": "spotify:track:1",
        "actions": [payloads.action("Open", "open_url", "https://a.io"),
                    payloads.action("Hook", "webhook", "https://h.io", method="GET", body={"x": 1})],
        "tags": ["a"], "metadata": {"k": "v", "n": 2, "b": True}, "interruption_level": "time-sensitive"}),
    ("push-media", "push", None, (), {"title": "t", "media": "https://cdn.io/a.png"}),
    ("push-channels-list", "push", None, (), {"title": "t", "channels": ["devs", "ops"]}),
    ("push-channels-comma-string", "push", None, ({"title": "t", "channels": " devs, ,ops ,"},), {}),
    ("push-channels-empty-means-no-target", "push", None, (), {"title": "t", "channels": " , "}),
    ("push-channels-tuple", "push", None, (), {"title": "t", "channels": ("a", "b")}),
    ("push-channels-dropped-when-target-given", "push", None,
     ({"title": "t", "target": {"channels": ["x"]}},), {"channels": "a,b"}),
    ("push-target-keyword", "push", None, (), {"title": "t", "target": {"channels": ["x"]}}),
    ("replace-keywords", "replace", "n_1", (), {"title": "t", "message": "m", "tags": [], "metadata": {}}),
    ("replace-dict-plus-keywords", "replace", "n_1", ({"title": "a", "payload": {"x": 1}},), {"title": "b"}),
    ("start-keywords", "start", None, (), {"title": "Reindex", "type": "progress", "percentage": 10, "color": "blue"}),
    ("start-dict-plus-content-keywords", "start", None, ({"content_state": dict(_PROGRESS)},), {"percentage": 20}),
    ("start-content_state-keyword", "start", None, (), {"content_state": payloads.content_state("Job", type="value", value="$1,240")}),
    ("start-content_state-merged-over-dict", "start", None,
     ({"content_state": dict(_PROGRESS), "tags": ["x"]},), {"content_state": {"subtitle": "s"}, "percentage": 30}),
    ("start-helpers", "start", None, (), {
        "content_state": payloads.content_state(
            "Health", type="metrics",
            metrics=[payloads.metric("CPU", 9, unit="%"), payloads.metric("MEM", "45%", color="red")],
            icon=payloads.alert_icon("cpu", color="cyan")),
        "action": payloads.action("Open", "open_url", "https://ops.io"),
        "secondary_action": payloads.action("Stop", "webhook", "https://ops.io/stop", method="POST", body={"id": 1}),
        "alert": {"title": "Heads up", "body": "started"}}),
    ("start-badge-keyword-goes-into-content-state", "start", None, (),
     {"title": "a", "type": "alert", "message": "m", "badge": payloads.alert_badge("NEW", color="red")}),
    ("start-channels", "start", None, ({"content_state": dict(_PROGRESS), "channels": "devs,ops"},), {}),
    ("start-channels-keyword", "start", None, ({"content_state": dict(_PROGRESS)},), {"channels": ["devs"]}),
    ("update-keywords", "update", None, (), {"activity_id": "act_1", "title": "Reindex", "percentage": 50}),
    ("update-dict-plus-keywords", "update", None,
     ({"activity_id": "act_1", "content_state": {"title": "R", "current_step": 1}},), {"current_step": 2, "tags": ["a"]}),
    ("end-keywords-auto-dismiss", "end", None, (),
     {"activity_id": "act_1", "title": "Done", "percentage": 100, "auto_dismiss_minutes": 0}),
    ("end-dict", "end", None, ({"activity_id": "act_1", "content_state": {"title": "Done"}},), {}),
    ("stream-keywords", "stream", "job-1", (), {"title": "Job", "type": "timer", "duration_seconds": 90, "counts_down": True}),
    ("stream-dict-plus-keywords", "stream", "job-1", ({"content_state": dict(_PROGRESS)},), {"percentage": 60, "subtitle": "s"}),
    ("stream-channels-to-target", "stream", "job-1", (), {"title": "Job", "channels": "a, b"}),
    ("stream-keeps-channels-with-target", "stream", "job-1", (),
     {"title": "Job", "channels": ["a"], "target": {"channels": ["a"]}}),
    ("end-stream-keywords", "end_stream", "job-1", (), {"title": "Job", "percentage": 100, "auto_dismiss_minutes": 1}),
    ("end-stream-content-state-dict-auto-dismiss-seconds", "end_stream", "job-1", (),
     {"content_state": payloads.content_state("Job", auto_dismiss_seconds=5)}),
    ("metric-bare-value", "metric", "cpu.load", (0.5,), {}),
    ("metric-string-value", "metric", "cpu.load", ("high",), {}),
    ("metric-dict", "metric", "cpu.load", ({"value": 3},), {}),
    ("metric-dict-plus-timestamp", "metric", "cpu.load", ({"value": 3},), {"timestamp": "2026-01-02T03:04:05Z"}),
    ("metric-aware-datetime", "metric", "cpu.load", (3,), {"timestamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=_UTC)}),
    ("metric-offset-datetime", "metric", "cpu.load", (3,),
     {"timestamp": datetime(2026, 1, 2, 3, 4, 5, 123, tzinfo=timezone(timedelta(hours=2)))}),
    ("metric-naive-datetime", "metric", "cpu.load", (3,), {"timestamp": datetime(2026, 1, 2, 3, 4, 5)}),
    ("metric-string-timestamp-fraction", "metric", "cpu.load", (3,), {"timestamp": "2026-01-02T03:04:05.5Z"}),
    ("metric-date-only-timestamp", "metric", "cpu.load", (3,), {"timestamp": "2026-01-02"}),
    ("metric-epoch-timestamp", "metric", "cpu.load", (3,), {"timestamp": 1_700_000_000}),
    ("metric-epoch-milliseconds", "metric", "cpu.load", (3,), {"timestamp": 1_700_000_000_500}),
    ("metric-space-separated-timestamp", "metric", "cpu.load", (3,), {"timestamp": "2026-01-02 03:04:05+02:00"}),
    ("metric-keyword-value", "metric", "cpu.load", ({"value": 1},), {"timestamp": None}),
    ("badge-value", "badge", None, (3,), {}),
    ("badge-zero-clears", "badge", None, (0,), {}),
    ("badge-channels", "badge", None, (3,), {"channels": " a, ,b"}),
]


@pytest.mark.parametrize("endpoint,key,args,kwargs", [c[1:] for c in SDK_SHAPES], ids=[c[0] for c in SDK_SHAPES])
def test_build_request_matches_the_official_sdk(sdk, endpoint: str, key, args: tuple, kwargs: dict) -> None:
    expected = sdk_body(sdk, endpoint, key, args, kwargs)
    body = build_request(endpoint, *args, **kwargs)
    assert without_sdk_defaults(endpoint, body) == without_sdk_defaults(endpoint, expected)
    assert validate(endpoint, body, key=key) == []


def test_end_stream_without_anything_builds_an_empty_body_the_sdk_sends_none(sdk) -> None:
    assert sdk_body(sdk, "end_stream", "job-1", (), {}) is None
    assert build_request("end_stream") == {}
    assert validate("end_stream", {}, key="job-1") == []
    assert validate("end_stream", None, key="job-1") == []


def test_end_stream_accepts_auto_dismiss_seconds_keyword_which_the_sdk_refuses(sdk) -> None:
    with pytest.raises(TypeError):
        sdk.live_activities.end_stream("job-1", title="Job", auto_dismiss_seconds=5)
    body = build_request("end_stream", title="Job", auto_dismiss_seconds=5)
    assert body == {"content_state": {"title": "Job", "auto_dismiss_seconds": 5}}
    assert validate("end_stream", body, key="job-1") == []


def test_end_stream_auto_dismiss_without_title_fails_validation_like_the_sdk() -> None:
    body = build_request("end_stream", auto_dismiss_minutes=0)
    assert [p.path for p in validate("end_stream", body)] == ["content_state.title"]


def test_stream_with_target_keeps_a_comma_string_channels_verbatim_like_the_sdk() -> None:
    body = build_request("stream", title="Job", target={"channels": ["a"]}, channels="a,b")
    assert body["channels"] == "a,b"
    assert [p.path for p in validate("stream", body)] == ["channels"]


# --------------------------------------------------------------------------------------------------
# Merging rules, channels (§7), inputs never mutated
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channels,expected_target",
    [
        (["devs", "ops"], {"channels": ["devs", "ops"]}),
        ("devs,ops", {"channels": ["devs", "ops"]}),
        ("  devs ,  ops  ", {"channels": ["devs", "ops"]}),
        ("devs,,ops,", {"channels": ["devs", "ops"]}),
        ([" devs", "", "  ", "ops "], {"channels": ["devs", "ops"]}),
        ("", None),
        (" , ,", None),
        ([], None),
    ],
    ids=["list", "comma-string", "trimmed", "empty-items-dropped", "blank-items-dropped", "empty-string",
         "only-separators", "empty-list"],
)
@pytest.mark.parametrize("endpoint", ["push", "start", "stream", "badge"])
def test_channels_become_target_channels(endpoint: str, channels: Any, expected_target: dict | None) -> None:
    base: dict[str, Any] = {
        "push": {"title": "t"}, "badge": {"badge": 1},
        "start": {"content_state": dict(_PROGRESS)}, "stream": {"content_state": dict(_PROGRESS)},
    }[endpoint]
    body = build_request(endpoint, {**base, "channels": channels})
    assert "channels" not in body
    assert body.get("target") == expected_target


@pytest.mark.parametrize("endpoint,expected_channels", [("push", None), ("start", None), ("badge", None), ("stream", ["x"])],
                         ids=["push-drops", "start-drops", "badge-drops", "stream-keeps"])
def test_channels_next_to_target_are_kept_only_on_stream(endpoint: str, expected_channels) -> None:
    fields = {"push": {"title": "t"}, "start": {"title": "t", "type": "alert", "message": "m"},
              "stream": {"title": "t"}, "badge": {"badge": 1}}[endpoint]
    body = build_request(endpoint, {"target": {"channels": ["x"]}, "channels": ["x"]}, **fields)
    assert body["target"] == {"channels": ["x"]}
    assert body.get("channels") == expected_channels


@pytest.mark.parametrize("endpoint", ["update", "end", "end_stream", "replace"])
def test_endpoints_without_targeting_refuse_channels_keyword(endpoint: str) -> None:
    with pytest.raises(PayloadError) as info:
        build_request(endpoint, title="t", channels=["a"])
    assert [p.path for p in info.value.problems] == ["channels"]


@pytest.mark.parametrize("endpoint", ["update", "end", "end_stream"])
def test_channels_in_a_dict_request_on_non_targeting_endpoints_is_reported(endpoint: str) -> None:
    body = build_request(endpoint, {"activity_id": "a", "content_state": {"title": "t"}, "channels": ["x"]})
    if endpoint == "end_stream":
        del body["activity_id"]
    assert "channels" in [p.path for p in validate(endpoint, body)]


def test_keywords_merge_over_the_dict_and_into_content_state() -> None:
    request = {"content_state": {"title": "old", "type": "progress", "percentage": 1}, "tags": ["a"], "metadata": {"x": 1}}
    body = build_request("stream", request, content_state={"subtitle": "sub", "percentage": 2}, percentage=3,
                         tags=["b"], title="new")
    assert body == {
        "content_state": {"title": "new", "type": "progress", "percentage": 3, "subtitle": "sub"},
        "tags": ["b"], "metadata": {"x": 1},
    }


def test_content_state_keyword_replaces_a_null_content_state() -> None:
    assert build_request("stream", {"content_state": None}, title="t") == {"content_state": {"title": "t"}}


def test_content_state_that_is_not_an_object_cannot_take_keywords() -> None:
    with pytest.raises(PayloadError) as info:
        build_request("stream", {"content_state": "oops"}, title="t")
    assert info.value.problems[0].path == "content_state"


def test_non_dict_request_with_keywords_is_a_type_error_like_the_sdk() -> None:
    with pytest.raises(TypeError):
        build_request("push", ["title"], title="t")


def test_sdk_model_objects_are_accepted_through_to_dict() -> None:
    models = pytest.importorskip("activitysmith_openapi.models")
    request = models.PushNotificationRequest(title="From a model", message="m")
    assert build_request("push", request, subtitle="s") == {"title": "From a model", "message": "m", "subtitle": "s"}


def test_build_request_never_mutates_its_inputs() -> None:
    state = {"title": "t", "type": "metrics", "metrics": [{"label": "a", "value": 1}]}
    request = {"content_state": state, "channels": "a,b", "metadata": {"k": "v"}, "tags": ["x"]}
    snapshot = copy.deepcopy(request)
    extra_state = {"subtitle": "s"}
    body = build_request("start", request, content_state=extra_state, title="new", tags=["y"])
    assert request == snapshot and extra_state == {"subtitle": "s"}
    body["content_state"]["metrics"][0]["value"] = 99
    body["metadata"]["k"] = "changed"
    assert request == snapshot, "the built body must not share mutable parts with the request"


def test_null_fields_are_left_out_like_the_sdk_wire() -> None:
    body = build_request("stream", {"content_state": {"title": "t", "subtitle": None, "icon": {"symbol": "x", "color": None}},
                                    "action": None})
    assert body == {"content_state": {"title": "t", "icon": {"symbol": "x"}}}


def test_none_keywords_are_ignored() -> None:
    assert build_request("push", {"title": "t"}, message=None, channels=None) == {"title": "t"}


# --------------------------------------------------------------------------------------------------
# Keywords per endpoint and did-you-mean
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint,keyword,suggestion",
    [
        ("push", "titel", "title"),
        ("push", "mesage", "message"),
        ("push", "interruption", "interruption_level"),
        ("start", "percent", "percentage"),
        ("stream", "subtitel", "subtitle"),
        ("stream", "number_of_step", "number_of_steps"),
        ("update", "activityid", "activity_id"),
        ("end", "auto_dismiss_minute", "auto_dismiss_minutes"),
        ("metric", "timestmp", "timestamp"),
    ],
    ids=lambda v: str(v),
)
def test_unknown_keyword_is_refused_with_did_you_mean(endpoint: str, keyword: str, suggestion: str) -> None:
    with pytest.raises(PayloadError) as info:
        build_request(endpoint, **{keyword: "x"})
    (problem,) = info.value.problems
    assert problem.path == keyword
    assert f"did you mean {suggestion!r}" in problem.message


@pytest.mark.parametrize(
    "endpoint,keyword",
    [("start", "auto_dismiss_minutes"), ("update", "auto_dismiss_minutes"), ("end", "auto_dismiss_seconds"),
     ("stream", "auto_dismiss_seconds"), ("update", "alert"), ("update", "target"), ("replace", "interruption_level"),
     ("push", "is_running"), ("stream", "step_colors"), ("push", "priority")],
    ids=lambda v: str(v),
)
def test_keywords_the_sdk_does_not_accept_for_the_endpoint_are_refused(endpoint: str, keyword: str) -> None:
    with pytest.raises(PayloadError):
        build_request(endpoint, title="t", **{keyword: 1})


def test_keywords_for_lists_the_sdk_signature() -> None:
    assert payloads.keywords_for("end_stream") >= {"auto_dismiss_minutes", "auto_dismiss_seconds", "alert", "title"}
    assert "channels" not in payloads.keywords_for("update")
    assert "auto_dismiss_seconds" not in payloads.keywords_for("end")


def test_unknown_endpoint_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        validate("notify", {"title": "t"})


def test_unknown_field_in_a_body_gets_a_did_you_mean_hint() -> None:
    problems = validate("stream", {"content_state": {"title": "t", "subtitel": "x"}, "tagz": ["a"]})
    assert {p.path: p.message for p in problems} == {
        "content_state.subtitel": "unknown field; did you mean 'subtitle'?",
        "tagz": "unknown field; did you mean 'tags'?",
    }


def test_unknown_field_without_a_close_match_lists_what_is_allowed() -> None:
    (problem,) = validate("badge", {"badge": 1, "zzz": 2})
    assert problem.path == "zzz" and "allowed: badge, target" in problem.message


# --------------------------------------------------------------------------------------------------
# Helpers equal the official SDK's helpers
# --------------------------------------------------------------------------------------------------

HELPER_CALLS = [
    ("metric-minimal", "metric", ("CPU", 9), {}),
    ("metric-full", "metric", ("CPU", "9%"), {"unit": "%", "color": "red"}),
    ("metric-none-dropped", "metric", ("CPU", 9), {"unit": None, "color": None}),
    ("action-open-url", "action", ("Open", "open_url", "https://a.io"), {}),
    ("action-webhook", "action", ("Hook", "webhook", "https://h.io"), {"method": "GET", "body": {"x": 1}}),
    ("alert-icon", "alert_icon", ("bolt.fill",), {"color": "yellow"}),
    ("alert-icon-plain", "alert_icon", ("bolt.fill",), {}),
    ("alert-badge", "alert_badge", ("LIVE",), {"color": "red"}),
    ("content-state-minimal", "content_state", ("Job",), {}),
    ("content-state-full", "content_state", ("Job",), {
        "type": "segmented_progress", "subtitle": "s", "message": "m", "icon": {"symbol": "x"},
        "badge": {"title": "b"}, "metrics": [{"label": "a", "value": 1}], "number_of_steps": 3, "current_step": 1,
        "percentage": 5, "value": 2, "upper_limit": 10, "duration_seconds": 30, "counts_down": False, "color": "blue",
        "step_color": "red", "auto_dismiss_seconds": 0, "auto_dismiss_minutes": 2}),
]


@pytest.mark.parametrize("name,args,kwargs", [c[1:] for c in HELPER_CALLS], ids=[c[0] for c in HELPER_CALLS])
def test_helpers_equal_the_official_sdk_helpers(name: str, args: tuple, kwargs: dict) -> None:
    activitysmith_client = pytest.importorskip("activitysmith.client")
    ours = getattr(payloads, name)(*args, **kwargs)
    theirs = getattr(activitysmith_client, name)(*args, **kwargs)
    assert ours == theirs
    assert list(ours) == list(theirs), "same key order as the SDK"


def test_content_state_helper_also_takes_step_colors_and_is_running() -> None:
    state = payloads.content_state("Job", type="timer", counts_down=False, is_running=False,
                                   step_colors=["red", "blue"], subtitle=None)
    assert state == {"title": "Job", "type": "timer", "counts_down": False, "is_running": False,
                     "step_colors": ["red", "blue"]}


def test_helpers_are_exported_from_the_package() -> None:
    import activitysmith_jupyter

    assert activitysmith_jupyter.content_state is payloads.content_state
    assert activitysmith_jupyter.prepare is payloads.prepare
    assert activitysmith_jupyter.Problem is Problem


# --------------------------------------------------------------------------------------------------
# Valid bodies stay valid
# --------------------------------------------------------------------------------------------------

GOOD = [
    ("push-minimal", "push", {"title": "t"}, None),
    ("push-legacy-fields", "push", {"title": "t", "payload": {"a": [1, None]}, "badge": 3, "sound": "default"}, None),
    ("push-custom-scheme-redirection-and-open-url", "push",
     {"title": "t", "redirection": "shortcuts://run-shortcut?name=Go",
      "actions": [{"title": "Play", "type": "open_url", "url": "spotify:track:1", "method": "POST"}]}, None),
    ("push-media-with-empty-actions", "push", {"title": "t", "media": "https://a.io/x.mp4", "actions": []}, None),
    ("push-metadata-at-limits", "push",
     {"title": "t", "metadata": {("k" * 100 if i == 0 else f"k{i}"): "v" * 300 for i in range(50)}}, None),
    ("replace", "replace", {"title": "t", "tags": [], "metadata": {}}, "n_123"),
    ("start-segmented-progress", "start",
     {"content_state": {"title": "t", "type": "segmented_progress", "number_of_steps": 3, "current_step": 0,
                        "step_colors": [], "step_color": "red"}}, None),
    ("start-progress-value-upper-limit", "start",
     {"content_state": {"title": "t", "type": "progress", "value": 3, "upper_limit": 10.5}}, None),
    ("start-progress-float-percentage", "start", {"content_state": {"title": "t", "type": "progress", "percentage": 99.5}}, None),
    ("start-stats-eight-metrics", "start",
     {"content_state": {"title": "t", "type": "stats", "metrics": [{"label": str(i), "value": i} for i in range(8)]}}, None),
    ("start-value-string", "start", {"content_state": {"title": "t", "type": "value", "value": "$1,240"}}, None),
    ("start-alert", "start",
     {"content_state": {"title": "t", "type": "alert", "message": "m", "badge": {"title": "NEW"},
                        "icon": {"symbol": "bell", "color": "red"}},
      "alert": {"title": "a", "body": "b"}}, None),
    ("start-timer-countdown", "start", {"content_state": {"title": "t", "type": "timer", "duration_seconds": 60}}, None),
    ("start-timer-count-up", "start", {"content_state": {"title": "t", "type": "timer", "counts_down": False}}, None),
    ("update-twenty-tags", "update",
     {"activity_id": "a", "content_state": {"title": "t"}, "tags": [f"t{i}" for i in range(20)]}, None),
    ("end-auto-dismiss-zero", "end", {"activity_id": "a", "content_state": {"title": "t", "auto_dismiss_minutes": 0}}, None),
    ("stream-without-type", "stream", {"content_state": {"title": "t", "percentage": 50}}, "prod-web_1"),
    ("stream-timer-keeps-window", "stream", {"content_state": {"title": "t", "type": "timer"}}, "k"),
    ("stream-both-auto-dismiss", "stream",
     {"content_state": {"title": "t", "auto_dismiss_seconds": 0, "auto_dismiss_minutes": 1}}, "k"),
    ("stream-channels-match-target-any-order", "stream",
     {"content_state": {"title": "t"}, "channels": ["a", "b"], "target": {"channels": ["b", "a"]}}, "k" * 255),
    ("stream-shortcut-action", "stream",
     {"content_state": {"title": "t"}, "action": {"title": "Run", "type": "open_url", "url": "shortcuts://run-shortcut?name=x"},
      "secondary_action": {"title": "Stop", "type": "webhook", "url": "https://h.io", "method": "GET", "body": {}}}, "k"),
    ("end-stream-full", "end_stream",
     {"content_state": {"title": "t", "auto_dismiss_seconds": 10}, "alert": {}, "tags": ["a"], "metadata": {"a": False}}, "k"),
    ("metric-negative-number", "metric", {"value": -3.5}, "cpu.load_1-m"),
    ("metric-string-timestamp", "metric", {"value": "64 chars" * 8, "timestamp": "2026-01-02T03:04:05+00:00"}, "a"),
    ("badge-zero", "badge", {"badge": 0}, None),
    ("badge-max-with-target", "badge", {"badge": 2147483647, "target": {"channels": ["a"]}}, None),
]


@pytest.mark.parametrize("endpoint,body,key", [c[1:] for c in GOOD], ids=[c[0] for c in GOOD])
def test_valid_bodies_have_no_problems(endpoint: str, body: dict, key: str | None) -> None:
    assert validate(endpoint, body, key=key) == []
    check(endpoint, body, key=key)


# --------------------------------------------------------------------------------------------------
# Bad bodies: each names the exact field path
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint,body,key,path", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_body_names_the_field(endpoint: str, body: Any, key: str | None, path: str) -> None:
    problems = validate(endpoint, body, key=key)
    assert [p.path for p in problems] == [path], problems
    assert problems[0].message  # says what is allowed
    with pytest.raises(PayloadError) as info:
        check(endpoint, body, key=key)
    assert info.value.problems == problems


def test_there_are_at_least_45_distinct_bad_payloads() -> None:
    assert len({c[0] for c in BAD}) == len(BAD) >= 45


@pytest.mark.parametrize(
    "endpoint,body,path,fragment",
    [
        ("stream", _state(color="pink"), "content_state.color", "lime, green, cyan, blue, purple, magenta, red, orange, yellow, gray"),
        ("stream", _state(color="gren"), "content_state.color", "did you mean 'green'"),
        ("stream", _state(percentage=101), "content_state.percentage", "0-100"),
        ("badge", {"badge": -1}, "badge", "0-2147483647"),
        ("start", _start("timer"), "content_state.duration_seconds", "counts_down: false"),
        ("update", _state("update", auto_dismiss_seconds=1), "content_state.auto_dismiss_seconds", "only on stream, end_stream"),
        ("stream", {**_state(), "percentage": 5}, "percentage", "inside content_state"),
        ("push", {"title": "t", "media": "http://a"}, "media", "https://"),
        ("push", {"title": "t", "actions": [_action()] * 5}, "actions", "at most 4"),
        ("start", _start("stats", metrics=[]), "content_state.metrics", "at least 1"),
    ],
    ids=["enum-lists-choices", "enum-did-you-mean", "range", "badge-range", "timer-hint", "auto-dismiss-where",
         "misplaced-field", "https", "max-actions", "min-metrics"],
)
def test_problem_messages_say_what_is_allowed(endpoint: str, body: dict, path: str, fragment: str) -> None:
    messages = {p.path: p.message for p in validate(endpoint, body)}
    assert fragment in messages[path]


def test_a_body_with_several_problems_reports_all_of_them() -> None:
    body = {
        "content_state": {
            "title": 7, "type": "segmented_progress", "number_of_steps": 2, "current_step": 5,
            "color": "pink", "metrics": _metrics(1, -2), "percentage": math.nan, "colour": "red",
        },
        "action": {"title": "Hook", "type": "webhook", "url": "http://h.io"},
        "tags": ["", "ok"],
        "metadata": {"nested": {}},
        "activity_id": "nope",
    }
    problems = validate("start", body)
    assert [p.path for p in problems] == [
        "content_state.title", "content_state.color", "content_state.metrics[1].value",
        "content_state.percentage", "content_state.colour", "content_state.current_step",
        "action.url", "tags[0]", "metadata.nested", "activity_id",
    ]
    text = str(PayloadError(problems, endpoint="start"))
    assert text.startswith("10 problems in the start request:")
    assert all(f"{p.path}: {p.message}" in text for p in problems)


def test_check_and_prepare_raise_before_anything_could_be_sent() -> None:
    with pytest.raises(PayloadError) as info:
        prepare("stream", key="bad key", title="Job", percentage=120)
    assert [p.path for p in info.value.problems] == ["stream_key", "content_state.percentage"]
    assert isinstance(info.value, ValueError)


def test_prepare_returns_the_built_body() -> None:
    body = prepare("stream", {"content_state": {"title": "Job", "type": "progress"}}, key="job-1", percentage=5,
                   channels="a")
    assert body == {"content_state": {"title": "Job", "type": "progress", "percentage": 5},
                    "target": {"channels": ["a"]}}


def test_prepare_metric_and_badge_take_their_value_positionally() -> None:
    assert prepare("metric", 0.75, key="gpu.util") == {"value": 0.75}
    assert prepare("metric", value="ok", key="gpu.util", timestamp="2026-01-02T03:04:05Z") == {
        "value": "ok", "timestamp": "2026-01-02T03:04:05+00:00"}
    assert prepare("badge", 4, channels=["ops"]) == {"badge": 4, "target": {"channels": ["ops"]}}
    assert prepare("badge", value=0) == {"badge": 0}


def test_unparseable_metric_timestamp_is_kept_for_validate_to_report() -> None:
    body = build_request("metric", 1, timestamp="last tuesday")
    assert body["timestamp"] == "last tuesday"
    assert [p.path for p in validate("metric", body, key="cpu")] == ["timestamp"]


# --------------------------------------------------------------------------------------------------
# Constants and cost
# --------------------------------------------------------------------------------------------------


def test_constants_match_the_official_sdk_models() -> None:
    models = pytest.importorskip("activitysmith_openapi.models")
    assert set(payloads.COLORS) == {c.value for c in models.LiveActivityColor}
    assert set(payloads.INTERRUPTION_LEVELS) == {c.value for c in models.PushInterruptionLevel}
    assert set(payloads.ACTION_TYPES) == {c.value for c in models.LiveActivityActionType}
    assert set(payloads.WEBHOOK_METHODS) == {c.value for c in models.LiveActivityWebhookMethod}
    assert payloads.MAX_ACTIONS == 4 and payloads.MAX_METRICS == 8 and payloads.MAX_BADGE == 2**31 - 1
    assert payloads.STREAM_KEY_PATTERN.match("prod-web_1") and not payloads.STREAM_KEY_PATTERN.match("a.b")
    assert payloads.METRIC_KEY_PATTERN.match("deploy.success_rate") and not payloads.METRIC_KEY_PATTERN.match("Deploy")


def test_importing_payloads_does_not_import_pydantic_or_the_sdk() -> None:
    code = ("import sys, activitysmith_jupyter.payloads, activitysmith_jupyter.errors; "
            "bad = [m for m in ('pydantic', 'activitysmith', 'IPython', 'ipywidgets', 'tqdm', 'httpx') if m in sys.modules]; "
            "print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validating_a_typical_update_is_cheap() -> None:
    import time

    body = prepare("stream", key="train-1", title="Training", type="progress", percentage=42.5, subtitle="epoch 3/10",
                   action=payloads.action("Open", "open_url", "https://x.io"), metadata={"run": "abc", "lr": 0.001})
    start = time.perf_counter()
    for _ in range(1000):
        validate("stream", body, key="train-1")
    assert time.perf_counter() - start < 1.0  # ~10 µs each in practice; generous bound for slow CI


@pytest.mark.parametrize(
    "state,paths",
    [
        ({"title": "t"}, ["content_state.type"]),
        ({"title": "t", "type": "progress", "percentage": 5}, []),
        ({"title": "t", "type": "segmented_progress"}, ["content_state.number_of_steps", "content_state.current_step"]),
        ({"title": "t", "type": "timer", "counts_down": False}, []),
        ({"title": "t", "type": "unknown"}, []),  # the enum problem is validate's to report
        ("not a state", ["content_state"]),
    ],
    ids=["needs-type", "complete", "segmented-missing-both", "count-up-timer", "unknown-type-left-to-validate", "not-object"],
)
def test_type_requirements_tell_a_server_what_a_first_stream_put_lacks(state: Any, paths: list[str]) -> None:
    assert [p.path for p in payloads.type_requirements(state)] == paths


def test_stream_put_does_not_require_type_specific_fields() -> None:
    assert validate("stream", {"content_state": {"title": "t", "type": "segmented_progress"}}, key="k") == []


@pytest.mark.parametrize(
    "timestamp,expected",
    [(1_700_000_000_000, "2023-11-14T22:13:20+00:00"), (1e30, 1e30), (math.nan, math.nan)],
    ids=["milliseconds-like-pydantic", "out-of-range-kept", "nan-kept"],
)
def test_numeric_metric_timestamps(timestamp: float, expected: Any) -> None:
    got = build_request("metric", 1, timestamp=timestamp)["timestamp"]
    assert got == expected or (isinstance(got, float) and math.isnan(got) and math.isnan(expected))
    if not isinstance(got, str):
        assert [p.path for p in validate("metric", {"value": 1, "timestamp": got})] == ["timestamp"]


def test_numpy_scalars_become_python_numbers() -> None:
    np = pytest.importorskip("numpy")
    body = prepare("stream", key="k", title="Epoch", type="segmented_progress", number_of_steps=np.int64(10),
                   current_step=np.int32(3), metrics=[{"label": "loss", "value": np.float32(0.5)}])
    state = body["content_state"]
    assert type(state["number_of_steps"]) is int and type(state["current_step"]) is int
    assert type(state["metrics"][0]["value"]) is float
    json.dumps(body)


def test_numpy_values_in_a_raw_body_are_reported_not_crashed_on() -> None:
    np = pytest.importorskip("numpy")
    (problem,) = validate("stream", {"content_state": {"title": "t", "current_step": np.int64(3)}})
    assert problem.path == "content_state.current_step"

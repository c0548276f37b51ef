"""The Composer driven from Python (set `.value`, call `.click()`) against the simulator."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("ipywidgets")

import ipywidgets as widgets  # noqa: E402
from ipywidgets.widgets.widget import _instances  # noqa: E402

from activitysmith_jupyter import payloads  # noqa: E402
from activitysmith_jupyter.composer.widget import Composer  # noqa: E402

SECRET = "ask_live_do-not-leak-0123456789"


def _all_widget_states(root: widgets.Widget) -> list[dict]:
    """The synced state of `root` and every widget it references (what a notebook would save)."""
    seen: dict[str, dict] = {}
    todo = [root]
    while todo:
        w = todo.pop()
        if w.model_id in seen:
            continue
        state = w.get_state()
        seen[w.model_id] = state
        for value in state.values():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, str) and v.startswith("IPY_MODEL_"):
                    todo.append(_instances[v[len("IPY_MODEL_"):]])
    # also the traits that are not synced (the Composer's own state)
    return list(seen.values())


def _fill_notification(c: Composer) -> None:
    n = c.notification
    n.title.value = "Build finished"
    n.subtitle.value = "main @ 1a2b3c"
    n.message.value = "All 412 tests passed"
    n.redirection.value = "https://ci.example.com/runs/42"
    n.interruption_level.value = "time-sensitive"
    n.common.tags.value = "ci, nightly"
    n.common.channels.value = "devs, ops"
    n.common.metadata.value = '{"run": 42}'


# --------------------------------------------------------------------------------- live views
def test_typing_updates_payload_json_preview_and_code():
    c = Composer()
    _fill_notification(c)
    assert c.payload == {
        "title": "Build finished", "subtitle": "main @ 1a2b3c", "message": "All 412 tests passed",
        "redirection": "https://ci.example.com/runs/42", "interruption_level": "time-sensitive",
        "tags": ["ci", "nightly"], "metadata": {"run": 42}, "target": {"channels": ["devs", "ops"]},
    }
    assert json.loads(c.json_text) == c.payload
    assert "Build finished" in c.preview_view.value and "All 412 tests passed" in c.preview_view.value
    assert "Time Sensitive" in c.preview_view.value
    assert c.problems == []
    assert "no problems" in c.problems_view.value


def test_json_view_shows_the_exact_body_escaped():
    c = Composer()
    c.notification.title.value = "<script>alert(1)</script>"
    assert "<script>" not in c.json_view.value
    assert "&lt;script&gt;" in c.json_view.value
    assert "<script>alert" not in c.preview_view.value


def test_problems_come_from_the_same_validation_as_the_client():
    c = Composer()
    c.notification.title.value = "Report"
    c.notification.media.value = "https://cdn.example.com/r.png"
    row = c.notification.actions.add_row()
    row.title.value = "Open"
    row.url.value = "https://example.com"
    expected = payloads.validate("push", c.payload)
    assert expected, "media together with actions is a problem"
    assert c.problems == expected
    assert any(p.path == "actions" for p in c.problems)
    assert "actions" in c.problems_view.value and "problem" in c.problems_view.value


def test_blank_title_is_reported_as_missing():
    c = Composer()
    assert "title" not in c.payload
    assert [p.path for p in c.problems] == ["title"]


def test_action_body_with_bad_json_shows_an_inline_error_and_a_problem():
    c = Composer()
    c.notification.title.value = "x"
    row = c.notification.actions.add_row()
    row.type.value = "webhook"
    row.title.value = "Rerun"
    row.url.value = "https://hooks.example.com/rerun"
    row.body.value = '{"job": '
    assert "invalid JSON" in row.error.value
    assert any(p.path == "actions[0].body" and "invalid JSON" in p.message for p in c.problems)
    row.body.value = '{"job": "nightly"}'
    assert row.error.value == ""
    assert c.payload["actions"] == [{"title": "Rerun", "type": "webhook", "url": "https://hooks.example.com/rerun",
                                     "body": {"job": "nightly"}}]
    assert c.problems == []


def test_action_editor_allows_at_most_four_and_remove_works():
    c = Composer()
    editor = c.notification.actions
    for _ in range(payloads.MAX_ACTIONS):
        editor.add.click()
    assert len(editor.rows) == 4 and editor.add.disabled
    editor.rows[1].remove.click()
    assert len(editor.rows) == 3 and not editor.add.disabled
    assert len(c.payload["actions"]) == 3


def test_metadata_parse_error_shown_inline():
    c = Composer()
    c.notification.title.value = "x"
    c.notification.common.metadata.value = "[1, 2]"
    assert "JSON object" in c.notification.common.metadata_error.value
    assert any(p.path == "metadata" for p in c.problems)
    assert "metadata" not in c.payload


@pytest.mark.parametrize(("kind", "fields", "expected"), [
    ("progress", {"percentage": "42", "color": "green"}, {"percentage": 42, "color": "green"}),
    ("segmented_progress", {"number_of_steps": "5", "current_step": "2", "step_colors": "green, red"},
     {"number_of_steps": 5, "current_step": 2, "step_colors": ["green", "red"]}),
    ("value", {"value": "$1,240"}, {"value": "$1,240"}),
    ("value", {"value": '"9"'}, {"value": "9"}),
    ("timer", {"duration_seconds": "1500", "counts_down": True, "is_running": False},
     {"duration_seconds": 1500, "counts_down": True, "is_running": False}),
    ("alert", {"message": "Disk 92% full"}, {"message": "Disk 92% full"}),
], ids=["progress", "segmented", "value-string", "value-quoted-number", "timer", "alert"])
def test_live_activity_fields_per_type(kind, fields, expected):
    c = Composer(endpoint="stream", stream_key="job-1")
    c.live.type.value = kind
    c.live.title.value = "Job"
    for name, value in fields.items():
        getattr(c.live, name).value = value
    assert c.payload == {"content_state": {"title": "Job", "type": kind, **expected}}
    assert c.problems == []
    assert f'data-type="{kind}"' in c.preview_view.value


def test_only_the_fields_a_type_uses_are_shown_and_sent():
    c = Composer(endpoint="stream", stream_key="k")
    c.live.type.value = "progress"
    c.live.title.value = "x"
    c.live.percentage.value = "10"
    c.live.message.value = "not for progress"
    assert c.live.message.layout.display == "none"
    assert c.live.percentage.layout.display is None
    assert "message" not in c.payload["content_state"]
    c.live.type.value = "alert"
    assert c.live.message.layout.display is None and c.live.percentage.layout.display == "none"
    assert c.payload["content_state"] == {"title": "x", "type": "alert", "message": "not for progress"}


def test_metrics_editor_builds_metrics():
    c = Composer(endpoint="stream", stream_key="srv")
    c.live.type.value = "metrics"
    c.live.title.value = "Server"
    for label, value, unit in (("CPU", "76", "%"), ("MEM", "52", "%")):
        row = c.live.metrics.add_row()
        row.label.value, row.value_.value, row.unit.value = label, value, unit
    c.live.metrics.rows[0].color.value = "orange"
    assert c.payload["content_state"]["metrics"] == [
        {"label": "CPU", "value": 76, "unit": "%", "color": "orange"}, {"label": "MEM", "value": 52, "unit": "%"}]
    assert c.problems == []
    for _ in range(10):
        c.live.metrics.add.click()
    assert len(c.live.metrics.rows) == payloads.MAX_METRICS


def test_unparsable_number_is_passed_on_for_validate_to_report():
    c = Composer(endpoint="stream", stream_key="k")
    c.live.type.value = "progress"
    c.live.title.value = "x"
    c.live.percentage.value = "lots"
    assert c.payload["content_state"]["percentage"] == "lots"
    assert any(p.path == "content_state.percentage" for p in c.problems)


def test_bad_stream_key_is_a_problem():
    c = Composer(endpoint="stream", stream_key="bad key/1")
    c.live.type.value = "value"
    c.live.title.value = "x"
    c.live.value.value = "1"
    assert [p.path for p in c.problems] == ["stream_key"]


@pytest.mark.parametrize("endpoint", ["push", "stream"])
def test_python_code_runs_and_never_contains_the_key(endpoint, monkeypatch, sim, server):
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", SECRET)
    c = Composer(endpoint=endpoint, stream_key="code-1")
    if endpoint == "push":
        _fill_notification(c)
    else:
        c.live.type.value = "progress"
        c.live.title.value = "From code"
        c.live.percentage.value = "33"
    code = c.python_code
    assert SECRET not in code and "ACTIVITYSMITH_API_KEY" in code
    env = {"ACTIVITYSMITH_API_KEY": SECRET, "ACTIVITYSMITH_BASE_URL": server.url, "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, timeout=60)
    assert [r.json for r in sim.requests] == [c.payload]
    assert sim.requests[0].key == ("code-1" if endpoint == "stream" else None)


# --------------------------------------------------------------------------------------- send
def test_send_button_sends_exactly_the_shown_body(client, sim):
    c = Composer(client=client)
    _fill_notification(c)
    c.send_button.click()
    assert [(r.method, r.path) for r in sim.requests] == [("POST", "/push-notification")]
    assert sim.requests[0].json == c.payload == json.loads(c.json_text)
    assert c.result["ok"] is True
    notification_id = c.result["response"]["notification_id"]
    assert notification_id and c.notification_id == notification_id
    assert notification_id in c.result_view.value
    assert sim.notifications[0]["request"] == c.payload


def test_invalid_body_is_not_sent_and_problems_shown(client, sim):
    c = Composer(client=client)
    c.notification.title.value = "x"
    c.notification.media.value = "https://cdn.example.com/a.png"
    c.notification.actions.add_row({"title": "Go", "type": "open_url", "url": "https://example.com"})
    c.send_button.click()
    assert sim.requests == []
    assert c.result["ok"] is False and c.result["error"]["type"] == "PayloadError"
    assert "actions" in c.result_view.value


def test_a_refusal_is_cleared_once_the_form_changes_but_an_answer_stays(client, sim):
    c = Composer(client=client)
    c.send_button.click()  # no title: refused here
    assert c.result["ok"] is False and "title" in c.result_view.value
    c.notification.title.value = "x"  # the stale "title: is required" used to stay next to "no problems"
    assert c.result == {} and c.result_view.value == ""
    assert c.problems == []
    c.send_button.click()
    assert c.result["ok"] is True
    c.notification.message.value = "more"  # a real answer from the API stays until the next send
    assert c.result["ok"] is True and "succeeded" in c.result_view.value


def test_unparsable_json_blocks_sending(client, sim):
    c = Composer(client=client)
    c.notification.title.value = "x"
    c.notification.common.metadata.value = "{nope"
    c.send_button.click()
    assert sim.requests == []
    assert c.result["error"]["problems"][0][0] == "metadata"


def test_api_error_is_shown_in_the_widget(client, sim):
    sim.inject(403, body={"error": "forbidden", "message": "channel outside the key's scope"})
    c = Composer(client=client)
    c.notification.title.value = "x"
    c.send_button.click()
    assert c.result["ok"] is False
    assert c.result["error"]["status"] == 403
    assert "channel outside the key" in c.result_view.value


def test_stream_then_end_buttons(client, sim):
    c = Composer(client=client, endpoint="stream", stream_key="nightly-backup")
    c.live.type.value = "progress"
    c.live.title.value = "Nightly backup"
    c.live.percentage.value = "40"
    c.live.action.title.value = "Logs"
    c.live.action.url.value = "https://ci.example.com/logs"
    c.stream_button.click()
    assert c.result["response"]["operation"] == "started"
    assert "started" in c.result_view.value
    c.live.percentage.value = "90"
    c.stream_button.click()
    assert c.result["response"]["operation"] == "updated"
    [shown] = sim.lock_screen()
    assert shown["content_state"]["percentage"] == 90 and shown["action"]["title"] == "Logs"
    c.live.auto_dismiss_seconds.value = "0"
    c.end_button.click()
    assert c.result["response"]["operation"] == "ended"
    put1, put2, delete = sim.requests
    assert (put1.method, put1.path, put1.key) == ("PUT", "/live-activity/stream/nightly-backup", "nightly-backup")
    assert put2.json == c.payload
    assert delete.method == "DELETE" and delete.json == c.end_payload
    assert delete.json["content_state"]["auto_dismiss_seconds"] == 0
    assert "auto_dismiss_seconds" not in c.payload["content_state"]


def test_default_client_is_used_when_none_given(monkeypatch, sim):
    from activitysmith_jupyter.api import client as client_module

    with client_module.ActivitySmith(transport=sim.transport()) as shared:
        monkeypatch.setattr(client_module, "default_client", lambda: shared)
        c = Composer()
        c.notification.title.value = "via default client"
        c.send_button.click()
    assert [r.json for r in sim.requests] == [{"title": "via default client"}]


# ------------------------------------------------------------------------------ load / traits
LIVE_BODY = {
    "content_state": {
        "title": "Deploy", "subtitle": "web", "type": "segmented_progress", "number_of_steps": 4, "current_step": 2,
        "color": "blue", "step_colors": ["green", "green"], "icon": {"symbol": "bolt.fill", "color": "yellow"},
        "badge": {"title": "PROD", "color": "red"},
    },
    "action": {"title": "Open", "type": "open_url", "url": "https://deploy.example.com"},
    "secondary_action": {"title": "Rollback", "type": "webhook", "url": "https://hooks.example.com/rb",
                         "method": "POST", "body": {"env": "prod"}},
    "alert": {"title": "Deploying"},
    "tags": ["deploy"], "metadata": {"sha": "1a2b"}, "target": {"channels": ["ops"]},
}
PUSH_BODY = {
    "title": "Homepage ready", "message": "Your agent finished the redesign.",
    "media": "https://cdn.example.com/output/homepage-v2.png", "redirection": "https://github.com/acme/web/pull/482",
    "interruption_level": "passive", "tags": ["agent"], "metadata": {"pr": 482, "ok": True},
    "target": {"channels": ["design"]}, "badge": 3, "sound": "default", "payload": {"x": 1},
}


@pytest.mark.parametrize(("body", "endpoint"), [(PUSH_BODY, "push"), (LIVE_BODY, "stream")], ids=["push", "stream"])
def test_from_payload_round_trips_exactly(body, endpoint):
    c = Composer.from_payload(body, stream_key="deploy-web")
    assert c.endpoint == endpoint
    assert c.payload == body
    assert c.problems == []


def test_unknown_fields_survive_a_load_and_are_reported():
    body = {"title": "x", "priority": "high"}
    c = Composer(payload=body)
    assert c.payload == body
    assert [p.path for p in c.problems] == ["priority"]


def test_channels_shorthand_is_normalised_like_a_send():
    c = Composer(payload={"title": "x", "channels": "a, b"})
    assert c.payload == {"title": "x", "target": {"channels": ["a", "b"]}}
    assert c.notification.common.channels.value == "a, b"


def test_a_body_that_building_refuses_is_shown_with_its_problem_and_not_sent(client, sim):
    c = Composer(client=client, payload={"title": "x", "channels": 5})
    assert c.payload == {"title": "x", "channels": 5}
    assert [p.path for p in c.problems] == ["channels"]
    c.send_button.click()
    assert not c.result["ok"] and sim.requests == []


@pytest.mark.parametrize("kind", payloads.TYPES)
def test_the_fields_shown_are_the_types_row_of_payloads_type_fields(kind):
    c = Composer(endpoint="stream", stream_key="k")
    c.live.type.value = kind
    shown = {name for name, box in c.live._field_boxes.items() if box.layout.display is None}
    assert shown == set(payloads.TYPE_FIELDS[kind])


def test_the_render_module_is_pure():
    code = ("import sys; from activitysmith_jupyter.composer import render; "
            "from activitysmith_jupyter.errors import Problem; "
            "assert 'ipywidgets' not in sys.modules; "
            "assert '&lt;b&gt;' in render.problems_html([Problem('title', '<b>')])")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_setting_the_payload_trait_fills_the_form_and_picks_the_tab():
    c = Composer()
    c.payload = LIVE_BODY
    assert c.endpoint == "stream" and c.tabs.selected_index == 1
    assert c.live.title.value == "Deploy" and c.live.type.value == "segmented_progress"
    assert c.live.secondary_action.title.value == "Rollback"
    assert json.loads(c.live.secondary_action.body.value) == {"env": "prod"}
    assert c.payload == LIVE_BODY
    c.payload = PUSH_BODY
    assert c.endpoint == "push" and c.notification.title.value == "Homepage ready"
    assert c.payload == PUSH_BODY


def test_tabs_and_endpoint_trait_stay_in_sync():
    c = Composer()
    c.tabs.selected_index = 1
    assert c.endpoint == "stream"
    c.endpoint = "push"
    assert c.tabs.selected_index == 0


def test_no_api_key_in_any_widget_state(sim):
    from activitysmith_jupyter.api.client import ActivitySmith

    with ActivitySmith(api_key=SECRET, transport=sim.transport()) as keyed:
        c = Composer(client=keyed)
        _fill_notification(c)
        c.send_button.click()
        assert c.result["ok"]
        states = _all_widget_states(c)
    assert len(states) > 20
    dumped = json.dumps(states, default=str) + json.dumps(c.result, default=str) + repr(c)
    dumped += json.dumps({name: getattr(c, name) for name in c.trait_names() if name not in ("children", "layout")},
                         default=str)
    assert SECRET not in dumped
    assert all(type(getattr(c, name)).__name__ != "ActivitySmith" for name in c.trait_names())


def test_repr_is_short_and_stable():
    c = Composer(payload={"title": "Hello"})
    assert repr(c) == "Composer(endpoint='push', title='Hello', problems=0)"


def test_importing_the_package_does_not_import_ipywidgets():
    code = ("import sys, activitysmith_jupyter as a; a.__version__; "
            "assert 'ipywidgets' not in sys.modules and 'IPython' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------- the seed's requests
def _seed_cases() -> list[dict]:
    from _wire_compare import load_golden

    return [c for c in load_golden() if c["method"] in ("POST", "PUT") and
            c["path"].startswith(("/push-notification", "/live-activity/stream/"))]


@pytest.mark.parametrize("case", _seed_cases(), ids=lambda c: c["name"])
def test_seed_requests_load_unchanged_and_send_the_same_bytes(case, client, sim):
    key = case["path"].rsplit("/", 1)[-1] if case["method"] == "PUT" else None
    c = Composer.from_payload(case["json"], client=client, stream_key=key)
    assert c.payload == case["json"]
    assert c.problems == []
    (c.stream_button if key else c.send_button).click()
    assert c.result["ok"], c.result
    assert sim.requests[-1].json == case["json"]

"""Every endpoint of the API (doc §2) answers like ActivitySmith: auth, routing, validation, bodies."""
from __future__ import annotations

import json

import httpx
import pytest
from simulator_helpers import AUTH, BASE, api, progress

from activitysmith_jupyter.simulator import Simulator


def test_push_returns_notification_id_and_delivery_counts(sim):
    with api(sim) as http:
        r = http.post("/push-notification", json={"title": "Deployed", "message": "v2.4.1 is live",
                                                  "target": {"channels": ["ops"]}, "tags": ["deploy"]})
    body = r.json()
    assert r.status_code == 200
    assert body["success"] is True
    assert body["notification_id"].startswith("ntf_")
    assert body["effective_channel_slugs"] == ["ops"]
    assert body["tags"] == ["deploy"]
    assert body["devices_notified"] == 1
    assert body["timestamp"].endswith("Z")


def test_timestamps_come_from_the_injected_clock(sim, clock):
    with api(sim) as http:
        first = http.post("/push-notification", json={"title": "a"}).json()["timestamp"]
        clock.advance(90)
        second = http.post("/push-notification", json={"title": "b"}).json()["timestamp"]
    assert first == "2026-09-21T14:13:20.000Z"
    assert second == "2026-09-21T14:14:50.000Z"


def test_replace_keeps_tags_and_metadata_when_omitted(sim):
    with api(sim) as http:
        nid = http.post("/push-notification", json={"title": "Build running", "tags": ["ci"],
                                                    "metadata": {"run": 7}}).json()["notification_id"]
        r = http.put(f"/push-notification/{nid}", json={"title": "Build passed", "message": "all green"})
    assert r.status_code == 200
    assert r.json()["notification_id"] == nid
    [entry] = sim.notifications
    assert entry["replaced"] == 1
    assert entry["request"] == {"title": "Build passed", "message": "all green", "tags": ["ci"],
                                "metadata": {"run": 7}}


def test_replace_with_empty_tags_clears_them(sim):
    with api(sim) as http:
        nid = http.post("/push-notification", json={"title": "x", "tags": ["ci"]}).json()["notification_id"]
        http.put(f"/push-notification/{nid}", json={"title": "y", "tags": []})
    assert sim.notifications[0]["request"]["tags"] == []


def test_replace_of_unknown_notification_is_404(sim):
    with api(sim) as http:
        r = http.put("/push-notification/ntf_missing", json={"title": "y"})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_metric_value_is_stored(sim):
    with api(sim) as http:
        r = http.post("/metrics/deploy.success_rate/value", json={"value": 99.5})
    assert r.status_code == 200
    assert r.json() == {"success": True}
    assert sim.metrics["deploy.success_rate"]["value"] == 99.5


def test_unknown_metric_is_404_when_known_metrics_are_configured(clock):
    sim = Simulator(clock=clock, known_metrics=["mrr"])
    with api(sim) as http:
        assert http.post("/metrics/mrr/value", json={"value": "$1,240"}).status_code == 200
        r = http.post("/metrics/churn/value", json={"value": 3})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_badge_count_is_set_and_cleared(sim):
    with api(sim) as http:
        r = http.post("/badge", json={"badge": 5, "target": {"channels": ["ops"]}})
        assert sim.badge == 5
        http.post("/badge", json={"badge": 0})
    body = r.json()
    assert body["badge"] == 5
    assert body["devices_updated"] == 1 and body["users_updated"] == 1
    assert body["effective_channel_slugs"] == ["ops"]
    assert sim.badge == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": "Basic dGVzdA=="},
     {"Authorization": "Bearer wrong-key"}],
    ids=["missing", "empty", "empty-bearer", "not-bearer", "wrong-key"],
)
def test_bad_or_missing_key_is_401(clock, headers):
    sim = Simulator(clock=clock, api_key="test-key")
    with httpx.Client(transport=sim.transport(), base_url=BASE, headers=headers) as http:
        r = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert r.json()["message"]
    assert sim.notifications == []


def test_any_non_empty_key_is_accepted_without_a_configured_key(sim):
    with httpx.Client(transport=sim.transport(), base_url=BASE,
                      headers={"Authorization": "Bearer anything"}) as http:
        assert http.post("/push-notification", json={"title": "x"}).status_code == 200


def test_empty_configured_key_is_refused():
    with pytest.raises(ValueError):
        Simulator(api_key="")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/push-notification"), ("POST", "/nowhere"), ("DELETE", "/push-notification/ntf_1"),
     ("POST", "/live-activity/stream/k"), ("GET", "/live-activity/start")],
    ids=["get-push", "unknown-path", "delete-notification", "post-stream", "get-start"],
)
def test_unknown_path_or_method_is_404(sim, method, path):
    with api(sim) as http:
        r = http.request(method, path, json={"title": "x"})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"],
                         ids=["broken", "array", "empty", "not-utf8"])
def test_invalid_json_body_is_400(sim, raw):
    with api(sim) as http:
        r = http.post("/push-notification", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"] == "bad_request"


def test_validation_reports_every_problem_in_one_400(sim):
    body = {"title": "x", "interruption_level": "loud", "media": "http://insecure.example/a.png",
            "priority": "high"}
    with api(sim) as http:
        r = http.post("/push-notification", json=body)
    assert r.status_code == 400
    message = r.json()["message"]
    for field in ("interruption_level", "media", "priority"):
        assert field in message
    assert sim.notifications == []


@pytest.mark.parametrize(
    ("path", "body"),
    [("/live-activity/stream/bad%20key", progress()), ("/metrics/Bad Key!/value", {"value": 1}),
     ("/live-activity/stream/k", {"content_state": {"title": "x", "type": "progress", "percentage": 120}})],
    ids=["stream-key-pattern", "metric-key-pattern", "percentage-range"],
)
def test_path_keys_and_ranges_are_validated(sim, path, body):
    method = "PUT" if "stream" in path else "POST"
    with api(sim) as http:
        r = http.request(method, path, json=body)
    assert r.status_code == 400
    assert sim.lock_screen() == []


def test_sdk_injected_defaults_are_accepted(sim):
    """SDK 1.14.0 adds counts_down/is_running to every type and method POST to open_url actions."""
    body = progress(counts_down=True, is_running=True)
    body["action"] = {"title": "Open", "type": "open_url", "url": "https://example.com", "method": "POST"}
    with api(sim) as http:
        r = http.put("/live-activity/stream/reindex", json=body)
        end = http.post("/live-activity/start", json={"content_state": {
            "title": "x", "type": "value", "value": 3, "counts_down": True, "is_running": True}})
        ended = http.post("/live-activity/end", json={"activity_id": end.json()["activity_id"], "content_state": {
            "title": "x", "value": 4, "counts_down": True, "is_running": True, "auto_dismiss_minutes": 3}})
    assert r.status_code == 200, r.text
    assert end.status_code == 200, end.text
    assert ended.status_code == 200, ended.text


def test_api_prefix_query_and_trailing_slash_are_ignored(sim):
    r = sim.handle("POST", "/api/push-notification/?source=test", AUTH, json.dumps({"title": "x"}).encode())
    assert r.status == 200
    assert sim.requests[-1].path == "/push-notification"


def test_path_keys_are_percent_decoded(sim):
    with api(sim) as http:
        http.put("/live-activity/stream/nightly-backup", json=progress())
    assert sim.requests[-1].key == "nightly-backup"
    assert sim.lock_screen()[0]["stream_key"] == "nightly-backup"


def test_requests_are_recorded_with_lowercase_headers_and_parsed_json(sim):
    with api(sim) as http:
        http.post("/push-notification", json={"title": "x"}, headers={"X-Trace": "1"})
    [rec] = sim.requests
    assert (rec.method, rec.path, rec.status) == ("POST", "/push-notification", 200)
    assert rec.json == {"title": "x"}
    assert rec.headers["x-trace"] == "1"
    assert rec.headers["authorization"] == "Bearer test-key"  # kept for tests...
    assert "test-key" not in repr(rec)  # ...but never shown
    assert "test-key" not in json.dumps(rec.to_dict())
    assert rec.response["success"] is True


def test_a_simulator_bug_answers_500_instead_of_raising(sim, monkeypatch):
    def boom(*_args):
        raise RuntimeError("bug")

    monkeypatch.setattr(sim._phone, "on_push", boom)
    with api(sim) as http:
        r = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 500
    assert r.json()["error"] == "internal_error"

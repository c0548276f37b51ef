"""Account limits: 4 concurrent Live Activities, 60 requests/minute (sliding), metrics' own 300/minute."""
from __future__ import annotations

import pytest
from simulator_helpers import api, progress

from activitysmith_jupyter.simulator import Simulator


def test_fifth_concurrent_activity_is_refused_with_limit_body(sim):
    with api(sim) as http:
        for i in range(4):
            assert http.put(f"/live-activity/stream/job-{i}", json=progress(i)).status_code == 200
        r = http.put("/live-activity/stream/job-4", json=progress(4))
        legacy = http.post("/live-activity/start", json=progress(4))
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "live_activity_limit"
    assert (body["limit"], body["active"]) == (4, 4)
    assert body["message"]
    assert legacy.status_code == 429
    assert len(sim.lock_screen()) == 4


def test_ending_one_activity_frees_a_slot(sim):
    with api(sim) as http:
        for i in range(4):
            http.put(f"/live-activity/stream/job-{i}", json=progress(i))
        http.delete("/live-activity/stream/job-0")
        r = http.put("/live-activity/stream/job-4", json=progress(4))
    assert r.json()["operation"] == "started"


def test_updates_and_rotation_work_at_the_limit(sim):
    with api(sim) as http:
        for i in range(4):
            http.put(f"/live-activity/stream/job-{i}", json=progress(i))
        updated = http.put("/live-activity/stream/job-0", json=progress(50)).json()
        rotated = http.put("/live-activity/stream/job-1", json={"content_state": {
            "title": "x", "type": "value", "value": 3}}).json()
    assert updated["operation"] == "updated"
    assert rotated["operation"] == "rotated"


def test_sixty_first_request_in_a_minute_is_429_with_retry_after_then_recovers(sim, clock):
    with api(sim) as http:
        for i in range(60):
            assert http.post("/push-notification", json={"title": f"n{i}"}).status_code == 200
            clock.advance(0.5)  # 60 requests over 30 s
        r = http.put("/live-activity/stream/job", json=progress(1))
        assert r.status_code == 429
        assert r.json()["error"] == "rate_limited"
        assert r.json()["code"] == "rate_limited"
        assert r.headers["retry-after"] == "30"  # the first request leaves the window 60 s after it was sent
        clock.advance(29)
        assert http.post("/push-notification", json={"title": "late"}).status_code == 429
        clock.advance(1)
        assert http.post("/push-notification", json={"title": "ok"}).status_code == 200
    assert len(sim.notifications) == 61


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("PUT", "/live-activity/stream/s", progress(1)), ("DELETE", "/live-activity/stream/s", None),
     ("POST", "/live-activity/start", progress(1)), ("POST", "/push-notification", {"title": "x"})],
    ids=["stream-put", "stream-delete", "legacy-start", "push"],
)
def test_lifecycle_and_push_requests_share_the_budget(clock, method, path, body):
    sim = Simulator(clock=clock, rate_limit_per_minute=1)
    with api(sim) as http:
        http.post("/push-notification", json={"title": "first"})
        r = http.request(method, path, json=body)
    assert r.status_code == 429


def test_metrics_and_badge_do_not_spend_the_account_budget(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=1)
    with api(sim) as http:
        http.post("/push-notification", json={"title": "first"})
        assert http.post("/metrics/mrr/value", json={"value": 1}).status_code == 200
        assert http.post("/badge", json={"badge": 1}).status_code == 200


def test_metrics_have_their_own_per_minute_budget(clock):
    sim = Simulator(clock=clock, metric_rate_limit_per_minute=3)
    with api(sim) as http:
        codes = [http.post("/metrics/mrr/value", json={"value": i}).status_code for i in range(4)]
        assert http.post("/push-notification", json={"title": "x"}).status_code == 200
    assert codes == [200, 200, 200, 429]


def test_rate_limit_can_be_turned_off(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=None)
    with api(sim) as http:
        codes = {http.post("/push-notification", json={"title": "x"}).status_code for _ in range(100)}
    assert codes == {200}


def test_changing_the_limit_on_a_running_simulator_applies_at_once(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=60)
    with api(sim) as http:
        for i in range(5):
            assert http.post("/push-notification", json={"title": f"n{i}"}).status_code == 200
            clock.advance(1)
        sim.rate_limit_per_minute = 3  # 5 in the window: wait until the third-newest (t=2) leaves it
        r = http.post("/push-notification", json={"title": "refused"})
        assert (r.status_code, r.headers["retry-after"]) == (429, "57")
        assert "Rate limit of 3 requests" in r.json()["message"]
        sim.rate_limit_per_minute = None
        assert http.post("/push-notification", json={"title": "unlimited"}).status_code == 200


def test_refused_requests_do_not_count_against_the_budget(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=2)
    with api(sim) as http:
        for _ in range(5):
            http.post("/push-notification", json={"title": "x", "priority": "high"})  # 400
        assert http.post("/push-notification", json={"title": "ok"}).status_code == 200

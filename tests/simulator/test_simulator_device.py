"""The phone side: lock screen, notification history, events, the timeline text, secrets, threads."""
from __future__ import annotations

import json
import threading

import pytest

from simulator_helpers import AUTH, api, progress

from activitysmith_jupyter.simulator import Simulator, shared_simulator


def test_timeline_reads_like_what_the_phone_showed(sim, clock):
    with api(sim) as http:
        http.put("/live-activity/stream/search-reindex", json=progress(42))
        clock.advance(12.5)
        http.post("/push-notification", json={"title": "New subscription 💸",
                                               "message": "Customer upgraded to Pro plan"})
        clock.advance(60)
        http.put("/live-activity/stream/search-reindex", json=progress(80))
        http.put("/live-activity/stream/search-reindex", json=progress(80))  # noop: nothing shown
        clock.advance(3)
        http.delete("/live-activity/stream/search-reindex")
    assert sim.timeline().splitlines() == [
        "+00:00.0  ▶ started   search-reindex   Search Reindex · catalog-v2  [progress 42%]",
        "+00:12.5  🔔 push  New subscription 💸 — Customer upgraded to Pro plan",
        "+01:12.5  ↻ updated   search-reindex   Search Reindex · catalog-v2  [progress 80%]",
        "+01:15.5  ■ ended     search-reindex   Search Reindex · catalog-v2  [progress 80%]  (dismiss in 120s)",
    ]
    assert sim.timeline(skip="updated").splitlines() == [  # offsets still count from the first event
        "+00:00.0  ▶ started   search-reindex   Search Reindex · catalog-v2  [progress 42%]",
        "+00:12.5  🔔 push  New subscription 💸 — Customer upgraded to Pro plan",
        "+01:15.5  ■ ended     search-reindex   Search Reindex · catalog-v2  [progress 80%]  (dismiss in 120s)",
    ]
    assert sim.timeline(skip=("updated", "started", "ended")).splitlines() == [
        "+00:12.5  🔔 push  New subscription 💸 — Customer upgraded to Pro plan"]


def test_timeline_skip_names_an_unknown_kind(sim):
    with pytest.raises(ValueError, match="unknown event kind 'update'"):
        sim.timeline(skip="update")


def test_timeline_describes_each_live_activity_type(sim):
    states = {
        "steps": {"title": "Backup", "type": "segmented_progress", "number_of_steps": 3, "current_step": 2},
        "health": {"title": "Server Health", "type": "metrics",
                   "metrics": [{"label": "CPU", "value": 9.0, "unit": "%"}, {"label": "MEM", "value": 45}]},
        "mrr": {"title": "MRR", "type": "value", "value": "$1,240"},
        "tea": {"title": "Tea", "type": "timer", "duration_seconds": 180},
    }
    sim_all = Simulator(clock=sim.clock, max_active_activities=10)
    with api(sim_all) as http:
        for key, cs in states.items():
            http.put(f"/live-activity/stream/{key}", json={"content_state": cs})
        http.post("/badge", json={"badge": 3})
        http.post("/metrics/deploy.rate/value", json={"value": 99})
    text = sim_all.timeline()
    assert "[step 2/3]" in text
    assert "[metrics CPU 9%, MEM 45]" in text
    assert "[value $1,240]" in text
    assert "[timer 180s down]" in text
    assert "app icon badge 3" in text
    assert "deploy.rate = 99" in text


def test_rotation_and_replace_appear_in_the_timeline(sim):
    with api(sim) as http:
        nid = http.post("/push-notification", json={"title": "Build running"}).json()["notification_id"]
        http.put(f"/push-notification/{nid}", json={"title": "Build passed"})
        http.put("/live-activity/stream/job", json=progress(1))
        http.put("/live-activity/stream/job", json={"content_state": {"title": "Job", "type": "value", "value": 2}})
    kinds = [e.kind for e in sim.events]
    assert kinds == ["push", "replaced", "started", "ended", "rotated"]
    assert "✎ replaced  Build passed" in sim.timeline()
    assert "(replaces act_" in sim.timeline()


def test_empty_timeline_is_empty_text(sim):
    assert sim.timeline() == ""


def test_lock_screen_entries_have_the_contract_fields(sim):
    with api(sim) as http:
        http.put("/live-activity/stream/job", json=progress(5))
    [card] = sim.lock_screen()
    for name in ("activity_id", "stream_key", "state", "content_state", "action", "secondary_action",
                 "updates", "started_at", "ended_at"):
        assert name in card
    assert card["started_at"] == "2026-09-21T14:13:20.000Z"
    assert card["ended_at"] is None


def test_views_are_copies(sim):
    with api(sim) as http:
        http.put("/live-activity/stream/job", json=progress(5))
        http.post("/push-notification", json={"title": "x"})
    sim.lock_screen()[0]["content_state"]["percentage"] = 99
    sim.notifications[0]["request"]["title"] = "changed"
    assert sim.lock_screen()[0]["content_state"]["percentage"] == 5
    assert sim.notifications[0]["request"]["title"] == "x"


def test_the_key_never_appears_in_repr_timeline_or_state(clock):
    secret = "ask_live_SECRET123"
    sim = Simulator(clock=clock, api_key=secret)
    with api(sim, headers={"Authorization": f"Bearer {secret}"}) as http:
        http.put("/live-activity/stream/job", json=progress(5))
        http.post("/push-notification", json={"title": "x"})
        http.post("/push-notification", json={"title": 1})  # 400 recorded too
    from activitysmith_jupyter.simulator.page import render_page

    texts = [repr(sim), repr(sim.requests), sim.timeline(), json.dumps(sim.snapshot()), render_page(sim),
             repr(sim.events), repr(sim.activities), repr(sim.transport())]
    assert all(secret not in t for t in texts)
    assert sim.requests[0].headers["authorization"] == f"Bearer {secret}"


def test_handle_accepts_plain_headers_and_str_bodies(sim):
    r = sim.handle("post", "/push-notification", AUTH, '{"title": "x"}')
    assert r.status == 200
    assert r.json()["success"] is True


def test_threads_hammering_the_simulator_keep_state_consistent(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=None, max_active_activities=100)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with api(sim) as http:
                for i in range(25):
                    assert http.put(f"/live-activity/stream/w{n}", json=progress(i)).status_code == 200
                    assert http.post("/push-notification", json={"title": f"{n}-{i}"}).status_code == 200
                http.delete(f"/live-activity/stream/w{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sim.requests) == 8 * 51
    assert len(sim.notifications) == 8 * 25
    assert len({n["notification_id"] for n in sim.notifications}) == 200
    activities = sim.activities.values()
    assert len(activities) == 8
    assert all(a.state == "ended" and a.updates == 24 for a in activities)


def test_threads_never_exceed_the_rate_limit(clock):
    sim = Simulator(clock=clock, rate_limit_per_minute=60)

    def worker() -> None:
        with api(sim) as http:
            for _ in range(20):
                http.post("/push-notification", json={"title": "x"})

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sim.notifications) == 60
    assert sum(r.status == 429 for r in sim.requests) == 60


def test_shared_simulator_is_one_per_process():
    assert shared_simulator() is shared_simulator()
    assert isinstance(shared_simulator(), Simulator)


def test_history_keeps_only_the_newest_requests_and_events(clock):
    sim = Simulator(clock=clock, history_limit=5, rate_limit_per_minute=None)
    with api(sim) as http:
        for i in range(8):
            http.post("/push-notification", json={"title": f"n{i}"})
    assert [r.json["title"] for r in sim.requests] == ["n3", "n4", "n5", "n6", "n7"]
    assert len(sim.events) == 5
    assert len(sim.notifications) == 8  # the phone's history is not trimmed


def test_the_simulator_imports_no_notebook_machinery():
    import subprocess
    import sys

    code = ("import sys, activitysmith_jupyter.simulator as s; sim = s.Simulator(); "
            "sim.handle('POST', '/push-notification', {'authorization': 'Bearer k'}, b'{\"title\": \"x\"}'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('IPython', 'ipywidgets', 'tqdm')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr

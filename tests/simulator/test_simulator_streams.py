"""The Live Activity state machine: stream PUT/DELETE operations, the throttling warning, legacy lifecycle."""
from __future__ import annotations

import pytest
from simulator_helpers import api, progress, steps


def put(http, key, body):
    return http.put(f"/live-activity/stream/{key}", json=body)


def test_first_put_starts_an_activity(sim):
    with api(sim) as http:
        r = put(http, "reindex", progress(10))
    body = r.json()
    assert body["operation"] == "started"
    assert body["stream_key"] == "reindex"
    assert body["activity_id"].startswith("act_")
    [card] = sim.lock_screen()
    assert card["state"] == "active"
    assert card["content_state"]["percentage"] == 10


def test_first_put_without_type_is_400(sim):
    with api(sim) as http:
        r = put(http, "reindex", progress(10, typed=False))
    assert r.status_code == 400
    assert "type" in r.json()["message"]
    assert sim.lock_screen() == []


@pytest.mark.parametrize(
    ("content_state", "missing"),
    [({"title": "Health", "type": "metrics"}, "content_state.metrics"),
     ({"title": "Backup", "type": "segmented_progress", "current_step": 1}, "content_state.number_of_steps"),
     ({"title": "Revenue", "type": "value"}, "content_state.value")],
    ids=["metrics-without-metrics", "segments-without-step-count", "value-without-value"],
)
def test_first_put_without_its_types_fields_is_400(sim, content_state, missing):
    with api(sim) as http:
        r = put(http, "job", {"content_state": content_state})
    assert r.status_code == 400
    assert missing in r.json()["message"]
    assert sim.lock_screen() == []


def test_type_change_needs_the_new_types_fields_and_keeps_the_old_activity(sim):
    with api(sim) as http:
        first = put(http, "job", progress(10)).json()
        refused = put(http, "job", {"content_state": {"title": "Job", "type": "value"}})
        rotated = put(http, "job", {"content_state": {"title": "Job", "type": "value", "value": "$1,240"}}).json()
    assert refused.status_code == 400 and "content_state.value" in refused.json()["message"]
    assert rotated["operation"] == "rotated" and rotated["previous_activity_id"] == first["activity_id"]


def test_later_put_updates_and_keeps_the_type(sim):
    with api(sim) as http:
        first = put(http, "reindex", progress(10)).json()
        second = put(http, "reindex", progress(50, typed=False)).json()
    assert second["operation"] == "updated"
    assert second["activity_id"] == first["activity_id"]
    [card] = sim.lock_screen()
    assert card["content_state"]["type"] == "progress"
    assert card["content_state"]["percentage"] == 50
    assert card["updates"] == 1


def test_identical_put_is_a_noop(sim):
    with api(sim) as http:
        put(http, "reindex", progress(10))
        r = put(http, "reindex", progress(10)).json()
    assert r["operation"] == "noop"
    assert sim.lock_screen()[0]["updates"] == 0


def test_sdk_defaults_do_not_make_an_identical_state_look_changed(sim):
    with api(sim) as http:
        put(http, "reindex", progress(10))
        r = put(http, "reindex", progress(10, counts_down=True, is_running=True)).json()
    assert r["operation"] == "noop"


def test_changing_only_the_action_is_an_update(sim):
    action = {"title": "Open", "type": "open_url", "url": "https://ops.example.com"}
    with api(sim) as http:
        put(http, "reindex", progress(10))
        r = put(http, "reindex", {**progress(10), "action": action}).json()
        again = put(http, "reindex", {**progress(10), "action": action}).json()
    assert r["operation"] == "updated"
    assert again["operation"] == "noop"
    assert sim.lock_screen()[0]["action"] == action


@pytest.mark.parametrize(
    "change",
    [{"content_state": {"title": "Backup", "type": "segmented_progress", "number_of_steps": 3, "current_step": 1}},
     {**progress(10), "target": {"channels": ["ops"]}}],
    ids=["type-changed", "channels-changed"],
)
def test_type_or_channel_change_rotates(sim, change):
    with api(sim) as http:
        first = put(http, "reindex", progress(10)).json()
        r = put(http, "reindex", change).json()
    assert r["operation"] == "rotated"
    assert r["previous_activity_id"] == first["activity_id"]
    assert r["activity_id"] != first["activity_id"]
    assert sim.activities[first["activity_id"]].state == "ended"
    [card] = sim.lock_screen()  # the old one is dismissed at once
    assert card["activity_id"] == r["activity_id"]
    assert card["previous_activity_id"] == first["activity_id"]


def test_an_activity_older_than_eight_hours_rotates(sim, clock):
    with api(sim) as http:
        put(http, "reindex", progress(10))
        clock.advance(8 * 3600)
        r = put(http, "reindex", progress(11)).json()
    assert r["operation"] == "rotated"


def test_paused_stream_answers_paused_and_changes_nothing(sim):
    with api(sim) as http:
        started = put(http, "reindex", progress(10)).json()
        sim.pause_stream("reindex")
        r = put(http, "reindex", progress(90)).json()
        sim.resume_stream("reindex")
        resumed = put(http, "reindex", progress(90)).json()
    assert r["operation"] == "paused"
    assert r["activity_id"] == started["activity_id"]
    assert resumed["operation"] == "updated"


def test_delete_ends_with_the_final_state(sim):
    final = {"content_state": {"title": "Search Reindex", "percentage": 100, "auto_dismiss_minutes": 0}}
    with api(sim) as http:
        started = put(http, "reindex", progress(10)).json()
        r = http.request("DELETE", "/live-activity/stream/reindex", json=final).json()
    assert r["operation"] == "ended"
    assert r["activity_id"] == started["activity_id"]
    record = sim.activities[started["activity_id"]]
    assert record.state == "ended"
    assert record.content_state["percentage"] == 100
    assert "auto_dismiss_minutes" not in record.content_state
    assert sim.lock_screen() == []  # auto_dismiss 0: gone at once


def test_delete_without_body_ends_with_the_last_state(sim, clock):
    with api(sim) as http:
        put(http, "reindex", progress(70))
        r = http.delete("/live-activity/stream/reindex")
    assert r.status_code == 200
    [card] = sim.lock_screen()
    assert card["state"] == "ended"
    assert card["content_state"]["percentage"] == 70
    clock.advance(120)  # iOS default: two minutes, then the ended activity is dismissed
    assert sim.lock_screen() == []


def test_delete_of_unknown_stream_is_404(sim):
    with api(sim) as http:
        r = http.delete("/live-activity/stream/never-seen")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_delete_of_an_ended_stream_is_ignored(sim):
    with api(sim) as http:
        put(http, "reindex", progress(10))
        http.delete("/live-activity/stream/reindex")
        r = http.delete("/live-activity/stream/reindex")
    assert r.status_code == 200
    assert r.json()["ignored"] is True
    assert r.json()["operation"] == "ended"


def test_put_after_delete_starts_a_new_activity(sim):
    with api(sim) as http:
        first = put(http, "reindex", progress(10)).json()
        http.delete("/live-activity/stream/reindex")
        r = put(http, "reindex", progress(5)).json()
    assert r["operation"] == "started"
    assert r["activity_id"] != first["activity_id"]


def test_tags_on_later_puts_keep_replace_or_clear(sim):
    with api(sim) as http:
        put(http, "reindex", {**progress(10), "tags": ["a"]})
        kept = put(http, "reindex", progress(20)).json()
        replaced = put(http, "reindex", {**progress(30), "tags": ["b"]}).json()
        cleared = put(http, "reindex", {**progress(40), "tags": []}).json()
    assert kept["tags"] == ["a"]
    assert replaced["tags"] == ["b"]
    assert cleared["tags"] == []


def test_twelve_fast_updates_have_no_warning_and_the_thirteenth_has(sim, clock):
    with api(sim) as http:
        put(http, "fast", steps(0, 20))
        answers = []
        for i in range(1, 14):
            clock.advance(5)
            answers.append(put(http, "fast", steps(i, 20)).json())
    assert all(a["operation"] == "updated" for a in answers)
    assert all("warning" not in a for a in answers[:12])
    assert "throttle" in answers[12]["warning"]


def test_thirteen_updates_two_minutes_apart_have_no_warning(sim, clock):
    with api(sim) as http:
        put(http, "slow", steps(0, 20))
        answers = []
        for i in range(1, 14):
            clock.advance(120)
            answers.append(put(http, "slow", steps(i, 20)).json())
    assert [a["operation"] for a in answers] == ["updated"] * 13
    assert all("warning" not in a for a in answers)


def test_legacy_start_update_end_lifecycle(sim):
    with api(sim) as http:
        start = http.post("/live-activity/start", json={**steps(1), "target": {"channels": ["devs"]}}).json()
        aid = start["activity_id"]
        update = http.post("/live-activity/update", json={"activity_id": aid, "content_state": {
            "title": "Nightly Backup", "current_step": 2}}).json()
        end = http.post("/live-activity/end", json={"activity_id": aid, "content_state": {
            "title": "Nightly Backup", "current_step": 3, "auto_dismiss_minutes": 2}}).json()
        again = http.post("/live-activity/end", json={"activity_id": aid, "content_state": {"title": "x"}}).json()
    assert start["effective_channel_slugs"] == ["devs"]
    assert update["activity_id"] == aid
    assert end["activity_id"] == aid
    assert again["ignored"] is True
    record = sim.activities[aid]
    assert record.state == "ended"
    assert record.content_state == {"title": "Nightly Backup", "type": "segmented_progress",
                                    "number_of_steps": 3, "current_step": 3}  # updates merge
    assert record.updates == 1
    assert record.dismiss_at - record.ended_at == 120


@pytest.mark.parametrize("endpoint", ["update", "end"])
def test_legacy_update_or_end_of_unknown_activity_is_404(sim, endpoint):
    with api(sim) as http:
        r = http.post(f"/live-activity/{endpoint}", json={"activity_id": "act_nope",
                                                          "content_state": {"title": "x"}})
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_legacy_update_of_an_ended_activity_is_409(sim):
    with api(sim) as http:
        aid = http.post("/live-activity/start", json=steps(1)).json()["activity_id"]
        http.post("/live-activity/end", json={"activity_id": aid, "content_state": {"title": "x"}})
        r = http.post("/live-activity/update", json={"activity_id": aid, "content_state": {"title": "y"}})
    assert r.status_code == 409
    assert r.json()["error"] == "activity_ended"


def test_legacy_update_can_drive_a_stream_activity(sim):
    with api(sim) as http:
        aid = put(http, "reindex", progress(10)).json()["activity_id"]
        http.post("/live-activity/update", json={"activity_id": aid, "content_state": {
            "title": "Search Reindex", "percentage": 60}})
        r = put(http, "reindex", progress(60)).json()
    assert r["operation"] == "noop"


def test_reset_forgets_everything(sim):
    with api(sim) as http:
        put(http, "reindex", progress(10))
        http.post("/push-notification", json={"title": "x"})
    sim.inject(500)
    sim.reset()
    assert (sim.requests, sim.events, sim.lock_screen(), sim.notifications) == ([], [], [], [])
    with api(sim) as http:
        assert put(http, "reindex", progress(10)).json()["operation"] == "started"


@pytest.mark.anyio
async def test_async_client_drives_the_same_lifecycle(sim, clock):
    import httpx
    from simulator_helpers import AUTH, BASE

    async with httpx.AsyncClient(transport=sim.transport(), base_url=BASE, headers=AUTH) as http:
        ops = [(await http.put("/live-activity/stream/job", json=body)).json()["operation"]
               for body in (progress(10), progress(10), progress(20))]
        for i in range(3):
            await http.put(f"/live-activity/stream/other-{i}", json=progress(i))
        limited = await http.put("/live-activity/stream/fifth", json=progress(1))
        ended = (await http.delete("/live-activity/stream/job")).json()
    assert ops == ["started", "noop", "updated"]
    assert limited.status_code == 429
    assert ended["operation"] == "ended"

"""Fault injection through the in-process transport (sync and async) and the loopback server."""
from __future__ import annotations

import httpx
import pytest
from simulator_helpers import AUTH, BASE, api, progress


def test_injected_status_with_retry_after_and_custom_body(sim):
    sim.inject(503, retry_after=7, body={"error": "maintenance", "message": "back soon"})
    with api(sim) as http:
        r = http.post("/push-notification", json={"title": "x"})
        again = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    assert r.json() == {"error": "maintenance", "message": "back soon"}
    assert again.status_code == 200
    assert len(sim.notifications) == 1  # the faulted request had no effect
    assert [q.status for q in sim.requests] == [503, 200]


def test_injected_status_has_a_default_error_body(sim):
    sim.inject(402)
    with api(sim) as http:
        body = http.post("/push-notification", json={"title": "x"}).json()
    assert body["error"] == "trial_expired"
    assert body["upgrade_url"].startswith("https://")


def test_fault_matches_method_and_path_prefix_for_the_given_times(sim):
    sim.inject(500, times=2, method="PUT", path="/live-activity/stream/")
    with api(sim) as http:
        assert http.post("/push-notification", json={"title": "x"}).status_code == 200
        codes = [http.put("/live-activity/stream/k", json=progress(i)).status_code for i in range(3)]
    assert codes == [500, 500, 200]


def test_fault_forever_until_cleared(sim):
    sim.inject(500, times=None)
    with api(sim) as http:
        assert {http.post("/push-notification", json={"title": "x"}).status_code for _ in range(3)} == {500}
        sim.clear_faults()
        assert http.post("/push-notification", json={"title": "x"}).status_code == 200


def test_refused_request_never_reaches_the_simulator(sim):
    sim.inject(refuse=True)
    with api(sim) as http, pytest.raises(httpx.ConnectError):
        http.post("/push-notification", json={"title": "x"})
    assert sim.requests == []
    assert sim.notifications == []


def test_dropped_connection_after_the_request_was_processed(sim):
    sim.inject(drop=True, path="/push-notification")
    with api(sim) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post("/push-notification", json={"title": "x"})
    assert len(sim.notifications) == 1  # received and delivered; only the answer was lost


def test_delay_shorter_than_the_timeout_advances_the_clock(sim, clock):
    sim.inject(delay=3)
    start = clock.time()
    with api(sim, timeout=10) as http:
        r = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 200
    assert clock.time() - start == 3


def test_delay_at_least_the_read_timeout_raises_read_timeout(sim, clock):
    sim.inject(delay=30)
    start = clock.time()
    with api(sim, timeout=httpx.Timeout(5.0, read=10.0)) as http, pytest.raises(httpx.ReadTimeout):
        http.post("/push-notification", json={"title": "x"})
    assert clock.time() - start == 10


def test_malformed_body_is_a_200_that_is_not_json(sim):
    sim.inject(malformed=True)
    with api(sim) as http:
        r = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_inject_needs_something_to_do(sim):
    with pytest.raises(ValueError):
        sim.inject()
    with pytest.raises(ValueError):
        sim.inject(500, times=0)


@pytest.mark.anyio
async def test_async_client_gets_the_same_answers_and_faults(sim, clock):
    sim.inject(refuse=True)
    sim.inject(delay=20, times=1)
    async with httpx.AsyncClient(transport=sim.transport(), base_url=BASE, headers=AUTH, timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.post("/push-notification", json={"title": "x"})
        with pytest.raises(httpx.ReadTimeout):
            await http.put("/live-activity/stream/k", json=progress(1))
        r = await http.put("/live-activity/stream/k", json=progress(2))
        sim.inject(drop=True)
        with pytest.raises(httpx.RemoteProtocolError):
            await http.delete("/live-activity/stream/k")
    assert r.json()["operation"] == "updated"  # the timed-out PUT had started it
    assert sim.lock_screen()[0]["state"] == "ended"


def test_server_drop_and_refuse_close_the_connection(sim, server):
    sim.inject(drop=True)
    sim.inject(refuse=True)
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/push-notification", json={"title": "dropped"})
        with pytest.raises(httpx.RemoteProtocolError):
            http.post("/push-notification", json={"title": "refused"})
        assert http.post("/push-notification", json={"title": "fine"}).status_code == 200
    assert [n["request"]["title"] for n in sim.notifications] == ["dropped", "fine"]


def test_server_injected_status_and_delay(sim, server, clock):
    sim.inject(429, retry_after=2, delay=4)
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        r = http.post("/push-notification", json={"title": "x"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert clock.time() == 1_790_000_004.0


def test_fault_path_may_be_written_with_the_api_prefix(sim):
    sim.inject(500, path="/api/badge")
    with api(sim) as http:
        assert http.post("/push-notification", json={"title": "x"}).status_code == 200
        assert http.post("/badge", json={"badge": 1}).status_code == 500

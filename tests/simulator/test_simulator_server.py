"""The loopback HTTP server: same answers as the transport, the page routes, the CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from simulator_helpers import AUTH, progress

from activitysmith_jupyter.simulator import SimulatorServer
from activitysmith_jupyter.simulator.page import page_response


def test_server_url_is_a_usable_base_url(sim, server):
    assert server.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        r = http.put("/live-activity/stream/nightly-backup", json=progress(10))
    assert r.status_code == 200
    assert r.json()["operation"] == "started"
    assert sim.requests[-1].path == "/live-activity/stream/nightly-backup"


def test_server_accepts_the_api_prefix_and_encoded_keys(sim, server):
    with httpx.Client(base_url=server.url + "/api", headers=AUTH, timeout=5) as http:
        r = http.post("/metrics/deploy.success_rate/value", json={"value": 1})
        bad = http.put("/live-activity/stream/weird%20key%2F1", json=progress(1))
    assert r.status_code == 200
    assert bad.status_code == 400
    assert sim.requests[-1].key == "weird key/1"


def test_server_answers_401_404_and_400_like_the_api(server):
    with httpx.Client(base_url=server.url, timeout=5) as http:
        assert http.post("/push-notification", json={"title": "x"}).status_code == 401
        assert http.post("/nowhere", headers=AUTH).status_code == 404
        bad = http.post("/push-notification", content=b"{", headers=AUTH)
    assert bad.status_code == 400
    assert bad.json()["error"] == "bad_request"


def test_delete_without_body_over_http(sim, server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        http.put("/live-activity/stream/job", json=progress(10))
        r = http.delete("/live-activity/stream/job", headers={"Content-Type": "application/json"})
    assert r.json()["operation"] == "ended"


def test_page_and_state_routes_need_no_key_and_show_no_key(sim, server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        http.put("/live-activity/stream/job", json=progress(10))
        http.post("/push-notification", json={"title": "Deployed"})
    page = httpx.get(server.url + "/", timeout=5)
    state = httpx.get(server.url + "/_sim/state", timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert state.status_code == 200
    snapshot = state.json()
    assert set(snapshot) >= {"lock_screen", "notifications", "events"}
    assert snapshot["lock_screen"][0]["stream_key"] == "job"
    assert snapshot["notifications"][0]["request"]["title"] == "Deployed"
    assert [e["kind"] for e in snapshot["events"]] == ["started", "push"]
    assert "test-key" not in page.text + state.text
    assert len(sim.requests) == 2  # page views are not API requests


def test_many_concurrent_connections(sim, server):
    import threading

    codes: list[int] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
            for i in range(5):
                codes.append(http.post("/metrics/m/value", json={"value": n * 10 + i}).status_code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 30


def test_close_is_idempotent_and_frees_the_port(sim):
    srv = sim.serve()
    url = srv.url
    srv.close()
    srv.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/", timeout=2)
    assert "closed" in repr(srv)


def test_server_is_a_context_manager(sim):
    with SimulatorServer(sim) as srv:
        assert httpx.get(srv.url + "/_sim/state", timeout=5).status_code == 200


def test_cli_serves_until_ctrl_c(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "activitysmith_jupyter.simulator", "--port", "0", "--api-key", "cli-key"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.rsplit(" ", 1)[-1].strip()
        ok = httpx.post(url + "/push-notification", json={"title": "x"},
                        headers={"Authorization": "Bearer cli-key"}, timeout=5)
        denied = httpx.post(url + "/push-notification", json={"title": "x"}, headers=AUTH, timeout=5)
        assert (ok.status_code, denied.status_code) == (200, 401)
        state = httpx.get(url + "/_sim/state", timeout=5).text
        assert "cli-key" not in state
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "cli-key" not in out + err


def test_cli_refuses_an_empty_key():
    proc = subprocess.run([sys.executable, "-m", "activitysmith_jupyter.simulator", "--api-key", ""],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "api-key" in proc.stderr


def test_state_json_is_valid_json_with_unicode(sim):
    sim.handle("POST", "/push-notification", AUTH, json.dumps({"title": "💸"}))
    response = page_response(sim, "GET", "/_sim/state")
    assert response.json()["notifications"][0]["request"]["title"] == "💸"


def test_server_reads_chunked_bodies_and_keeps_the_connection_usable(sim, server):
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=5) as http:
        r = http.post("/push-notification", content=iter([b'{"title"', b': "chunked"}']))
        after = http.post("/push-notification", json={"title": "after"})
    assert r.status_code == 200
    assert after.status_code == 200
    assert [n["request"]["title"] for n in sim.notifications] == ["chunked", "after"]


def test_cli_reports_a_busy_port(sim, server):
    proc = subprocess.run([sys.executable, "-m", "activitysmith_jupyter.simulator", "--port", str(server.port)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "cannot listen" in proc.stderr
    assert "Traceback" not in proc.stderr

"""The simulator's adapters (in-process transport, loopback server, page) serve any `SimulatorBackend`,
and the page's routes are theirs: `Simulator.handle` only answers API requests."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from simulator_helpers import AUTH, api

from activitysmith_jupyter.clock import Clock, FakeClock
from activitysmith_jupyter.simulator import Fault, SimulatorServer
from activitysmith_jupyter.simulator.transport import SimulatorTransport
from activitysmith_jupyter.simulator.backend import Headers
from activitysmith_jupyter.simulator.page import page_response
from activitysmith_jupyter.simulator.records import SimResponse, json_response


class EchoBackend:
    """Not a Simulator: answers every API request with what it received, and shows one notification."""

    def __init__(self) -> None:
        self.clock: Clock = FakeClock()
        self.seen: list[tuple[str, str, bytes]] = []

    def handle(self, method: str, path: str, headers: Headers = None, body: bytes | str | None = b"") -> SimResponse:
        raw = body.encode() if isinstance(body, str) else (body or b"")
        self.seen.append((method, path, raw))
        return json_response(201, {"method": method, "path": path, "body": raw.decode()})

    def snapshot(self) -> dict[str, Any]:
        return {"lock_screen": [], "events": [], "badge": 3, "metrics": {},
                "notifications": [{"notification_id": "n1", "request": {"title": "Echo ready"}}]}


@contextmanager
def _http(kind: str, backend: Any) -> Iterator[httpx.Client]:
    if kind == "transport":
        with httpx.Client(transport=SimulatorTransport(backend), base_url="https://activitysmith.com/api") as http:
            yield http
    else:
        with SimulatorServer(backend) as server, httpx.Client(base_url=server.url + "/api", timeout=5) as http:
            yield http


@pytest.mark.parametrize("kind", ["transport", "server"], ids=["in-process-transport", "loopback-server"])
def test_adapters_serve_any_backend_not_only_the_simulator(kind):
    backend = EchoBackend()
    with _http(kind, backend) as http:
        answer = http.post("/badge", content=b'{"badge": 1}')
        page = http.get("/")
        state = http.get("/_sim/state")
    assert (answer.status_code, answer.json()) == (201, {"method": "POST", "path": "/api/badge",
                                                         "body": '{"badge": 1}'})
    assert page.headers["content-type"].startswith("text/html") and "Echo ready" in page.text
    assert "App icon badge: 3" in page.text
    assert state.json()["notifications"][0]["request"]["title"] == "Echo ready"
    assert [method for method, _, _ in backend.seen] == ["POST"]  # the page routes never reached handle


@pytest.mark.parametrize("path", ["/", "/_sim/state", "/api/_sim/state"], ids=["page", "state", "state-under-api"])
def test_simulator_handle_treats_page_routes_as_unknown_api_paths(sim, path):
    assert sim.handle("GET", path).status == 401  # no key: the API answers, not the page
    assert sim.handle("GET", path, AUTH).status == 404
    assert page_response(sim, "GET", path) is not None


def test_page_views_through_the_in_process_transport_are_not_api_requests(sim):
    with api(sim) as http:
        http.post("/push-notification", json={"title": "Deployed"})
        page = http.get("/")
        state = http.get("/_sim/state")
    assert "Deployed" in page.text
    assert state.json()["notifications"][0]["request"]["title"] == "Deployed"
    assert [r.path for r in sim.requests] == ["/push-notification"]


@pytest.mark.parametrize(("method", "path"), [("POST", "/"), ("GET", "/badge"), ("HEAD", "/_sim/state")],
                         ids=["post-root", "get-api-path", "head-state"])
def test_page_response_answers_only_get_of_its_two_routes(sim, method, path):
    assert page_response(sim, method, path) is None


def test_state_json_matches_the_simulator_snapshot(sim):
    sim.handle("POST", "/badge", AUTH, json.dumps({"badge": 7}))
    response = page_response(sim, "GET", "/_sim/state")
    assert response is not None and response.json()["badge"] == 7 == sim.snapshot()["badge"]


def test_fault_is_built_with_keywords_only():
    with pytest.raises(TypeError):
        Fault(503)  # type: ignore[misc]
    fault = Fault(status=503, times=2, path="/badge")
    assert fault.matches("POST", "/badge") and not fault.matches("POST", "/push-notification")
    assert fault.error_response().status == 503

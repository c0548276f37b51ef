"""Environment proxies (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) are honoured by both clients,
through a real threaded HTTP proxy on loopback in front of the simulator's loopback server."""
from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from _client_twins import KEY, call, close, make_client

from activitysmith_jupyter.errors import APIConnectionError

pytestmark = pytest.mark.anyio

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class _ForwardingProxy(http.server.BaseHTTPRequestHandler):
    """Forwards absolute-form requests (``GET http://host:port/path``); refuses CONNECT (records it)."""

    protocol_version = "HTTP/1.1"
    seen: list[str]

    def _forward(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        target = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""),
                             body=body or None, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def do_CONNECT(self) -> None:
        self.seen.append(f"CONNECT {self.path}")
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_ForwardingProxy,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "http_proxy"])
async def test_requests_go_through_the_proxy_named_in_the_environment(kind, variable, proxy, server, sim,
                                                                      monkeypatch) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv(variable, proxy_url)
    c = make_client(kind, KEY, base_url=server.url, max_retries=0)
    try:
        sent = await call(c.notifications.send(title="Through the proxy"))
        await call(c.live_activities.stream("proxied", title="Job", type="progress", percentage=5))
    finally:
        await close(c)
    assert sent.success is True
    assert seen == [f"POST {server.url}/push-notification", f"PUT {server.url}/live-activity/stream/proxied"]
    assert [r.json.get("title") or r.json["content_state"]["title"] for r in sim.requests] == ["Through the proxy", "Job"]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*"])
async def test_no_proxy_sends_straight_to_the_server(kind, no_proxy, proxy, server, sim, monkeypatch) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    c = make_client(kind, KEY, base_url=server.url, max_retries=0)
    try:
        assert (await call(c.badge_count(2))).success is True
    finally:
        await close(c)
    assert seen == []
    assert len(sim.requests) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_https_proxy_gets_a_connect_for_the_https_api_host(kind, proxy, monkeypatch) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)
    c = make_client(kind, KEY, base_url="https://api.activitysmith.invalid/api", max_retries=0)
    try:
        with pytest.raises(APIConnectionError):  # this proxy refuses every tunnel
            await call(c.badge_count(1))
    finally:
        await close(c)
    assert seen == ["CONNECT api.activitysmith.invalid:443"]


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_an_http_proxy_variable_does_not_apply_to_https(kind, proxy, server, monkeypatch) -> None:
    proxy_url, seen = proxy
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)  # the simulator is http://: no proxy applies
    c = make_client(kind, KEY, base_url=server.url, max_retries=0)
    try:
        assert (await call(c.badge_count(3))).success is True
    finally:
        await close(c)
    assert seen == []

"""The default HTTP transports, over a real loopback server (the simulator's): keep-alive, one write
per request, failures mapped to httpx exceptions and then to our errors, proxies respected."""
from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from _client_twins import KEY, call, close, make_client

from activitysmith_jupyter.api.transport import StdlibTransport, proxy_applies
from activitysmith_jupyter.errors import APIConnectionError, APIError, ServerError

pytestmark = pytest.mark.anyio
KINDS = ["sync", "async"]


def _client(kind, server):
    """A client over HTTP to the server, sleeping on the simulator's fake clock between retries."""
    return make_client(kind, KEY, base_url=server.url, rng=lambda: 0.0, clock=server.simulator.clock)


@pytest.mark.parametrize("kind", KINDS)
async def test_many_requests_over_loopback_succeed_and_keep_the_connection(kind, server, sim) -> None:
    c = _client(kind, server)
    try:
        for i in range(5):
            r = await call(c.live_activities.stream("job", title="Job", type="progress", percentage=i + 1))
            assert r.stream_key == "job"
        if kind == "sync":
            assert c._direct is c._http._transport  # our transport is called directly
            assert sum(len(v) for v in c._direct._idle.values()) == 1  # one kept-alive socket
    finally:
        await close(c)
    assert [r.status for r in sim.requests] == [200] * 5
    assert sim.requests[-1].headers["content-length"] == str(len(b'{"content_state":{"title":"Job","type":"progress","percentage":5}}'))


@pytest.mark.parametrize("kind", KINDS)
async def test_a_dropped_connection_is_retried_for_a_stream_update(kind, server, sim) -> None:
    sim.inject(drop=True, path="/live-activity/stream/")
    c = _client(kind, server)
    try:
        assert (await call(c.live_activities.stream("job", title="Job", type="progress", percentage=1))).success
    finally:
        await close(c)
    assert len(sim.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_a_dropped_connection_is_not_retried_for_a_push(kind, server, sim) -> None:
    sim.inject(drop=True, path="/push-notification")
    c = _client(kind, server)
    try:
        with pytest.raises(APIConnectionError, match="may have taken effect"):
            await call(c.notifications.send(title="once"))
        assert (await call(c.notifications.send(title="next one works"))).success  # a fresh connection
    finally:
        await close(c)
    assert [r.json["title"] for r in sim.requests] == ["once", "next one works"]


@pytest.mark.parametrize("kind", KINDS)
async def test_http_errors_and_malformed_bodies_over_loopback(kind, server, sim) -> None:
    sim.inject(503, times=3, path="/badge")
    sim.inject(malformed=True, path="/metrics/")
    c = _client(kind, server)
    try:
        with pytest.raises(ServerError):
            await call(c.badge_count(1))
        with pytest.raises(APIError, match="not a JSON object"):
            await call(c.metrics.update("m.key", 1))
    finally:
        await close(c)


def test_stdlib_transport_discards_an_idle_socket_the_server_closed() -> None:
    transport = StdlibTransport()
    mine, theirs = socket.socketpair()
    key = ("http", "127.0.0.1", 1)
    transport._checkin(key, mine)
    theirs.close()  # EOF is now readable on `mine`
    assert transport._checkout(key) is None
    assert mine.fileno() == -1  # closed
    transport.close()


def test_stdlib_transport_refused_connection_is_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = httpx.Request("POST", f"http://127.0.0.1:{port}/api/badge", content=b"{}")
    with pytest.raises(httpx.ConnectError):
        StdlibTransport().handle_request(request)


def test_stdlib_transport_refuses_other_schemes() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        StdlibTransport().handle_request(httpx.Request("GET", "ftp://127.0.0.1/x"))


def test_stdlib_transport_read_timeout() -> None:
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/badge"
        request = httpx.Request("POST", url, content=b"{}",
                                extensions={"timeout": {"connect": 1.0, "read": 0.05, "write": 1.0, "pool": 1.0}})
        with pytest.raises(httpx.ReadTimeout):
            StdlibTransport().handle_request(request)


def test_stdlib_transport_trusts_the_same_certificates_as_httpx(monkeypatch, tmp_path) -> None:
    # a company CA in SSL_CERT_FILE must work for the default transport as it does for httpx.Client
    import certifi

    bundle = Path(certifi.where()).read_text(encoding="ascii")
    end = "-----END CERTIFICATE-----\n"
    one_ca = tmp_path / "ca.pem"
    one_ca.write_text(bundle[bundle.index("-----BEGIN CERTIFICATE-----"):bundle.index(end) + len(end)])
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(one_ca))
    transport = StdlibTransport()
    assert transport._context().cert_store_stats()["x509_ca"] == 1
    transport.close()


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [({}, "https://activitysmith.com/api", False),
     ({"HTTPS_PROXY": "http://proxy:3128"}, "https://activitysmith.com/api", True),
     ({"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "activitysmith.com"}, "https://activitysmith.com/api", False),
     ({"HTTP_PROXY": "http://proxy:3128"}, "https://activitysmith.com/api", False)],
    ids=["none", "https-proxy", "no-proxy", "other-scheme-only"],
)
def test_proxy_detection(monkeypatch, env, url, expected) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_applies(url) is expected


def test_behind_a_proxy_the_sync_client_goes_through_httpx_client(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    c = make_client("sync", KEY)
    try:
        assert c._direct is None
    finally:
        c.close()


@pytest.mark.parametrize("key", ["ask_live\nX-Evil: 1", " ask_padded", "ask_tab\tkey", "\u201cask_quoted\u201d"],
                         ids=["newline", "space", "tab", "non-ascii"])
def test_keys_that_could_break_the_header_are_refused(key) -> None:
    with pytest.raises(ValueError, match="api_key"):
        make_client("sync", key)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="POSIX fork")
def test_a_forked_child_neither_shares_the_parents_sockets_nor_its_held_lock(server, sim) -> None:
    import os
    import threading

    c = _client("sync", server)
    try:
        assert c.notifications.send(title="parent").success
        parent_socket = next(iter(c._direct._idle.values()))[0]
        holder_has_lock, release = threading.Event(), threading.Event()

        def hold() -> None:
            with c._direct._lock:
                holder_has_lock.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holder_has_lock.wait(5)
        pid = os.fork()  # another thread holds the transport's lock at this moment
        if pid == 0:  # pragma: no cover - the child
            ok = False
            try:
                ok = c.notifications.send(title="child").success and parent_socket not in sum(
                    c._direct._idle.values(), [])
            finally:
                os._exit(0 if ok else 1)
        release.set()
        holder.join()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert c.notifications.send(title="parent again").success  # the parent's socket still works
    finally:
        c.close()
    assert [r.json["title"] for r in sim.requests] == ["parent", "child", "parent again"]

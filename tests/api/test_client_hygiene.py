"""The API key never shows up in a repr, an error, a log line; the wire identifies us correctly."""
from __future__ import annotations

import logging
import traceback

import httpx
import pytest
from _client_twins import KEY, api, call, close, make_client  # noqa: F401  (api is a fixture)

from activitysmith_jupyter import __version__
from activitysmith_jupyter.errors import ActivitySmithError, AuthenticationError

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_client_repr_shows_mode_and_url_and_a_masked_key_only(kind) -> None:
    c = make_client(kind, KEY, base_url="http://127.0.0.1:9/api")
    try:
        text = repr(c) + str(c) + repr(c.notifications) + repr(c._settings) + repr(c._http.headers)
        assert KEY not in text
        assert "mode='live'" in repr(c) and "base_url='http://127.0.0.1:9/api'" in repr(c)
        assert "ask_…" in repr(c)
        assert c.api_key_hint == "ask_…"
    finally:
        await close(c)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_errors_and_their_tracebacks_never_contain_the_key(kind, clock, caplog) -> None:
    from activitysmith_jupyter.simulator import Simulator

    caplog.set_level(logging.DEBUG)
    sim = Simulator(api_key="the-real-key-that-differs", clock=clock)
    c = make_client(kind, KEY, transport=sim.transport())
    try:
        with pytest.raises(AuthenticationError) as info:
            await call(c.notifications.send(title="x"))
    finally:
        await close(c)
    err = info.value
    rendered = str(err) + repr(err) + "".join(traceback.format_exception(err)) + repr(err.body)
    assert KEY not in rendered
    assert KEY not in caplog.text


async def test_connection_failures_and_retries_never_log_the_key(api, sim, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    sim.inject(drop=True, times=1, path="/live-activity/stream/")
    sim.inject(refuse=True, times=5, path="/push-notification")
    await call(api.live_activities.stream("job", title="Job", type="progress", percentage=1))
    with pytest.raises(ActivitySmithError) as info:
        await call(api.notifications.send(title="x"))
    assert KEY not in caplog.text
    assert KEY not in "".join(traceback.format_exception(info.value))
    assert KEY not in repr(sim.requests)


async def test_request_headers_identify_the_client(api, sim) -> None:  # noqa: F811
    await call(api.notifications.send(title="x"))
    headers = sim.requests[-1].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == f"activitysmith-jupyter/{__version__}"


@pytest.mark.parametrize(
    ("make_call", "raw_path"),
    [
        (lambda c: c.notifications.replace("ntf/1 2?x#y", title="x"), b"/api/push-notification/ntf%2F1%202%3Fx%23y"),
        (lambda c: c.metrics.update("deploy.success_rate", 1), b"/api/metrics/deploy.success_rate/value"),
        (lambda c: c.live_activities.stream("prod-web_1", title="x"), b"/api/live-activity/stream/prod-web_1"),
    ],
    ids=["notification-id-fully-quoted", "metric-key-dots-kept", "stream-key"],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_path_parameters_are_percent_encoded_with_nothing_safe(kind, make_call, raw_path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True})

    c = make_client(kind, KEY, transport=httpx.MockTransport(handler))
    try:
        await call(make_call(c))
    finally:
        await close(c)
    assert seen[0].url.raw_path == raw_path
    assert seen[0].url.host == "activitysmith.com"


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_body_is_compact_utf8_json(kind) -> None:
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"success": True})

    c = make_client(kind, KEY, transport=httpx.MockTransport(handler))
    try:
        await call(c.notifications.send(title="New subscription 💸"))
    finally:
        await close(c)
    assert seen == ['{"title":"New subscription 💸"}'.encode()]

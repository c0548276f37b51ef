"""The fault matrix, for both clients: each failure gives the right exception or the right number of
attempts, and a sent push or start is never repeated. Time is the simulator's FakeClock."""
from __future__ import annotations

import email.utils
import json
import socket

import httpx
import pytest
from _client_twins import KEY, api, call, close, make_client  # noqa: F401  (api is a fixture)

from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BillingError,
    ConflictError,
    LiveActivityLimitError,
    NoRecipientsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

pytestmark = pytest.mark.anyio

STREAM_PATH = "/live-activity/stream/job-1"


def stream(c):
    return c.live_activities.stream("job-1", title="Job", type="progress", percentage=10)


def push(c):
    return c.notifications.send(title="Done")


def start(c):
    return c.live_activities.start(title="Job", type="progress", percentage=10)


# Every endpoint that is safe to repeat, with the path prefix its requests use.
def _safe_calls(ids):
    return {
        "stream": (lambda c: stream(c), "/live-activity/stream/"),
        "end_stream": (lambda c: c.live_activities.end_stream("job-1", title="Done"), "/live-activity/stream/"),
        "replace": (lambda c: c.notifications.replace(ids["ntf"], title="Fixed"), "/push-notification/"),
        "update": (lambda c: c.live_activities.update(activity_id=ids["act"], title="Job", percentage=50),
                   "/live-activity/update"),
        "end": (lambda c: c.live_activities.end(activity_id=ids["act"], title="Job", percentage=100),
                "/live-activity/end"),
        "metric": (lambda c: c.metrics.update("deploy.rate", 99.5), "/metrics/"),
        "badge": (lambda c: c.badge_count(2), "/badge"),
    }


SAFE = ["stream", "end_stream", "replace", "update", "end", "metric", "badge"]
UNSAFE = {"push": (push, "/push-notification"), "start": (start, "/live-activity/start")}


async def _ids(api) -> dict[str, str]:  # noqa: F811
    """Create what the safe calls act on: a notification, an activity and the stream."""
    ntf = (await call(push(api))).notification_id
    act = (await call(start(api))).activity_id
    await call(stream(api))
    return {"ntf": ntf, "act": act}


def _count(sim, prefix: str) -> int:
    return sum(r.path.startswith(prefix) for r in sim.requests)


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("name", SAFE)
async def test_server_errors_on_safe_requests_are_retried_until_success(api, sim, clock, name, status) -> None:  # noqa: F811
    fn, prefix = _safe_calls(await _ids(api))[name]
    before, t0 = _count(sim, prefix), clock.time()
    sim.inject(status, times=2, path=prefix)
    result = await call(fn(api))
    assert result.success is True
    assert _count(sim, prefix) - before == 3
    assert clock.time() - t0 == pytest.approx(0.5 + 1.0)  # backoff, no jitter


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_give_up_after_max_retries(api, sim, status) -> None:  # noqa: F811
    sim.inject(status, times=5, path=STREAM_PATH)
    with pytest.raises(ServerError) as info:
        await call(stream(api))
    assert info.value.status == status
    assert len(sim.requests) == 3  # first try + max_retries=2


@pytest.mark.parametrize("status", [500, 502, 503, 429])
@pytest.mark.parametrize("name", list(UNSAFE))
async def test_push_and_start_are_not_repeated_after_an_answer(api, sim, name, status) -> None:  # noqa: F811
    fn, prefix = UNSAFE[name]
    sim.inject(status, times=3, path=prefix)
    with pytest.raises(APIError) as info:
        await call(fn(api))
    assert info.value.status == status
    assert len(sim.requests) == 1


@pytest.mark.parametrize("fault", ["drop", "timeout"])
@pytest.mark.parametrize("name", list(UNSAFE))
async def test_push_and_start_are_not_repeated_after_a_dropped_or_timed_out_send(api, sim, name, fault) -> None:  # noqa: F811
    fn, prefix = UNSAFE[name]
    sim.inject(path=prefix, times=3, **({"drop": True} if fault == "drop" else {"delay": 30.0}))
    expected = APITimeoutError if fault == "timeout" else APIConnectionError
    with pytest.raises(expected):
        await call(fn(api))
    assert len(sim.requests) == 1
    assert len(sim.notifications) + len(sim.activities) == 1  # the server acted once, and only once


@pytest.mark.parametrize("name", list(UNSAFE))
async def test_push_and_start_are_retried_when_the_connection_was_refused(api, sim, name) -> None:  # noqa: F811
    fn, prefix = UNSAFE[name]
    sim.inject(refuse=True, times=2, path=prefix)
    assert (await call(fn(api))).success is True
    assert len(sim.requests) == 1  # refused attempts never reached the server


async def test_refused_connection_gives_up_with_api_connection_error(api, sim) -> None:  # noqa: F811
    sim.inject(refuse=True, times=5)
    with pytest.raises(APIConnectionError) as info:
        await call(push(api))
    assert not isinstance(info.value, APITimeoutError)
    assert "not sent" in str(info.value)
    assert sim.requests == []


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_real_refused_loopback_connection_is_api_connection_error(kind) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clock = FakeClock()
    c = make_client(kind, KEY, base_url=f"http://127.0.0.1:{port}/api", clock=clock, rng=lambda: 0.0)
    try:
        with pytest.raises(APIConnectionError):
            await call(push(c))
    finally:
        await close(c)
    assert clock.time() - FakeClock().time() == pytest.approx(0.5 + 1.0)  # it did retry twice


@pytest.mark.parametrize("fault", ["drop", "timeout"])
@pytest.mark.parametrize("name", SAFE)
async def test_dropped_or_timed_out_safe_requests_are_retried(api, sim, name, fault) -> None:  # noqa: F811
    fn, prefix = _safe_calls(await _ids(api))[name]
    before = _count(sim, prefix)
    sim.inject(path=prefix, **({"drop": True} if fault == "drop" else {"delay": 30.0}))
    assert (await call(fn(api))).success is True
    assert _count(sim, prefix) - before == 2


async def test_timeouts_give_up_with_api_timeout_error(api, sim, clock) -> None:  # noqa: F811
    sim.inject(delay=60.0, times=5, path=STREAM_PATH)
    t0 = clock.time()
    with pytest.raises(APITimeoutError):
        await call(stream(api))
    assert len(sim.requests) == 3
    assert clock.time() - t0 == pytest.approx(3 * 10.0 + 0.5 + 1.0)  # three 10 s timeouts + backoff


async def test_429_with_retry_after_seconds_waits_that_long(api, sim, clock) -> None:  # noqa: F811
    sim.inject(429, retry_after=7, path=STREAM_PATH)
    t0 = clock.time()
    assert (await call(stream(api))).operation == "started"
    assert clock.time() - t0 == pytest.approx(7.0)
    assert [r.status for r in sim.requests] == [429, 200]


async def test_429_gives_up_with_rate_limit_error_carrying_retry_after(api, sim) -> None:  # noqa: F811
    sim.inject(429, retry_after=3, times=5, path="/metrics/")
    with pytest.raises(RateLimitError) as info:
        await call(api.metrics.update("deploy.rate", 1))
    assert info.value.retry_after == 3.0
    assert not isinstance(info.value, LiveActivityLimitError)
    assert len(sim.requests) == 3


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_429_with_retry_after_http_date_waits_until_that_date(kind) -> None:
    clock = FakeClock()
    answers = iter([
        httpx.Response(429, headers={"Retry-After": email.utils.formatdate(clock.time() + 20, usegmt=True)},
                       json={"error": "rate_limited", "message": "slow down"}),
        httpx.Response(200, json={"success": True, "badge": 1}),
    ])
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    c = make_client(kind, KEY, transport=httpx.MockTransport(handler), clock=clock)
    try:
        t0 = clock.time()
        assert (await call(c.badge_count(1))).badge == 1
        assert clock.time() - t0 == pytest.approx(20.0)
        assert len(seen) == 2
    finally:
        await close(c)


async def test_malformed_json_on_200_is_an_api_error_not_a_decode_error(api, sim) -> None:  # noqa: F811
    sim.inject(malformed=True, path=STREAM_PATH)
    with pytest.raises(APIError) as info:
        await call(stream(api))
    assert not isinstance(info.value, json.JSONDecodeError)
    assert info.value.status == 200
    assert "not a JSON object" in str(info.value)
    assert len(sim.requests) == 1  # the request took effect; it is not repeated


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, BadRequestError), (402, BillingError), (403, PermissionDeniedError), (404, NotFoundError),
     (409, ConflictError), (422, NoRecipientsError)],
    ids=["400", "402", "403", "404", "409", "422"],
)
async def test_client_errors_map_to_their_class_without_retry(api, sim, status, cls) -> None:  # noqa: F811
    sim.inject(status, path=STREAM_PATH)
    with pytest.raises(cls) as info:
        await call(stream(api))
    err = info.value
    assert (err.status, err.method, err.path) == (status, "PUT", STREAM_PATH)
    assert err.error and err.message
    assert len(sim.requests) == 1
    if status == 402:
        assert err.upgrade_url.startswith("https://")


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_wrong_key_is_authentication_error_without_retry(kind, clock) -> None:
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator(api_key="the-right-key", clock=clock)
    c = make_client(kind, "the-wrong-key", transport=sim.transport())
    try:
        with pytest.raises(AuthenticationError) as info:
            await call(push(c))
    finally:
        await close(c)
    assert info.value.status == 401
    assert len(sim.requests) == 1


async def test_fifth_concurrent_live_activity_is_live_activity_limit_error_not_retried(api, sim) -> None:  # noqa: F811
    for i in range(sim.max_active_activities):
        await call(api.live_activities.stream(f"job-{i}", title="Job", type="progress", percentage=1))
    before = len(sim.requests)
    with pytest.raises(LiveActivityLimitError) as info:
        await call(api.live_activities.stream("one-too-many", title="Job", type="progress", percentage=1))
    assert info.value.limit == sim.max_active_activities
    assert info.value.active == sim.max_active_activities
    assert isinstance(info.value, RateLimitError)
    assert len(sim.requests) == before + 1


async def test_max_retries_zero_never_retries(sim, clock) -> None:
    from activitysmith_jupyter.api.client import ActivitySmith

    sim.inject(503, times=1, path=STREAM_PATH)
    with ActivitySmith(KEY, transport=sim.transport(), max_retries=0) as c, pytest.raises(ServerError):
        stream(c)
    assert len(sim.requests) == 1


async def test_retries_are_logged_without_the_key(api, sim, caplog) -> None:  # noqa: F811
    caplog.set_level("DEBUG")
    sim.inject(503, times=1, path=STREAM_PATH)
    await call(stream(api))
    assert "retrying PUT /live-activity/stream/job-1 after HTTP 503" in caplog.text
    assert KEY not in caplog.text


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_with_the_system_clock_retries_really_sleep(kind, monkeypatch) -> None:
    """Sync sleeps with time.sleep, async with anyio.sleep (not blocking the loop); both patched here."""
    import anyio

    from activitysmith_jupyter.clock import SYSTEM_CLOCK

    slept: list[float] = []

    async def fake_anyio_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_anyio_sleep)
    monkeypatch.setattr(type(SYSTEM_CLOCK), "sleep", staticmethod(slept.append))
    answers = iter([httpx.Response(503, json={"error": "busy"}), httpx.Response(200, json={"success": True})])
    c = make_client(kind, KEY, transport=httpx.MockTransport(lambda request: next(answers)), rng=lambda: 0.0)
    try:
        assert c._clock is SYSTEM_CLOCK
        assert (await call(c.badge_count(1))).success
    finally:
        await close(c)
    assert slept == [0.5]

"""Issue 8's delivery promises for the dispatcher, against the simulator with injected faults, on a FakeClock.

* every push and end queued on the dispatcher lands at least once (5xx, 429, a dropped connection or a
  timeout after sending: sent again; a rare duplicate beats a missing one);
* a 401 stops sending, warns once and says so (`auth_failed`);
* more than four Live Activities: the fifth and sixth wait for a slot (`waiting`), warned once, and
  every final state still lands;
* a ``Retry-After: 0`` storm backs off; a start that failed oddly does not hold its end back;
* a closed dispatcher is replaced by `dispatcher_for`, and its state is explicit (`DispatcherState`).
"""
from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import textwrap
import time
import warnings
from typing import Any

import httpx
import pytest

from activitysmith_jupyter.api.client import ActivitySmith
from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.delivery.dispatcher import Dispatcher, DispatcherState, dispatcher_for
from activitysmith_jupyter.errors import AuthenticationError
from activitysmith_jupyter.delivery.policy import StreamPacing
from activitysmith_jupyter.simulator import Simulator

KEY = "train-run"


def progress(pct: float, title: str = "Training") -> dict[str, Any]:
    return {"content_state": {"title": title, "type": "progress", "percentage": pct}}


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    """Real-time guard for the worker thread (a few ms in practice)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.0005)


def ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the user saw of failed sends: one WARNING line per kind (later ones are INFO)."""
    return [r.getMessage() for r in caplog.records
            if r.name == "activitysmith_jupyter" and r.levelno >= logging.WARNING and " failed: " in r.getMessage()]


def delivered_pushes(sim: Simulator) -> list[str]:
    return [n["request"]["title"] for n in sim.notifications]


def ended(sim: Simulator) -> dict[str, dict[str, Any]]:
    """stream key -> final content state, for every activity that ended."""
    return {a.view()["stream_key"]: a.view()["content_state"] for a in sim.activities.values()
            if a.view()["state"] == "ended"}


# ------------------------------------------------------------------------------ at least once

AMBIGUOUS = {
    "500": dict(status=500),
    "502": dict(status=502),
    "dropped-after-sending": dict(drop=True),
    "timeout": dict(delay=60.0),
}


@pytest.mark.parametrize("fault", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_a_closing_push_is_sent_again_until_it_lands(dispatcher: Dispatcher, sim: Simulator, fault: dict) -> None:
    sim.inject(path="/push-notification", times=2, **fault)
    dispatcher.push({"title": "Training finished"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert dispatcher.flush(5)
    answered = [r for r in sim.requests if r.path == "/push-notification" and r.status == 200]
    assert answered and answered[-1].json["title"] == "Training finished"
    assert dispatcher.stats.failed == 0 and dispatcher.stats.retried == 2
    if "status" in fault:  # the server said it did not act: exactly once on the phone
        assert delivered_pushes(sim) == ["Training finished"]
    else:  # it may have acted: a rare duplicate, never a missing one
        assert 1 <= len(delivered_pushes(sim)) <= 3


@pytest.mark.parametrize("fault", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_an_end_is_sent_again_until_it_lands(dispatcher: Dispatcher, sim: Simulator, fault: dict) -> None:
    dispatcher.update_stream(KEY, progress(10))
    assert dispatcher.flush(5)
    sim.inject(method="DELETE", times=2, **fault)
    dispatcher.end_stream(KEY, progress(100))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert dispatcher.flush(5)
    assert ended(sim)[KEY]["percentage"] == 100
    assert dispatcher.stats.failed == 0


class _NetworkDies(httpx.BaseTransport):
    """While `dead`: the first request goes out and its connection drops before reaching the server,
    every later one cannot connect. Then the network comes back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.dead, self.dropped = inner, True, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.dead and not self.dropped:
            self.dropped += 1
            raise httpx.ReadError("connection reset by peer (the network died)", request=request)
        if self.dead:
            raise httpx.ConnectError("network is unreachable", request=request)
        return self.inner.handle_request(request)


def test_a_lone_push_in_flight_when_the_network_dies_lands_when_it_returns(sim: Simulator, clock: FakeClock) -> None:
    network = _NetworkDies(sim.transport())
    with ActivitySmith(transport=network, clock=clock) as client:
        d = Dispatcher(client, clock=clock)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d.push({"title": "Done"})
            wait_until(lambda: d.stats.retried >= 3)
            assert d.stats.pending == 1 and d.stats.failed == 0  # kept, not given up
            network.dead = False
            assert d.flush(5)
        d.close(1)
    assert delivered_pushes(sim) == ["Done"]


# ------------------------------------------------------------------------------ 401


def test_a_401_stops_sending_warns_once_and_is_exposed(dispatcher: Dispatcher, sim: Simulator,
                                                       clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    sim.inject(401, times=None)
    start = clock.monotonic()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dispatcher.update_stream(KEY, progress(1))
        wait_until(lambda: dispatcher.auth_failed)
        for i in range(20):
            dispatcher.update_stream(KEY, progress(i))
        dispatcher.end_stream(KEY, progress(100))
        dispatcher.push({"title": "Done"})
        assert dispatcher.flush(5)  # nothing waits for a key that will not heal
    assert len(sim.requests) == 1  # not hammered
    assert dispatcher.next_update_time("another-bar") == math.inf  # a bar builds no more states
    assert isinstance(dispatcher.last_error, AuthenticationError)
    assert len(ours(caplog)) == 1 and "401" in ours(caplog)[0] and "API key" in ours(caplog)[0]
    assert dispatcher.stats.pending == 0
    assert clock.monotonic() - start < 60


def test_a_start_refused_with_401_does_not_hold_its_end_back(dispatcher: Dispatcher, sim: Simulator,
                                                             clock: FakeClock) -> None:
    sim.inject(401, times=1, method="PUT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dispatcher.update_stream(KEY, progress(1))
        wait_until(lambda: dispatcher.last_error is not None)
        dispatcher.update_stream(KEY, progress(50))
        submitted = clock.monotonic()
        dispatcher.end_stream(KEY, progress(100))
        wait_until(lambda: dispatcher.stats.pending == 0)  # no flush: nothing skips the pacing
    assert clock.monotonic() - submitted < 60  # given up with the key, not held back for a minute
    assert dispatcher.auth_failed and [r.method for r in sim.requests] == ["PUT"]


def test_a_start_answered_with_a_malformed_body_does_not_hold_its_end_back(dispatcher: Dispatcher, sim: Simulator,
                                                                          clock: FakeClock) -> None:
    sim.inject(malformed=True, times=1, method="PUT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dispatcher.update_stream(KEY, progress(1))
        wait_until(lambda: dispatcher.last_error is not None)
        dispatcher.update_stream(KEY, progress(50))
        submitted = clock.monotonic()
        dispatcher.end_stream(KEY, progress(100))
        wait_until(lambda: any(r.method == "DELETE" for r in sim.requests))  # no flush: paced as in real life
    end = next(r for r in sim.requests if r.method == "DELETE")
    assert end.time - submitted < 10
    assert ended(sim)[KEY]["percentage"] == 100


# ------------------------------------------------------------------------------ more than four


def test_six_streams_four_start_two_wait_and_all_six_final_states_land(dispatcher: Dispatcher, sim: Simulator,
                                                                       clock: FakeClock,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    keys = [f"job-{i}" for i in range(6)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for key in keys:
            dispatcher.update_stream(key, progress(0, title=key))
        wait_until(lambda: set(dispatcher.waiting) == {"job-4", "job-5"})
        assert sorted(a.view()["stream_key"] for a in sim.activities.values()) == keys[:4]
        warned = ours(caplog)
        assert len(warned) == 1 and "4" in warned[0] and "wait" in warned[0], warned
        for key in keys[:4]:  # the first four end: their slots free up
            dispatcher.end_stream(key, progress(100, title=key))
        for key in keys[4:]:
            dispatcher.end_stream(key, progress(100, title=key))
        assert dispatcher.flush(10)
        assert len(ours(caplog)) == 1  # once
    assert {k: cs["percentage"] for k, cs in ended(sim).items()} == dict.fromkeys(keys, 100)
    assert dispatcher.waiting == ()
    # a waiting start goes as soon as a slot frees, not after a long fixed backoff
    first_end = min(r.time for r in sim.requests if r.method == "DELETE" and r.status == 200)
    late_start = min(r.time for r in sim.requests if r.key == "job-4" and r.status == 200)
    assert late_start - first_end < 5


def test_a_waiting_start_shows_once_another_process_frees_a_slot(dispatcher: Dispatcher, sim: Simulator) -> None:
    with ActivitySmith(transport=sim.transport()) as other:  # four activities of another process
        for i in range(4):
            other.live_activities.stream(f"other-{i}", progress(5, title=f"other {i}"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dispatcher.update_stream(KEY, progress(3))
            wait_until(lambda: dispatcher.waiting == (KEY,))
            other.live_activities.end_stream("other-0")
            dispatcher.update_stream(KEY, progress(60))
            dispatcher.end_stream(KEY, progress(100))
            assert dispatcher.flush(5)
    assert ended(sim)[KEY]["percentage"] == 100 and dispatcher.waiting == ()


# ------------------------------------------------------------------------------ pacing


class _RateLimitStorm(httpx.BaseTransport):
    """Answers ``429 Retry-After: 0`` (through the simulator, so it is recorded) until `until`."""

    def __init__(self, sim: Simulator, clock: FakeClock) -> None:
        self.sim, self.clock, self.inner, self.until = sim, clock, sim.transport(), -1.0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.clock.monotonic() < self.until:
            self.sim.inject(429, retry_after=0, times=1)
        return self.inner.handle_request(request)


def test_a_retry_after_0_storm_backs_off_and_the_end_lands_right_after_it(sim: Simulator, clock: FakeClock) -> None:
    storm = _RateLimitStorm(sim, clock)
    with ActivitySmith(transport=storm, clock=clock) as client:
        d = Dispatcher(client, clock=clock)
        d.update_stream(KEY, progress(10))
        assert d.flush(5)
        began = clock.monotonic()
        storm.until = began + 2.0
        d.end_stream(KEY, progress(100))
        assert d.flush(5)
        d.close(1)
    during = [r for r in sim.requests if r.status == 429]
    assert 1 <= len(during) <= 4, len(during)  # today: 50 requests in 2 s
    end = next(r for r in sim.requests if r.method == "DELETE" and r.status == 200)
    assert end.time - (began + 2.0) < 5  # today: 50 s after the storm
    assert ended(sim)[KEY]["percentage"] == 100


def test_the_hold_after_refusals_never_overflows() -> None:
    pacing = StreamPacing()
    for _ in range(2000):
        pacing.refused(0.0)
    assert pacing.hold_until == 900.0  # the 15 min cap, however many refusals


# ------------------------------------------------------------------------------ lifecycle


def test_dispatcher_for_after_close_gives_a_working_dispatcher(sim: Simulator) -> None:
    with ActivitySmith(transport=sim.transport()) as client:
        first = dispatcher_for(client)
        assert first.state is DispatcherState.UNOPENED
        first.push({"title": "one"})
        assert first.state is DispatcherState.OPENED
        assert first.close(5) and first.state is DispatcherState.CLOSED
        second = dispatcher_for(client)
        assert second is not first and dispatcher_for(client) is second
        second.push({"title": "two"})
        assert second.flush(5)
        second.close(1)
    assert delivered_pushes(sim) == ["one", "two"]


def test_close_is_idempotent_and_a_closed_dispatcher_drops_submits(dispatcher: Dispatcher, sim: Simulator) -> None:
    dispatcher.push({"title": "one"})
    assert dispatcher.close(5) and dispatcher.close(5)
    dispatcher.push({"title": "two"})
    assert dispatcher.state is DispatcherState.CLOSED and delivered_pushes(sim) == ["one"]


def test_status_lines_name_a_refused_key_and_what_waits(dispatcher: Dispatcher, sim: Simulator) -> None:
    assert dispatcher.status_lines() == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(5):
            dispatcher.update_stream(f"job-{i}", progress(0, title=f"job {i}"))
        wait_until(lambda: dispatcher.waiting == ("job-4",))
        assert dispatcher.status_lines() == [
            "waiting:    job-4 (for a free Live Activity slot; the device shows 4)"]
        sim.inject(401, times=None)
        dispatcher.push({"title": "hello"})
        wait_until(lambda: dispatcher.auth_failed)
    lines = dispatcher.status_lines()
    assert len(lines) == 1 and lines[0].startswith("stopped:    the API key was refused (HTTP 401)")


# ------------------------------------------------------------------------------ forked workers

FORKED = textwrap.dedent("""
    import multiprocessing, sys, time
    from activitysmith_jupyter.api.client import default_client
    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for

    def titles():
        return [n["request"]["title"] for n in default_client().simulator.notifications]

    def work(i):  # in a forked child, on its copy of the embedded simulator
        d = dispatcher_for()
        d.push({"title": f"from child {i}"})
        return d.flush(5), titles()

    if __name__ == "__main__":
        d = dispatcher_for()  # no API key: the embedded simulator
        d.push({"title": "from parent"})
        assert d.flush(5)  # the parent's sender thread runs when the pool forks
        default_client().simulator.inject(delay=1.0, times=1)
        d.push({"title": "in flight in parent"})  # still in flight when the pool forks
        time.sleep(0.2)
        with multiprocessing.get_context("fork").Pool(3) as pool:
            results = pool.map(work, range(3))
        assert d.flush(5) and titles() == ["from parent", "in flight in parent"], titles()
        for i, (flushed, seen) in enumerate(results):
            assert flushed, i
            assert seen.count(f"from child {i}") == 1, seen
            assert seen.count("in flight in parent") <= 1, seen  # the parent's send, not sent again here
        print("ok")
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_workers_send_their_own_pushes_and_not_the_parents(tmp_path: Any) -> None:
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}
    done = subprocess.run([sys.executable, str(script)], env=env, timeout=60, cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


# ------------------------------------------------------------------------------ at exit

EXITING = textwrap.dedent("""
    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for
    dispatcher_for().push({"title": "Script finished"})
    # no flush, no close: the interpreter exits at once, the push still in flight
""")

EXIT_FAULTS = {"dropped-after-sending": dict(drop=True), "500": dict(status=500), "502-twice": dict(status=502, times=2)}


@pytest.mark.parametrize("fault", EXIT_FAULTS.values(), ids=EXIT_FAULTS.keys())
def test_a_push_whose_first_attempt_failed_still_lands_before_the_interpreter_exits(server: Any, sim: Simulator,
                                                                                     tmp_path: Any, fault: dict) -> None:
    sim.inject(path="/push-notification", **{"times": 1, **fault})
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_exit_push", "ACTIVITYSMITH_BASE_URL": server.url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", EXITING], env=env, check=True, timeout=60, cwd=tmp_path,
                   capture_output=True)
    assert time.monotonic() - started < 5 + 5  # the 5 s exit bound plus interpreter start-up
    attempts = [r for r in sim.requests if r.path == "/push-notification"]
    assert len(attempts) == fault.get("times", 1) + 1 and "Script finished" in delivered_pushes(sim)

"""Dispatcher and update policy, against the simulator, on a FakeClock (no real waiting)."""
from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import httpx
import pytest

from activitysmith_jupyter.api.client import ActivitySmith
from activitysmith_jupyter.delivery.dispatcher import Dispatcher, DispatchStats, dispatcher_for
from activitysmith_jupyter.errors import BadRequestError, PayloadError
from activitysmith_jupyter.delivery.policy import RequestBudget, UpdatePolicy

KEY = "train-run"

def shown(sim) -> list[dict]:
    """Every activity the phone showed, dismissed ones included (the fake clock runs far ahead)."""
    return [a.view() for a in sim.activities.values()]



def progress(pct: float, title: str = "Training") -> dict:
    return {"content_state": {"title": title, "type": "progress", "percentage": pct}}


def max_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def wait_until(predicate, timeout: float = 5.0) -> None:
    """Real-time guard for the worker thread (a few ms in practice)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.0005)


def stream_requests(sim, key: str = KEY) -> list:
    return [r for r in sim.requests if r.key == key and r.path.startswith("/live-activity/stream")]


# ------------------------------------------------------------------------------ update policy


def test_policy_release_times_stay_within_the_ios_average_for_any_length() -> None:
    policy = UpdatePolicy()
    times = [policy.release_time(k) for k in range(1, 5000)]
    assert times == sorted(times)
    for k, t in enumerate(times, start=1):
        if k > 12:  # the API's rule: > 12 updates and more than one per 120 s on average
            assert k / t < 1 / 120, (k, t)


def test_policy_sends_the_first_updates_of_a_short_job_quickly() -> None:
    policy = UpdatePolicy()
    assert [policy.release_time(k) for k in (1, 2, 3)] == [0.0, 5.0, 15.0]
    assert policy.next_time(started=None, count=0, last=None) == float("-inf")
    assert policy.next_time(started=100.0, count=1, last=100.0) == 105.0
    assert policy.next_time(started=100.0, count=1, last=104.0) == 106.0  # min_interval


@pytest.mark.parametrize("bad", [dict(sustained_interval=0), dict(early=(10.0, 5.0)), dict(free_updates=2)],
                         ids=["zero-interval", "decreasing-early", "early-beyond-free"])
def test_policy_refuses_inconsistent_settings(bad: dict) -> None:
    with pytest.raises(ValueError):
        UpdatePolicy(**bad)


def test_request_budget_keeps_a_reserve_for_terminal_sends() -> None:
    budget = RequestBudget(60, reserve=10)
    for i in range(50):
        budget.record(float(i) / 10)
    assert budget.wait_time(5.0, terminal=False) == pytest.approx(55.0)
    assert budget.wait_time(5.0, terminal=True) == 0.0
    for i in range(10):
        budget.record(5.0)
    assert budget.wait_time(5.0, terminal=True) == pytest.approx(55.0)


def drive_like_a_bar(dispatcher, clock, minutes: float, step: float = 1.0, ticks_per_percent: float = 10) -> int:
    """Submit whenever the dispatcher says an update is worth building (what the tqdm hook does);
    returns how many updates were submitted."""
    submitted = 0
    for i in range(int(minutes * 60 / step)):
        clock.advance(step)
        if clock.monotonic() >= dispatcher.next_update_time(KEY):
            dispatcher.update_stream(KEY, progress(min(99.0, i / ticks_per_percent)))
            submitted += 1
            wait_until(lambda: dispatcher.stats.pending == 0)
    return submitted


@pytest.mark.parametrize("hours", [0.25, 2, 8], ids=["15min", "2h", "8h"])
def test_long_stream_never_draws_the_ios_warning_nor_exceeds_the_budget(dispatcher, sim, clock, hours) -> None:
    """Drive the dispatcher as the tqdm hook does (build only when the policy says an update may go)."""
    sent_states = drive_like_a_bar(dispatcher, clock, minutes=hours * 60, step=7.0, ticks_per_percent=100)
    dispatcher.end_stream(KEY, progress(100))
    assert dispatcher.flush(5)
    reqs = stream_requests(sim)
    assert not [r.response for r in reqs if (r.response or {}).get("warning")]
    assert max_in_window([r.time for r in sim.requests]) <= 60
    updates = [r for r in reqs if r.method == "PUT"]
    assert len(updates) == sent_states
    # as many updates as the iOS budget allows, give or take the free burst
    assert len(updates) >= hours * 3600 / 135 - 2
    assert shown(sim)[0]["state"] == "ended"
    assert shown(sim)[0]["content_state"]["percentage"] == 100


# ------------------------------------------------------------------------------ coalescing, ordering


def test_newest_state_replaces_a_waiting_update(dispatcher, sim) -> None:
    for i in range(1000):
        dispatcher.update_stream(KEY, progress(i / 10))
    assert dispatcher.flush(5)
    s = dispatcher.stats
    assert s.sent + s.coalesced == 1000 and s.pending == 0 and s.failed == 0
    assert len(stream_requests(sim)) == s.sent < 10
    assert shown(sim)[0]["content_state"]["percentage"] == 99.9


def test_end_goes_after_every_update_of_its_key(dispatcher, sim, clock) -> None:
    for i in range(50):
        clock.advance(1)
        dispatcher.update_stream(KEY, progress(i))
    dispatcher.end_stream(KEY, progress(100))
    dispatcher.update_stream(KEY, progress(1, title="Second run"))  # after the end: a new activity
    assert dispatcher.flush(5)
    methods = [r.method for r in stream_requests(sim)]
    first_delete = methods.index("DELETE")
    assert set(methods[:first_delete]) == {"PUT"} and methods[first_delete + 1:] == ["PUT"]
    screen = shown(sim)
    assert [a["state"] for a in screen] == ["ended", "active"]
    assert screen[0]["content_state"]["percentage"] == 100


def test_an_end_right_after_the_first_update_still_starts_the_activity(dispatcher, sim) -> None:
    dispatcher.update_stream(KEY, progress(0))
    dispatcher.end_stream(KEY, progress(100))
    assert dispatcher.flush(5)
    assert [r.method for r in stream_requests(sim)] == ["PUT", "DELETE"]
    assert shown(sim)[0]["state"] == "ended"


class _Held(httpx.BaseTransport):
    """The simulator's transport, with every `method` request held until `release` is set."""

    def __init__(self, inner: httpx.BaseTransport, method: str) -> None:
        self.inner, self.method, self.release = inner, method, threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == self.method:
            self.release.wait(5)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("start_fails", [False, True])
def test_an_end_replaces_an_update_that_waits_behind_the_start_in_flight(sim, clock, start_fails) -> None:
    transport = _Held(sim.transport(), "PUT")
    if start_fails:
        sim.inject(status=503, times=1)  # the start is answered 503 and sent again, before the end
    with ActivitySmith(transport=transport, clock=clock) as c:
        d = Dispatcher(c, clock=clock)
        try:
            d.update_stream(KEY, progress(0))
            wait_until(lambda: d.stats.pending == 1 and not d._queue)  # the start is in flight, held
            d.update_stream(KEY, progress(100))  # a bar closed: its last count waits behind the start
            d.end_stream(KEY, progress(100, title="Done"))  # ... and the cell ended at once
            transport.release.set()
            assert d.flush(5)
        finally:
            transport.release.set()
            d.close(timeout=5)
    methods = [r.method for r in stream_requests(sim)]
    assert methods == (["PUT", "PUT", "DELETE"] if start_fails else ["PUT", "DELETE"]), methods
    assert d.stats.coalesced == 1
    assert [(a["state"], a["content_state"]["title"]) for a in shown(sim)] == [("ended", "Done")]


@pytest.mark.parametrize("ended", [False, True])
def test_a_waiting_start_keeps_its_first_state_and_newer_ones_wait_behind_it(sim, clock, ended) -> None:
    transport = _Held(sim.transport(), "POST")
    with ActivitySmith(transport=transport, clock=clock) as c:
        d = Dispatcher(c, clock=clock)
        try:
            d.push({"title": "before"})
            wait_until(lambda: d.stats.pending == 1 and not d._queue)  # the push is in flight: the sender is busy
            for pct in (0, 10, 50):
                d.update_stream(KEY, progress(pct))  # the start waits; 10 and 50 wait behind it
            if ended:
                d.end_stream(KEY, progress(100))
            transport.release.set()
            assert d.flush(5)
        finally:
            transport.release.set()
            d.close(timeout=5)
    bodies = [(r.method, (r.json or {}).get("content_state", {}).get("percentage")) for r in stream_requests(sim)]
    assert bodies == ([("PUT", 0), ("DELETE", 100)] if ended else [("PUT", 0), ("PUT", 50)]), bodies


def test_a_start_submitted_while_the_last_end_is_pending_is_neither_paced_nor_dropped(sim, clock) -> None:
    transport = _Held(sim.transport(), "DELETE")
    with ActivitySmith(transport=transport, clock=clock) as c:
        d = Dispatcher(c, clock=clock)
        try:
            d.update_stream(KEY, progress(50))
            assert d.flush(5)
            d.end_stream(KEY, progress(100))
            wait_until(lambda: d.stats.pending == 1 and not d._queue)  # the end is in flight, held
            assert d.next_update_time(KEY) == -math.inf  # the ended activity's pacing is not the next one's
            d.update_stream(KEY, progress(0, title="Second run"))
            d.end_stream(KEY, progress(100, title="Second run"))  # must not supersede the start
            transport.release.set()
            assert d.flush(5)
        finally:
            transport.release.set()
            d.close(timeout=5)
    assert [r.method for r in stream_requests(sim)] == ["PUT", "DELETE", "PUT", "DELETE"]
    assert [(a["state"], a["content_state"]["title"]) for a in shown(sim)] == [
        ("ended", "Training"), ("ended", "Second run")]


def test_end_without_a_body_keeps_the_latest_state(dispatcher, sim) -> None:
    dispatcher.update_stream(KEY, progress(42))
    dispatcher.end_stream(KEY)
    assert dispatcher.flush(5)
    assert stream_requests(sim)[-1].json is None
    assert shown(sim)[0]["content_state"]["percentage"] == 42


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "submit",
    [
        lambda d: d.update_stream(KEY, {"content_state": {"title": "x", "type": "progress", "percentage": 140}}),
        lambda d: d.update_stream("bad key/1", progress(1)),
        lambda d: d.update_stream(KEY, {"content_state": {"title": "x", "type": "progress", "color": "pink"}}),
        lambda d: d.end_stream(KEY, {"content_state": {"type": "progress"}}),
        lambda d: d.push({"message": "no title"}),
    ],
    ids=["percentage-out-of-range", "key-pattern", "unknown-color", "end-without-title", "push-without-title"],
)
def test_payload_errors_are_raised_in_the_caller_and_nothing_is_sent(dispatcher, sim, submit) -> None:
    with pytest.raises(PayloadError):
        submit(dispatcher)
    assert dispatcher.flush(1)
    assert sim.requests == [] and dispatcher.stats == DispatchStats()


# ------------------------------------------------------------------------------ pushes


def test_push_survives_503_and_429_and_is_sent_once(dispatcher, sim) -> None:
    sim.inject(503, times=3, path="/push-notification")
    sim.inject(429, times=1, path="/push-notification", retry_after=12)
    dispatcher.push({"title": "Training finished", "message": "loss 0.12"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert dispatcher.flush(5)
    assert len(sim.notifications) == 1
    assert dispatcher.stats.retried == 4 and dispatcher.stats.failed == 0


# A push that may have arrived (dropped after sending, 500, timeout) is sent again until it lands (issue 8's
# change of policy): tests/delivery/test_dispatch_delivery.py::test_a_closing_push_is_sent_again_until_it_lands.


def test_pushes_keep_their_order(dispatcher, sim) -> None:
    for i in range(5):
        dispatcher.push({"title": f"push {i}"})
    assert dispatcher.flush(5)
    assert [n["request"]["title"] for n in sim.notifications] == [f"push {i}" for i in range(5)]


# ------------------------------------------------------------------------------ budget


def test_many_streams_and_pushes_stay_under_60_per_minute_and_ends_are_not_starved(make_dispatcher, sim,
                                                                                    clock) -> None:
    sim.max_active_activities = 100
    d = make_dispatcher()
    keys = [f"job-{i}" for i in range(40)]
    for round_ in range(5):
        for key in keys:
            d.update_stream(key, progress(round_ * 10, title=key))
        clock.advance(1)
    end_submitted = clock.time()
    d.end_stream("job-0", progress(100, title="job-0"))
    for i in range(30):
        d.push({"title": f"push {i}"})
    assert d.flush(10)
    assert max_in_window([r.time for r in sim.requests]) <= 60
    end = next(r for r in sim.requests if r.method == "DELETE")
    assert end.time - end_submitted < 60  # updates alone could not use the reserve
    assert len(sim.notifications) == 30
    assert {a["stream_key"] for a in shown(sim)} == set(keys)
    d.close(1)


def test_429_retry_after_pauses_every_send(dispatcher, sim) -> None:
    sim.inject(429, times=1, retry_after=30, method="PUT")
    dispatcher.update_stream(KEY, progress(1))
    dispatcher.push({"title": "hello"})
    assert dispatcher.flush(5)
    first = sim.requests[0]
    assert first.status == 429
    assert all(r.time >= first.time + 30 for r in sim.requests[1:])
    assert shown(sim)[0]["content_state"]["percentage"] == 1


# ------------------------------------------------------------------------------ failures


def test_terminal_send_is_retried_until_the_server_recovers(dispatcher, sim) -> None:
    dispatcher.update_stream(KEY, progress(10))
    assert dispatcher.flush(5)
    sim.inject(refuse=True, times=None)
    dispatcher.end_stream(KEY, progress(100))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert dispatcher.flush(0.2) is False  # bounded: the caller is never held longer
        assert dispatcher.stats.pending == 1 and dispatcher.stats.retried > 0
        sim.clear_faults()
        assert dispatcher.flush(5)
    assert shown(sim)[0]["state"] == "ended"
    assert shown(sim)[0]["content_state"]["percentage"] == 100


def test_errors_are_logged_kept_and_warned_about_once(dispatcher, sim, caplog) -> None:
    sim.inject(400, times=2, method="PUT")
    caplog.set_level(logging.INFO, logger="activitysmith_jupyter")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dispatcher.update_stream(KEY, progress(1))
        assert dispatcher.flush(5)
        dispatcher.update_stream("other", progress(2))
        assert dispatcher.flush(5)
    assert isinstance(dispatcher.last_error, BadRequestError)
    assert [w for w in seen if "activitysmith_jupyter" in str(w.message)] == []  # a log line, not a warning too
    assert [r.levelname for r in caplog.records if "failed" in r.getMessage()] == ["WARNING", "INFO"]
    assert dispatcher.stats.failed == 2


def test_device_full_start_waits_for_a_free_slot(make_dispatcher, sim) -> None:
    d = make_dispatcher()
    for i in range(5):
        d.update_stream(f"job-{i}", progress(0, title=f"job {i}"))
    wait_until(lambda: d.stats.retried > 0)
    d.end_stream("job-0", progress(100, title="job 0"))
    for i in range(1, 5):
        d.end_stream(f"job-{i}", progress(100, title=f"job {i}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert d.flush(10)
    assert sorted(a["stream_key"] for a in shown(sim) if a["state"] == "ended") == [f"job-{i}" for i in range(5)]
    d.close(1)


def test_submits_from_many_threads_lose_nothing(dispatcher, sim) -> None:
    sim.max_active_activities = 16

    def work(i: int) -> None:
        for p in range(200):
            dispatcher.update_stream(f"t{i}", progress(p / 2, title=f"thread {i}"))
        dispatcher.end_stream(f"t{i}", progress(100, title=f"thread {i}"))
        dispatcher.push({"title": f"thread {i} done"})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dispatcher.flush(10)
    screen = {a["stream_key"]: a for a in shown(sim)}
    assert all(screen[f"t{i}"]["state"] == "ended" and screen[f"t{i}"]["content_state"]["percentage"] == 100
               for i in range(8))
    assert len(sim.notifications) == 8


def test_close_drops_later_submits_without_raising(dispatcher, sim, caplog) -> None:
    dispatcher.update_stream(KEY, progress(5))
    assert dispatcher.close(5)
    dispatcher.update_stream(KEY, progress(6))
    dispatcher.end_stream(KEY)
    assert len(sim.requests) == 1
    assert "closed" in caplog.text


def test_one_dispatcher_per_client(sim) -> None:
    a, b = ActivitySmith(transport=sim.transport()), ActivitySmith(transport=sim.transport())
    assert dispatcher_for(a) is dispatcher_for(a)
    assert dispatcher_for(a) is not dispatcher_for(b)


def test_importing_dispatch_does_not_import_tqdm_or_ipython() -> None:
    code = ("import sys, activitysmith_jupyter.delivery.dispatcher; "
            "bad = [m for m in ('tqdm', 'IPython', 'ipywidgets') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------------------ exit hook

CHILD = textwrap.dedent("""
    import os, sys
    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for
    d = dispatcher_for()
    d.update_stream("child-job", {"content_state": {"title": "Child", "type": "progress", "percentage": 10}})
    d.end_stream("child-job", {"content_state": {"title": "Child", "type": "progress", "percentage": 100}})
    # no flush, no close: the interpreter exits right away
""")


@pytest.mark.parametrize("faults", [[], [dict(status=503, times=2, method="DELETE")]], ids=["healthy", "503-twice"])
def test_exit_hook_delivers_the_end_before_the_interpreter_exits(server, sim, faults, tmp_path) -> None:
    for f in faults:
        sim.inject(**f)
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_exit", "ACTIVITYSMITH_BASE_URL": server.url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, timeout=60, cwd=tmp_path)
    took = time.monotonic() - started
    ends = [r for r in sim.requests if r.method == "DELETE"]
    assert ends and ends[-1].status == 200
    assert shown(sim)[0]["content_state"]["percentage"] == 100
    assert took < 5 + 5  # the 5 s exit bound plus interpreter start-up


def test_exit_hook_gives_up_after_its_bound_when_the_server_is_gone(server, sim, tmp_path) -> None:
    sim.inject(refuse=True, times=None)
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_exit", "ACTIVITYSMITH_BASE_URL": server.url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, timeout=60, cwd=tmp_path,
                   capture_output=True)
    took = time.monotonic() - started
    assert 3.5 < took < 5 + 5  # the exit budget: 4 s of sending, 1 s kept for the teardown (exit_budget.py)


def test_a_refused_stream_is_not_hammered(dispatcher, sim, clock) -> None:
    sim.inject(403, times=None, method="PUT")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drive_like_a_bar(dispatcher, clock, minutes=30)
    # held back 1, 2, 4, 8, 15 minutes after each refusal
    assert len(stream_requests(sim)) <= 6
    assert dispatcher.stats.failed == len(stream_requests(sim))


def test_a_paused_stream_is_paced_like_any_other(dispatcher, sim, clock) -> None:
    dispatcher.update_stream(KEY, progress(0))
    assert dispatcher.flush(5)
    sim.pause_stream(KEY)
    drive_like_a_bar(dispatcher, clock, minutes=10)
    assert {(r.response or {}).get("operation") for r in stream_requests(sim)[1:]} == {"paused"}
    assert len(stream_requests(sim)) <= 1 + sum(UpdatePolicy().release_time(k) <= 600 for k in range(2, 20))

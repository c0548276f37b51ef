"""tqdm drop-ins and the bar observer, against the simulator (FakeClock-driven dispatcher)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest
from tqdm.auto import tqdm as tqdm_auto
from tqdm.contrib.concurrent import thread_map

import activitysmith_jupyter.hub.content as content_mod
import activitysmith_jupyter.tqdm as as_tqdm
from activitysmith_jupyter.api.client import ActivitySmith
from activitysmith_jupyter.delivery.dispatcher import Dispatcher
from activitysmith_jupyter.errors import PayloadError
from shell_helpers import fresh_shell, time_worst_call

from activitysmith_jupyter.tqdm import BarSnapshot, observe_bars, tqdm, trange


def shown(sim) -> list[dict]:
    """Every activity the phone showed, dismissed ones included (the fake clock runs far ahead)."""
    return [a.view() for a in sim.activities.values()]


def activity(sim, key: str) -> dict:
    found = [a for a in shown(sim) if a["stream_key"] == key]
    assert len(found) == 1, shown(sim)
    return found[0]


def kinds(sim, key: str) -> list[str]:
    return [e.kind for e in sim.events if (e.data or {}).get("stream_key", None) in (key, None)
            and e.kind in ("started", "updated", "ended") and key in e.summary]


# ------------------------------------------------------------------------------ lifecycles


def test_long_bar_starts_updates_and_ends_at_100_percent(dispatcher, sim, clock, null) -> None:
    for i in tqdm(range(100_000), desc="Big job", dispatcher=dispatcher, file=null, mininterval=0):
        if i % 1000 == 0:
            clock.advance(30)  # ~50 virtual minutes in all
    assert dispatcher.flush(5)
    a = activity(sim, "Big-job")
    assert a["state"] == "ended"
    assert a["content_state"]["percentage"] == 100 and a["content_state"]["color"] == "green"
    assert a["content_state"]["subtitle"].startswith("Done · 100,000/100,000")
    seen = [(r.method, (r.response or {}).get("operation")) for r in sim.requests]
    assert seen[0] == ("PUT", "started") and seen[-1] == ("DELETE", "ended")
    assert seen.count(("PUT", "updated")) >= 3
    assert not [r for r in sim.requests if (r.response or {}).get("warning")]


def test_bar_that_raises_ends_in_a_failure_state(dispatcher, sim, null) -> None:
    with pytest.raises(ZeroDivisionError):
        for i in tqdm(range(100), desc="Fails", dispatcher=dispatcher, file=null):
            if i == 40:
                1 / 0
    assert dispatcher.flush(5)
    cs = activity(sim, "Fails")["content_state"]
    assert activity(sim, "Fails")["state"] == "ended"
    assert cs["color"] == "red" and cs["percentage"] == 40 and cs["subtitle"].startswith("Failed at 40/100")


def test_manual_bar_failing_inside_with_names_the_exception(dispatcher, sim, null) -> None:
    with pytest.raises(KeyError):
        with tqdm(total=10, desc="Manual", dispatcher=dispatcher, file=null) as bar:
            bar.update(3)
            raise KeyError("shard-7")
    assert dispatcher.flush(5)
    cs = activity(sim, "Manual")["content_state"]
    assert cs["color"] == "red" and "KeyError: 'shard-7'" in cs["subtitle"] and cs["percentage"] == 30


def test_keyboard_interrupt_ends_as_interrupted(dispatcher, sim, null) -> None:
    with pytest.raises(KeyboardInterrupt):
        with tqdm(total=10, desc="Stopped by hand", dispatcher=dispatcher, file=null) as bar:
            bar.update(5)
            raise KeyboardInterrupt
    assert dispatcher.flush(5)
    cs = activity(sim, "Stopped-by-hand")["content_state"]
    assert cs["subtitle"].startswith("Interrupted at 5/10") and cs["color"] != "green" and cs["percentage"] < 100


@pytest.fixture
def shell(dispatcher):
    """A real IPython shell (no extension) whose cells loop over a mirrored bar."""
    with fresh_shell(extension=False) as ip, open(os.devnull, "w") as null:
        ip.user_ns.update(tqdm=tqdm, dispatcher=dispatcher, null=null)
        yield ip


@pytest.mark.parametrize(
    ("raised", "subtitle", "color"),
    [("KeyboardInterrupt", "Interrupted at 5/10", "orange"), ("ValueError('shard 7 is corrupt')", "Failed at 5/10", "red")],
    ids=["ctrl-c", "exception"],
)
def test_in_ipython_a_for_loop_bar_ends_with_what_stopped_the_cell(shell, dispatcher, sim, raised, subtitle,
                                                                   color) -> None:
    result = shell.run_cell(
        "for i in tqdm(range(10), desc='Cell loop', dispatcher=dispatcher, file=null):\n"
        f"    if i == 5:\n        raise {raised}\n"
    )
    assert type(result.error_in_exec).__name__ == raised.split("(")[0]
    assert dispatcher.flush(5)
    cs = activity(sim, "Cell-loop")["content_state"]
    assert cs["subtitle"].startswith(subtitle) and cs["color"] == color
    if raised.startswith("ValueError"):
        assert "ValueError: shard 7 is corrupt" in cs["subtitle"]


def test_in_ipython_an_exception_caught_inside_the_cell_still_ends_the_bar(shell, dispatcher, sim) -> None:
    result = shell.run_cell(
        "try:\n"
        "    for i in tqdm(range(10), desc='Caught', dispatcher=dispatcher, file=null):\n"
        "        if i == 3:\n            raise ValueError('x')\n"
        "except ValueError:\n    pass\n"
    )
    assert result.error_in_exec is None
    assert dispatcher.flush(5)
    cs = activity(sim, "Caught")["content_state"]
    assert activity(sim, "Caught")["state"] == "ended" and cs["subtitle"].startswith("Failed at 3/10")


@pytest.mark.parametrize("how", ["break", "return", "zip-shorter"], ids=str)
def test_loop_left_early_ends_as_incomplete(dispatcher, sim, null, how) -> None:
    def run() -> None:
        bar = tqdm(range(100), desc="Early", dispatcher=dispatcher, file=null)
        if how == "zip-shorter":
            for _ in zip(bar, range(25)):
                pass
            return
        for i in bar:
            if i == 25:
                if how == "break":
                    break
                return

    run()
    assert dispatcher.flush(5)
    a = activity(sim, "Early")
    cs = a["content_state"]
    assert a["state"] == "ended"
    assert cs["subtitle"].startswith("Stopped at 25/100") and cs["color"] == "orange" and cs["percentage"] == 25


def test_bar_without_total_shows_a_count(dispatcher, sim, null) -> None:
    for _ in tqdm(iter(range(500)), desc="Stream", unit="rows", dispatcher=dispatcher, file=null):
        pass
    assert dispatcher.flush(5)
    cs = activity(sim, "Stream")["content_state"]
    assert cs["type"] == "value" and cs["value"] == "500 rows" and cs["color"] == "green"


@pytest.fixture
def timezone(monkeypatch):
    """Set the process's local zone (POSIX TZ) for one test."""
    def use(tz: str) -> None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()
    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("tz", "eta"), [("CET-1", "ETA 14:01"), ("UTC0", "ETA 14:01 UTC")], ids=["local-zone", "utc-kernel"])
def test_running_subtitle_says_count_rate_and_wall_clock_eta(timezone, tz, eta) -> None:
    timezone(tz)
    snap = BarSnapshot(n=250, total=1000, desc="x", unit="it", rate=12.5, elapsed=20.0)
    now = time.mktime((2026, 11, 26, 14, 0, 0, 0, 0, -1))
    state = as_tqdm.running_state(snap, title="Train", color="blue", now=now)
    assert state["subtitle"] == f"250/1,000 · 12.5 it/s · {eta}"
    assert state["percentage"] == 25.0 and state["type"] == "progress"


# ------------------------------------------------------------------------------ options


def test_nested_bars_only_the_outermost_owns_an_activity(dispatcher, sim, null) -> None:
    for _epoch in trange(3, desc="Epochs", dispatcher=dispatcher, file=null):
        for _ in trange(50, desc="batches", leave=False, dispatcher=dispatcher, file=null):
            pass
    assert dispatcher.flush(5)
    assert [a["stream_key"] for a in shown(sim)] == ["Epochs"]
    assert activity(sim, "Epochs")["content_state"]["percentage"] == 100


def test_inner_bar_with_an_explicit_stream_key_mirrors_too(dispatcher, sim, null) -> None:
    with tqdm(total=1, desc="outer", dispatcher=dispatcher, file=null) as outer:
        for _ in tqdm(range(3), stream_key="inner-job", dispatcher=dispatcher, file=null):
            pass
        outer.update()
    assert dispatcher.flush(5)
    assert sorted(a["stream_key"] for a in shown(sim)) == ["inner-job", "outer"]


@pytest.mark.parametrize("kwargs", [dict(disable=True), dict(mirror=False)], ids=["disable", "mirror-off"])
def test_switched_off_bars_send_nothing(dispatcher, sim, null, kwargs) -> None:
    for _ in tqdm(range(1000), desc="quiet", dispatcher=dispatcher, file=null, **kwargs):
        pass
    assert dispatcher.flush(5)
    assert sim.requests == []


def test_title_color_and_channels_reach_the_phone(dispatcher, sim, null) -> None:
    for _ in tqdm(range(10), desc="x", title="Nightly ETL", stream_key="etl", color="purple", channels="ops, ml",
                  dispatcher=dispatcher, file=null):
        pass
    assert dispatcher.flush(5)
    first = sim.requests[0].json
    assert first["content_state"]["title"] == "Nightly ETL" and first["content_state"]["color"] == "purple"
    assert first["target"] == {"channels": ["ops", "ml"]}


@pytest.mark.parametrize(
    ("desc", "key"),
    [("Epoch 1/3: train", "Epoch-1-3-train"), ("", "tqdm"), ("ÉTL ünïcode", "TL-n-code"), ("x" * 400, "x" * 200)],
    ids=["punctuation", "empty", "non-ascii", "long"],
)
def test_stream_key_is_derived_from_the_description(desc, key, dispatcher, null) -> None:
    with tqdm(range(3), desc=desc, dispatcher=dispatcher, file=null) as bar:
        assert bar.stream_key == key
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,255}", bar.stream_key)


def test_concurrent_bars_with_the_same_description_get_distinct_keys(dispatcher, null) -> None:
    a = tqdm(total=2, desc="same", stream_key=None, dispatcher=dispatcher, file=null)
    b = tqdm(total=2, desc="same", stream_key="other", dispatcher=dispatcher, file=null)
    c = threading.Thread(target=lambda: setattr(c, "bar", tqdm(total=2, desc="same", dispatcher=dispatcher, file=null)))
    c.start()
    c.join()
    assert a.stream_key == "same" and b.stream_key == "other" and c.bar.stream_key == "same-2"
    for bar in (a, b, c.bar):
        bar.close()


@pytest.mark.parametrize("kwargs", [dict(stream_key="bad key"), dict(color="pink"), dict(stream_key="k" * 256)],
                         ids=["key-pattern", "color", "key-length"])
def test_bad_options_raise_at_creation(dispatcher, sim, null, kwargs) -> None:
    with pytest.raises(PayloadError):
        tqdm(range(3), dispatcher=dispatcher, file=null, **kwargs)
    assert sim.requests == []


# ------------------------------------------------------------------------------ hot loop


def test_no_per_iteration_work_and_states_built_only_when_the_policy_allows(dispatcher, sim, null, monkeypatch) -> None:
    assert tqdm.__iter__ is tqdm_auto.__iter__ and tqdm.update is tqdm_auto.update
    built = []
    real = content_mod.running_state  # the hub builds every running state
    monkeypatch.setattr(content_mod, "running_state", lambda *a, **k: built.append(1) or real(*a, **k))
    for _ in tqdm(range(200_000), desc="hot", dispatcher=dispatcher, file=null, mininterval=0):
        pass  # the fake clock does not move: after the start no update is due
    assert dispatcher.flush(5)
    assert len(built) == 1
    assert [r.method for r in sim.requests] == ["PUT", "DELETE"]


# ------------------------------------------------------------------------------ threads, libraries


def test_eight_threads_of_bars_lose_no_final_state(dispatcher, sim, clock, null) -> None:
    def work(i: int) -> None:
        for j in range(3):
            for step in tqdm(range(2000), desc=f"worker {i} part {j}", dispatcher=dispatcher, file=null,
                             mininterval=0):
                if step % 500 == 0:
                    clock.advance(1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the device holds 4 activities: later starts wait for a slot
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert dispatcher.flush(20)
    ended = {a["stream_key"]: a["content_state"] for a in shown(sim) if a["state"] == "ended"}
    assert sorted(ended) == sorted(f"worker-{i}-part-{j}" for i in range(8) for j in range(3))
    assert all(cs["percentage"] == 100 for cs in ended.values())
    assert dispatcher.stats.failed == 0


def test_works_as_tqdm_class_for_thread_map(dispatcher, sim, null) -> None:
    class Bar(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, dispatcher=dispatcher, file=null, **kwargs)

    assert thread_map(lambda x: x * 2, range(100), tqdm_class=Bar, desc="mapped", max_workers=4) == list(
        range(0, 200, 2))
    assert dispatcher.flush(5)
    assert activity(sim, "mapped")["content_state"]["percentage"] == 100


# ------------------------------------------------------------------------------ faults


# One submit may take this long at worst: far under the 3 s a blocking send to the "slow" server would cost,
# yet loose enough for a scheduler pause on a loaded 2-core machine (a no-I/O call, preempted).
SUBMIT_BOUND = 0.5
FAULTS = {
    "503-storm": dict(status=503, times=40),
    "429-retry-after": dict(status=429, times=3, retry_after=20),
    "refused": dict(refuse=True, times=30),
    "dropped": dict(drop=True, times=5),
    "slow": dict(delay=3.0, times=10),
    "timeouts": dict(delay=30.0, times=5),
}


@pytest.fixture
def submit_latency(monkeypatch):
    """The worst time the caller's thread spent in our code (the mirror's tick and end: state building,
    validation, queueing). Timing tqdm's own update as well would measure the machine's load."""
    return time_worst_call(monkeypatch, [(as_tqdm._Mirror, "tick"), (as_tqdm._Mirror, "end")])


def run_bar_through_fault(dispatcher, clock, null, n: int = 20_000) -> None:
    bar = tqdm(total=n, desc="Faulty", dispatcher=dispatcher, file=null, mininterval=0)
    for i in range(n):
        bar.update()  # never raises, whatever the server does
        if clock is not None and i % 200 == 0:
            clock.advance(5)
    bar.close()


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_faults_never_reach_the_loop_nor_block_it_and_the_final_state_lands(dispatcher, sim, clock, null, fault,
                                                                            submit_latency) -> None:
    sim.inject(**fault)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_bar_through_fault(dispatcher, clock, null)
        sim.clear_faults()  # the server recovers
        assert dispatcher.flush(10)
    assert submit_latency[0] < SUBMIT_BOUND, f"a submit took {submit_latency[0] * 1000:.1f} ms"
    a = activity(sim, "Faulty")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100


def test_a_really_slow_server_does_not_slow_the_loop(null, submit_latency) -> None:
    """Real time end to end: a loopback server that takes 5 s per answer, the system clock."""
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator()
    sim.inject(delay=5.0, times=3)
    with sim.serve() as srv, ActivitySmith("ask_test_slow", base_url=srv.url) as client:
        d = Dispatcher(client)
        started = time.perf_counter()
        run_bar_through_fault(d, None, null, n=1_000)  # drawn at every step
        looped = time.perf_counter() - started
        assert d.flush(30)
        d.close(1)
    assert submit_latency[0] < SUBMIT_BOUND, f"a submit took {submit_latency[0] * 1000:.1f} ms"
    assert looped < 4.5  # waiting for the first answer alone would take 5 s (the loop draws in ~0.1-0.5 s)
    a = activity(sim, "Faulty")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100


CHILD = textwrap.dedent("""
    import os
    from activitysmith_jupyter.tqdm import tqdm
    for _ in tqdm(range(5000), desc="child bar", file=open(os.devnull, "w")):
        pass
    # the interpreter exits right after the bar closed: the exit hook must deliver the end
""")


def test_script_exiting_right_after_its_bar_still_delivers_the_end(server, sim, tmp_path) -> None:
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_tqdm", "ACTIVITYSMITH_BASE_URL": server.url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, timeout=60, cwd=tmp_path)
    assert time.monotonic() - started < 10  # 5 s exit bound + start-up
    a = activity(sim, "child-bar")
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100


@pytest.mark.parametrize(("body", "status", "subtitle"), [
    ("os.kill(os.getpid(), signal.SIGINT)", -signal.SIGINT, "Interrupted at 5/10"),
    ("raise KeyError('shard-7')", 1, "Failed at 5/10: KeyError: 'shard-7'"),
], ids=["ctrl-c", "exception"])
def test_a_scripts_for_loop_bar_ends_with_what_ended_the_script(server, sim, tmp_path, body, status,
                                                                  subtitle) -> None:
    """The loop body's exception reaches the bar only as GeneratorExit; in a script where nothing handles
    it, the script's own end (its uncaught exception) names it."""
    code = textwrap.dedent(f"""
        import os, signal
        from activitysmith_jupyter.tqdm import tqdm
        for i in tqdm(range(10), desc="script loop", file=open(os.devnull, "w")):
            if i == 5:
                {body}
    """)
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_tqdm", "ACTIVITYSMITH_BASE_URL": server.url}
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                           cwd=tmp_path)
    assert child.returncode == status, child.stderr
    cs = activity(sim, "script-loop")["content_state"]
    assert cs["subtitle"].startswith(subtitle), cs


# ------------------------------------------------------------------------------ observer


def test_observer_sees_library_bars_and_reports_their_close(null) -> None:
    seen: list[BarSnapshot] = []
    observer = observe_bars(seen.append, interval=60)
    observer.start()  # the first look happens at once; later ones are driven by poll() here
    try:
        bar = tqdm_auto(total=10, desc="library bar", file=null)  # as a library would
        inner = tqdm_auto(total=5, desc="inner", file=null, leave=False)
        observer.poll()
        bar.update(4)
        bar.refresh()
        observer.poll()
        observer.poll()  # unchanged: no callback
        inner.close()
        bar.update(6)
        bar.close()
        observer.poll()
    finally:
        observer.stop()
    descs = {s.desc for s in seen}
    assert descs == {"library bar"}
    assert [(s.n, s.closed) for s in seen] == [(0, False), (4, False), (10, True)]
    assert seen[-1].completed is True and seen[-1].total == 10


def test_observers_share_one_thread_so_a_cell_pays_no_thread_start(null) -> None:
    seen: list[list[BarSnapshot]] = [[], [], []]
    observers = [observe_bars(s.append, interval=60) for s in seen]
    for o in observers:
        o.start()
    try:
        pollers = [t for t in threading.enumerate() if t.name == "activitysmith-bar-observer"]
        assert len(pollers) == 1 and pollers[0].daemon
        bar = tqdm_auto(total=3, desc="shared", file=null)
        for o in observers:
            o.poll()
        bar.update(3)
        bar.close()
    finally:
        for o in observers:
            o.stop()  # each one's last look reports the close
    assert all(s and s[-1].closed and s[-1].desc == "shared" for s in seen)


def test_observer_reports_an_incomplete_close(null) -> None:
    seen: list[BarSnapshot] = []
    with observe_bars(seen.append, interval=60) as observer:
        for i in tqdm_auto(range(10), file=null):
            if i == 0:
                observer.poll()
            if i == 3:
                break
    assert seen[-1].closed and seen[-1].completed is False and seen[-1].n == 3


def test_own_bars_leave_the_activity_to_an_active_observer(dispatcher, sim, null) -> None:
    seen: list[BarSnapshot] = []
    with observe_bars(seen.append, interval=60) as observer:
        for i in tqdm(range(1000), desc="observed", dispatcher=dispatcher, file=null):
            if i == 0:
                observer.poll()
    assert dispatcher.flush(5)
    assert sim.requests == []
    assert seen and seen[-1].closed and seen[-1].desc == "observed"


def test_title_follows_the_description_unless_given(dispatcher, sim, null) -> None:
    bar = tqdm(range(3), desc="loading", stream_key="desc-title", dispatcher=dispatcher, file=null)
    for _ in bar:
        bar.set_description("epoch 3")
    assert dispatcher.flush(5)
    titles = [r.json["content_state"]["title"] for r in sim.requests]
    assert titles == ["loading", "epoch 3"]


@pytest.mark.anyio
async def test_async_for_bar_completes_and_a_cancelled_one_ends_incomplete(dispatcher, sim, null) -> None:
    import asyncio

    async def numbers(n):
        for i in range(n):
            yield i

    async for _ in tqdm(numbers(20), total=20, desc="async done", dispatcher=dispatcher, file=null):
        pass

    async def slow():
        async for _ in tqdm(numbers(20), total=20, desc="async cancelled", dispatcher=dispatcher, file=null):
            await asyncio.sleep(3600)

    task = asyncio.ensure_future(slow())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert dispatcher.flush(5)
    assert activity(sim, "async-done")["content_state"]["color"] == "green"
    cancelled = activity(sim, "async-cancelled")
    assert cancelled["state"] == "ended" and cancelled["content_state"]["subtitle"].startswith("Stopped at 1/20")


def test_the_bar_observer_is_a_progress_source_for_any_activity(dispatcher, sim, null) -> None:
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations.tqdm import BarSource

    leftover = tqdm_auto(total=5, desc="leftover", file=null)  # open before: not this activity's progress
    act = Activity("Script run", key="script-run", dispatcher=dispatcher, notify="never").start()
    source = BarSource(interval=60)
    act.attach(source)
    bar = tqdm_auto(total=8, desc="library", file=null)  # as a library would, in the activity's time
    bar.update(2)
    bar.refresh()
    source.observer.poll()
    assert act.content_state["subtitle"].startswith("library: 2/8") and act.content_state["percentage"] == 25.0
    bar.update(6)
    bar.close()
    act.end("completed")  # detaches the source; its last look reports the bar's close
    leftover.close()
    assert source.observer is None
    assert dispatcher.flush(5)
    end = activity(sim, "script-run")["content_state"]
    assert end["subtitle"].startswith("Done · 8/8 in ") and end["percentage"] == 100

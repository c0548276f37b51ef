"""The watchdog process (issue 13): real scripts, real signals, a loopback simulator server.

A script killed mid-bar leaves its activity to the watchdog, which ends it ("Process died after …",
red) and pushes, once, within seconds; a script that exits cleanly takes its watchdog with it and
nothing is sent twice; the API key never shows on a command line; idle, the watchdog is small and
still. These wait on real time: the work happens in other processes.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from activitysmith_jupyter.watchdog import protocol
from watchdog_helpers import KEY, child_env, live_server, requests_for, script, wait_for, watchdogs_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

BAR = """
import sys, time
from activitysmith_jupyter.tqdm import tqdm
for i in tqdm(range(100), desc="Training", notify="always"):
    if i == 47:
        print("AT47", flush=True)
        time.sleep(600)
    time.sleep(0.01)
"""


def test_a_script_killed_mid_bar_is_ended_by_its_watchdog_once(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, BAR), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "AT47"
            [dog] = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            wait_for(lambda: requests_for(sim, "Training", "PUT"), what="the start")
            shown = requests_for(sim, "Training", "PUT")[-1].json["content_state"]
            killed_at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_for(lambda: requests_for(sim, "Training", "DELETE") and sim.notifications, timeout=10,
                     what="the watchdog's end and push")
            detected = time.monotonic() - killed_at
            wait_for(lambda: not dog.is_running() or dog.status() == psutil.STATUS_ZOMBIE, what="the watchdog to exit")
        finally:
            proc.kill()
        time.sleep(0.5)  # anything sent twice would arrive now
        [end] = requests_for(sim, "Training", "DELETE")
        final = end.json["content_state"]
        assert final["subtitle"].startswith("Process died after ") and final["color"] == "red"
        assert final["percentage"] == shown["percentage"]  # left where the phone last showed it
        [push] = [n["request"] for n in sim.notifications]
        assert push["title"].startswith("💀 Training died after ")
        assert detected < 10, detected
        print(f"death detected and sent in {detected:.2f}s")


MANY = """
import time
from activitysmith_jupyter.hub.activity import Activity
acts = [Activity(f"Job {i}", key=f"job-{i}").start() for i in range(3)]
print("OPEN", flush=True)
time.sleep(600)
"""


def test_one_watchdog_per_process_however_many_activities_and_the_key_is_not_on_its_command_line(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, MANY), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "OPEN"
            wait_for(lambda: len({r.key for r in sim.requests if r.method == "PUT"}) == 3, what="three starts")
            dogs = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            time.sleep(0.5)
            assert len(watchdogs_of(proc.pid)) == 1
            [dog] = dogs
            with open(f"/proc/{dog.pid}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{dog.pid}/environ", "rb") as f:
                environ = f.read()
            assert KEY.encode() not in cmdline and KEY.encode() not in environ
            assert b"activitysmith_jupyter.watchdog" in cmdline
            files = [f.path for f in dog.open_files()]
            assert files == []  # it keeps nothing on disk
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_for(lambda: len([r for r in sim.requests if r.method == "DELETE"]) == 3
                     and len(sim.notifications) >= 3, timeout=10, what="three ends and their pushes")
        finally:
            proc.kill()
        assert sorted(r.key for r in sim.requests if r.method == "DELETE") == ["job-0", "job-1", "job-2"]
        assert len(sim.notifications) == 3


CLEAN = """
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.watchdog.parent import current_watchdog
with Activity("Nightly ETL", key="etl") as act:
    act.update(percentage=50)
    dog = current_watchdog()
    assert dog is not None and dog.wait_started()
print(dog.process.pid, flush=True)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_clean_exit_takes_the_watchdog_along_and_nothing_is_sent_twice(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, CLEAN), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
        dog = int(out.strip())
        wait_for(lambda: _gone(dog), timeout=10, what="the watchdog to exit with its parent")
        time.sleep(0.5)  # a watchdog that wrongly ended it again would have sent by now
        assert len(requests_for(sim, "etl", "DELETE")) == 1
        assert [n["request"]["title"][:1] for n in sim.notifications] == ["✅"]


IDLE = """
import time
from activitysmith_jupyter.hub.activity import Activity
act = Activity("Idle", key="idle", stall_after=None).start()
print("OPEN", flush=True)
time.sleep(600)
"""


def test_the_idle_watchdog_is_small_and_uses_no_measurable_cpu(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, IDLE), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "OPEN"
            [dog] = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            time.sleep(1.0)
            before = dog.cpu_times()
            window = 12.0  # two heartbeats and more
            time.sleep(window)
            after = dog.cpu_times()
            memory = dog.memory_full_info()
        finally:
            proc.kill()
        cpu = (after.user + after.system) - (before.user + before.system)
        print(f"idle watchdog: rss {memory.rss / 1e6:.1f} MB, uss {memory.uss / 1e6:.1f} MB, "
              f"cpu {cpu * 1000:.1f} ms in {window:.0f}s")
        assert memory.rss <= 30 * 1024 * 1024
        assert cpu <= 0.02 * window / 10  # under 0.2 % of one core (the clock tick is 10 ms)


def test_a_watchdog_that_is_sending_stays_within_its_memory_budget(tmp_path) -> None:
    """Once the parent dies the watchdog loads the HTTP client to send the end: still <= 30 MB."""
    with live_server() as (sim, srv):
        sim.inject(delay=3.0, times=1, method="DELETE")  # the end is slow: the sending watchdog stays alive
        proc = subprocess.Popen(script(tmp_path, IDLE), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "OPEN"
        [dog] = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
        wait_for(lambda: [r for r in sim.requests if r.method == "PUT" and r.key == "idle"], what="the start")
        time.sleep(0.5)  # the parent's writer thread has told the watchdog what is open
        proc.kill()
        proc.wait(10)
        peak = 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and dog.is_running() and dog.status() != psutil.STATUS_ZOMBIE:
            try:
                peak = max(peak, dog.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        ends = wait_for(lambda: [r for r in sim.requests if r.method == "DELETE" and r.key == "idle"], timeout=30,
                        what="the watchdog's end")
    print(f"sending watchdog: peak rss {peak / 1e6:.1f} MB")
    assert ends and ends[0].status == 200
    assert 0 < peak <= 30 * 1024 * 1024


def test_a_parent_that_never_speaks_gets_no_sends(tmp_path) -> None:
    """A watchdog whose pipe closes before anything was open exits at once and sends nothing."""
    with live_server() as (sim, _srv):
        dog = subprocess.Popen([sys.executable, "-m", "activitysmith_jupyter.watchdog"], stdin=subprocess.PIPE,
                               env=dict(os.environ))
        assert dog.stdin is not None
        dog.stdin.write(protocol.encode("hello", pid=os.getpid(), kind="Process", api_key=KEY, base_url=_srv.url))
        dog.stdin.close()
        assert dog.wait(10) == 0
        assert sim.requests == []


@pytest.mark.parametrize(("line", "problem"), [(b"{", "not JSON"), (b'{"op": "dance"}', "not a watchdog message")],
                         ids=["truncated", "unknown-op"])
def test_a_bad_pipe_line_is_refused_by_name(line, problem) -> None:
    with pytest.raises(protocol.ProtocolError, match=problem):
        protocol.decode(line)


def test_the_death_end_keeps_the_bar_and_names_the_kernel() -> None:
    state = {"title": "Training", "type": "progress", "percentage": 47.0, "subtitle": "47/100 · 3.1 it/s"}
    final, push = protocol.death_end("Kernel", "Training", state, duration=4320, channels=["ops"])
    assert final == {"title": "Training", "type": "progress", "percentage": 47.0, "color": "red",
                     "subtitle": "Kernel died after 1h 12m · at 47 %"}
    assert push == {"title": "💀 Training died after 1h 12m", "channels": ["ops"],
                    "message": "Kernel died · stopped at 47 % · last: 47/100 · 3.1 it/s"}


GIL = """
import ctypes, time
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.hub.outcome import Snapshot
from activitysmith_jupyter.watchdog.parent import current_watchdog
with Activity("Training", key="train", stall_after=12) as act:
    act.feed(Snapshot(n=47, total=100))
    assert current_watchdog().drained(10)
    print("STUCK", flush=True)
    ctypes.PyDLL(None).sleep(20)  # PyDLL keeps the GIL: no thread of this process runs for 20 s
    print("BACK", flush=True)
    act.tick()  # the ticker's stall check, now: the watchdog announced this stall already
    act.feed(Snapshot(n=60, total=100))
"""


def test_a_process_stuck_in_c_code_holding_the_gil_gets_one_stall_push_from_its_watchdog(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, GIL), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "STUCK"
            stuck_at = time.monotonic()
            wait_for(lambda: sim.notifications, timeout=25, what="the stall push")
            pushed_after = time.monotonic() - stuck_at
            assert proc.stdout.readline().strip() == "BACK"  # the push came while the GIL was held
            assert proc.wait(30) == 0
        finally:
            proc.kill()
        time.sleep(0.5)
        titles = [n["request"]["title"] for n in sim.notifications]
        stall = [t for t in titles if "no progress" in t]
        assert len(stall) == 1 and re.fullmatch(r"⚠️ Training has made no progress for 1\ds — stuck at 47 %", stall[0])
        assert titles[-1].startswith("✅ Training finished")
        assert pushed_after < 20
        subtitles = [r.json["content_state"].get("subtitle", "") for r in requests_for(sim, "train", "PUT")]
        assert any(s.startswith("⚠️ No progress for") for s in subtitles)
        print(f"GIL stall pushed {pushed_after:.1f}s after the C call began (stall_after=12)")


MONITORED = """
import time
from activitysmith_jupyter.hub.activity import Activity
with Activity("Training", key="train", monitor=True):
    time.sleep(1.0)
print("DONE", flush=True)
"""


def test_an_activity_with_monitor_true_shows_the_resources_while_it_is_open(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, MONITORED), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "DONE"
        wait_for(lambda: requests_for(sim, "kernel-resources", "DELETE"), timeout=10, what="the monitor's end")
        [start, *_] = requests_for(sim, "kernel-resources", "PUT")
        state = start.json["content_state"]
        assert state["title"] == "Process resources" and state["type"] == "metrics"
        assert [m["label"] for m in state["metrics"]] == ["CPU", "Memory"]
        assert len(requests_for(sim, "train", "DELETE")) == 1


FORKS = """
import os, time
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.watchdog.parent import current_watchdog
act = Activity("Training", key="train").start()
assert current_watchdog().drained(10)
if os.fork() == 0:  # a forked worker (multiprocessing's fork) lives on after the parent dies
    time.sleep(60)
    os._exit(0)
print("FORKED", flush=True)
time.sleep(600)
"""


def test_a_forked_child_does_not_hold_the_pipe_open_after_the_parent_dies(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, FORKS), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "FORKED"
            worker = [c for c in psutil.Process(proc.pid).children() if c not in watchdogs_of(proc.pid)]
            assert len(worker) == 1
            killed_at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_for(lambda: requests_for(sim, "train", "DELETE"), timeout=10, what="the watchdog's end")
            detected = time.monotonic() - killed_at
        finally:
            proc.kill()
            for w in worker:
                w.kill()
        assert detected < 2.5  # the pipe's end of file, not the 5 s parent-pid poll


TERMINATED = """
import time
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.watchdog.parent import current_watchdog
act = Activity("Training", key="train").start()
act.update(percentage=30)
assert current_watchdog().drained(10)
print("OPEN", flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("run", range(3), ids=["1st", "2nd", "3rd"])
def test_sigterm_is_ended_by_the_process_itself_and_the_watchdog_sends_nothing_more(tmp_path, run) -> None:
    """SIGTERM: the lifecycle handler ends the activity as "terminated" and flushes; the watchdog, told
    the end landed, must not end it a second time (repeated: the race would show)."""
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, TERMINATED), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "OPEN"
            [dog] = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == -signal.SIGTERM
            wait_for(lambda: not dog.is_running() or dog.status() == psutil.STATUS_ZOMBIE, what="the watchdog to exit")
        finally:
            proc.kill()
        [end] = requests_for(sim, "train", "DELETE")
        assert end.json["content_state"]["subtitle"].startswith("Terminated")
        assert [n["request"]["title"][:1] for n in sim.notifications] == ["🛑"]


SHORT = """
from activitysmith_jupyter.tqdm import tqdm
for i in tqdm(range(5), desc="Train", notify="always"):
    pass
"""


def test_a_script_that_exits_while_its_watchdog_is_starting_is_ended_once(tmp_path) -> None:
    """A script that ends before its watchdog process is up: the exit waits for the spawn and then
    confirms its own end (a late watchdog used to find it unconfirmed and end it a second time). The
    end's answer is slowed so that the spawn lands while the exit flushes."""
    with live_server() as (sim, srv):
        sim.inject(method="DELETE", delay=1.0, times=1)
        proc = subprocess.run(script(tmp_path, SHORT), env=child_env(srv), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        time.sleep(1.5)  # a second end from the watchdog would arrive now
        [end] = requests_for(sim, "Train", "DELETE")
        assert end.json["content_state"]["subtitle"].startswith("Done · 5/5")  # the script's end, not "died"
        assert [n["request"]["title"] for n in sim.notifications] == [sim.notifications[0]["request"]["title"]]
        assert sim.notifications[0]["request"]["title"].startswith("✅ Train finished")

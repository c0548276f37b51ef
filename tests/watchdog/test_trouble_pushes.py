"""Trouble reaches the phone with the front ends' defaults (issue 17, item 1), with real processes and real
signals against a loopback simulator on real time: a default tqdm bar killed mid-run, ``activitysmith run``
killed, a failing rank 1, and a process stuck in C code holding the GIL (the watchdog's stall, item 2).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from watchdog_helpers import child_env, live_server, requests_for, script, wait_for, watchdogs_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

DOOMED = """
import time
from activitysmith_jupyter.tqdm import tqdm
for i in tqdm(range(10000), desc="Doomed run"):
    if i == 300:
        print("AT300", flush=True)
    time.sleep(0.01)
"""


def _push_titles(sim) -> list[str]:
    return [n["request"]["title"] for n in sim.notifications]


def test_a_default_drop_in_bar_killed_mid_run_gets_its_death_push(tmp_path) -> None:
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, DOOMED), env=child_env(srv), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "AT300"
            wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            wait_for(lambda: requests_for(sim, "Doomed-run", "PUT"), what="the start")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            wait_for(lambda: requests_for(sim, "Doomed-run", "DELETE") and sim.notifications, timeout=10,
                     what="the watchdog's end and push")
        finally:
            proc.kill()
        time.sleep(0.5)  # anything sent twice would arrive now
        [end] = requests_for(sim, "Doomed-run", "DELETE")
        assert end.json["content_state"]["subtitle"].startswith("Process died after ")
        [title] = _push_titles(sim)
        assert title.startswith("💀 Doomed run died after ")


def test_activitysmith_run_killed_gets_its_death_push(tmp_path) -> None:
    child = "import time; print('UP', flush=True); time.sleep(600)"
    with live_server() as (sim, srv):
        proc = subprocess.Popen([sys.executable, "-m", "activitysmith_jupyter", "run", "-k", "nightly", "-t",
                                 "Nightly backup", "--", sys.executable, "-c", child],
                                env=child_env(srv), stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "UP"
            wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
            wait_for(lambda: requests_for(sim, "nightly", "PUT"), what="the start")
            os.killpg(proc.pid, signal.SIGKILL)  # `run` and its child: the group this test started
            proc.wait(10)
            wait_for(lambda: requests_for(sim, "nightly", "DELETE") and sim.notifications, timeout=10,
                     what="the watchdog's end and push")
        finally:
            _kill_group(proc.pid)
        time.sleep(0.5)
        [end] = requests_for(sim, "nightly", "DELETE")
        assert end.json["content_state"]["color"] == "red"
        [title] = _push_titles(sim)
        assert title.startswith("💀 Nightly backup died after ")


def test_activitysmith_run_sends_one_closing_push_and_its_watchdog_does_not_repeat_it(tmp_path) -> None:
    child = "import sys; print('boom: something broke', file=sys.stderr); sys.exit(3)"
    with live_server() as (sim, srv):
        done = subprocess.run([sys.executable, "-m", "activitysmith_jupyter", "run", "-k", "etl", "-t", "ETL", "--",
                               sys.executable, "-c", child], env=child_env(srv), capture_output=True, text=True,
                              timeout=60, start_new_session=True)
        assert done.returncode == 3
        time.sleep(1.0)  # the watchdog has seen its parent go: a second end or push would come now
        assert len(requests_for(sim, "etl", "DELETE")) == 1
        [push] = [n["request"] for n in sim.notifications]
        assert push["title"].startswith("❌ ETL failed after ") and push["message"].endswith("boom: something broke")


RANK_FAILS = """
from activitysmith_jupyter.tqdm import tqdm
for i in tqdm(range(40), desc="Train"):
    if i == 7:
        raise RuntimeError("CUDA out of memory")
"""


def test_a_failing_rank_one_with_a_default_bar_pushes_naming_its_rank(tmp_path) -> None:
    with live_server() as (sim, srv):
        env = child_env(srv, RANK="1", WORLD_SIZE="2")
        for name in ("LOCAL_RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "ACTIVITYSMITH_ALL_RANKS"):
            env.pop(name, None)
        done = subprocess.run(script(tmp_path, RANK_FAILS), env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "CUDA out of memory" in done.stderr
        wait_for(lambda: sim.notifications, timeout=10, what="the rank's push")
        [push] = [n["request"] for n in sim.notifications]
        assert push["title"].endswith("(rank 1)") and push["message"].startswith("rank 1 failed: ")
        assert [r for r in sim.requests if r.method in ("PUT", "DELETE")] == []  # rank 0 owns the stream


GIL = """
import ctypes, time
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.hub.outcome import Snapshot
from activitysmith_jupyter.watchdog.parent import current_watchdog
with Activity("Shards", key="shards", stall_after=3) as act:
    act.feed(Snapshot(n=47, total=100))
    assert current_watchdog().drained(10)
    print("STUCK", time.monotonic(), flush=True)
    ctypes.PyDLL(None).sleep(12)  # PyDLL keeps the GIL: no thread of this process runs for 12 s
    print("BACK", flush=True)
"""


def test_a_gil_stall_is_pushed_within_the_stall_bound(tmp_path) -> None:
    """No Python runs, so only the watchdog can tell: within max(1.5 × stall_after, stall_after + 5 s)."""
    with live_server() as (sim, srv):
        proc = subprocess.Popen(script(tmp_path, GIL), env=child_env(srv), stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            word, stuck_at = proc.stdout.readline().split()
            assert word == "STUCK"
            wait_for(lambda: any("no progress" in t for t in _push_titles(sim)), timeout=20, what="the stall push")
            pushed_after = time.monotonic() - float(stuck_at)
            assert proc.stdout.readline().strip() == "BACK"  # the push came while the GIL was held
            assert proc.wait(30) == 0
        finally:
            proc.kill()
        stall = [t for t in _push_titles(sim) if "no progress" in t]
        assert len(stall) == 1 and "stuck at 47 %" in stall[0]
        print(f"GIL stall pushed {pushed_after:.1f}s after the C call began (stall_after=3)")
        assert pushed_after <= max(1.5 * 3, 3 + 5), pushed_after


def _kill_group(pgid: int) -> None:
    """Kill what is left of the process group this test started (its leader is waited for by Popen)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.mark.parametrize("stall_after", [1, 3, 5, 8, 12, 20, 600])
def test_the_watchdogs_silence_limit_keeps_the_stall_bound_and_clears_the_heartbeat(stall_after) -> None:
    from activitysmith_jupyter.watchdog import protocol
    from activitysmith_jupyter.watchdog.main import _quiet_limit

    limit = _quiet_limit(stall_after)
    assert limit <= max(1.5 * stall_after, stall_after + 5)
    # the parent beats at least every `beat_interval` while such an activity is open: no false stall
    assert limit >= 2 * protocol.beat_interval(stall_after) + 1.0

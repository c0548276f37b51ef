"""A real stalled bar (issue 17, item 2): the stall reads the bar's live count, not what tqdm last drew, and
comes within max(1.5 × stall_after, stall_after + 5 s) of the last progress. Real processes against a
loopback simulator on real time (the ticker and the watchdog run on the system clock)."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from watchdog_helpers import child_env, live_server, requests_for, script, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

STUCK = """
import time
from activitysmith_jupyter.tqdm import tqdm
bar = tqdm(total=20, desc="Stuck job", stall_after={stall_after}, notify="failure")
for _ in range(6):
    bar.update(1)  # within tqdm's mininterval: nothing is drawn after the first
print("AT6", time.monotonic(), flush=True)
time.sleep(60)
"""


def _stall_subtitles(sim) -> list[str]:
    subtitles = [r.json["content_state"].get("subtitle", "") for r in requests_for(sim, "Stuck-job", "PUT")]
    return [s for s in subtitles if s.startswith("⚠️ No progress for")]


def bound(stall_after: float) -> float:
    return max(1.5 * stall_after, stall_after + 5.0)


@pytest.mark.parametrize("stall_after", [3, 6])
def test_a_stalled_bar_is_pushed_in_time_with_its_live_count(tmp_path, stall_after) -> None:
    with live_server() as (sim, srv):
        proc = script(tmp_path, STUCK.format(stall_after=stall_after))
        child = subprocess.Popen(proc, env=child_env(srv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
        try:
            assert child.stdout is not None
            word, at = child.stdout.readline().split()
            assert word == "AT6"
            wait_for(lambda: sim.notifications, timeout=bound(stall_after) + 15, what="the stall push")
            pushed_after = time.monotonic() - float(at)
            wait_for(lambda: _stall_subtitles(sim), timeout=30, what="the stall subtitle (paced: 3rd update)")
            pushed = [n["request"]["title"] for n in sim.notifications]  # before the kill: it pushes a death
        finally:
            child.kill()
            child.wait(10)
        [title] = pushed
        assert title.startswith("⚠️ Stuck job has made no progress for ") and title.endswith("stuck at 30 %"), title
        assert _stall_subtitles(sim)[0].endswith("stuck at 30 %")
        print(f"stall_after={stall_after}: pushed {pushed_after:.1f}s after the last update "
              f"(bound {bound(stall_after):.1f}s)")
        assert pushed_after <= bound(stall_after), pushed_after


@pytest.mark.parametrize("stall_after", [1, 3, 5, 10, 12.5, 20, 60, 100, 600, 3600])
def test_the_tick_interval_keeps_the_stall_within_its_bound(stall_after) -> None:
    """A stall is seen at most two ticks after `stall_after` (the tick that sees the last move, then the one
    that finds it stale), with a margin for a busy machine."""
    from activitysmith_jupyter.hub.stall import tick_interval

    assert 2 * tick_interval(stall_after) + stall_after <= bound(stall_after) - min(1.0, stall_after / 10)


TERMINATED = """
import time
from activitysmith_jupyter.tqdm import tqdm
bar = tqdm(total=20, desc="Sharded job")
for _ in range(6):
    bar.update(1)  # within tqdm's mininterval: nothing is drawn after the first
print("AT6", flush=True)
time.sleep(60)
"""


def test_sigterm_ends_a_bar_at_its_live_count(tmp_path) -> None:
    import signal

    with live_server() as (sim, srv):
        child = subprocess.Popen(script(tmp_path, TERMINATED), env=child_env(srv), stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "AT6"
            wait_for(lambda: requests_for(sim, "Sharded-job", "PUT"), what="the start")
            child.send_signal(signal.SIGTERM)
            assert child.wait(15) == -signal.SIGTERM
        finally:
            child.kill()
        wait_for(lambda: requests_for(sim, "Sharded-job", "DELETE"), timeout=10, what="the end")
        [end] = requests_for(sim, "Sharded-job", "DELETE")
        state = end.json["content_state"]
        assert state["percentage"] == 30 and "6/20" in state["subtitle"], state
        [push] = [n["request"] for n in sim.notifications]  # SIGTERM is trouble: the default bar pushes
        assert push["title"].startswith("🛑 Sharded job terminated after "), push

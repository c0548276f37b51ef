"""A dead network never holds the user's exit (issue 17, item 5): with the API unreachable (a closed port on
loopback), a script with one bar and ``activitysmith run -- …`` exit within EXIT_SECONDS (5 s) of their last
line, in all; what is undelivered goes to the watchdog, which keeps trying in the background (up to
DEATH_FLUSH_SECONDS) and delivers once the API is back. Real processes, timed with time.monotonic (the
same system-wide clock in the child and here)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import psutil
import pytest

from activitysmith_jupyter.watchdog.main import DEATH_FLUSH_SECONDS
from watchdog_helpers import child_env, requests_for, script, wait_for, watchdogs_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

EXIT_SECONDS = 5.0  # the promise (docs/trouble.md): a process waits at most this long at exit for its sends


class _Dead:
    """A base URL nothing listens on: every connection is refused at once."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop(pid: int | None) -> None:
    """End a watchdog these tests caused (by its id) once it has shown what it does."""
    if pid is None:
        return
    try:
        psutil.Process(pid).kill()
    except psutil.NoSuchProcess:
        pass


ONE_BAR = """
import time
from activitysmith_jupyter.tqdm import tqdm
from activitysmith_jupyter.watchdog.parent import current_watchdog
for i in tqdm(range(5), desc="Offline job", notify="always"):
    time.sleep(0.01)
dog = current_watchdog()
assert dog is not None and dog.wait_started()
print(dog.process.pid, time.monotonic(), flush=True)
"""


def test_a_script_with_one_bar_exits_within_the_bound_when_the_api_is_unreachable(tmp_path) -> None:
    dog = None
    try:
        proc = subprocess.Popen(script(tmp_path, ONE_BAR), env=child_env(_Dead()), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=60)  # EOF on both pipes: the watchdog holds neither
        exited = time.monotonic()
        assert proc.returncode == 0, err
        pid, last_line = out.split()
        dog = int(pid)
        took = exited - float(last_line)
        print(f"exit took {took:.2f}s after the last line (bound {EXIT_SECONDS}s)")
        assert took <= EXIT_SECONDS, took
        assert _alive(dog)  # it keeps trying in the background
    finally:
        _stop(dog)


HANDOVER = """
import sys, time
from activitysmith_jupyter.tqdm import tqdm
from activitysmith_jupyter.watchdog.parent import current_watchdog
bar = tqdm(total=4, desc="Handover", notify="always", mininterval=0)
bar.update(1)
dog = current_watchdog()
assert dog is not None and dog.wait_started()
print("UP", dog.process.pid, flush=True)
sys.stdin.readline()  # the test has taken the API away
bar.update(3)
bar.close()
print("LAST", time.monotonic(), flush=True)
"""


def test_what_the_exit_could_not_send_the_watchdog_delivers_when_the_api_is_back(tmp_path) -> None:
    from activitysmith_jupyter.simulator import Simulator

    sim, dog = Simulator(), None
    with sim.serve() as srv:
        try:
            proc = subprocess.Popen(script(tmp_path, HANDOVER), env=child_env(srv), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert proc.stdin is not None and proc.stdout is not None
            word, pid = proc.stdout.readline().split()
            assert word == "UP"
            dog = int(pid)
            wait_for(lambda: requests_for(sim, "Handover", "PUT"), what="the start")
            sim.inject(refuse=True, times=None)  # the API is gone: every connection is hung up on
            proc.stdin.write("go\n")
            proc.stdin.flush()
            word, last_line = proc.stdout.readline().split()
            assert word == "LAST"
            proc.wait(30)
            took = time.monotonic() - float(last_line)
            assert requests_for(sim, "Handover", "DELETE") == []
            assert took <= EXIT_SECONDS, took
            assert _alive(dog)  # the parent is gone; its watchdog holds the end and the push
            sim.clear_faults()  # the API is back: the watchdog's next attempt lands
            wait_for(lambda: requests_for(sim, "Handover", "DELETE") and sim.notifications, timeout=40,
                     what="the watchdog delivering the end and the push")
            wait_for(lambda: not _alive(dog), timeout=10, what="the watchdog to exit once everything landed")
        finally:
            _stop(dog)
    [end] = requests_for(sim, "Handover", "DELETE")
    assert end.json["content_state"]["subtitle"].startswith("Done · 4/4")  # the parent's own end
    assert [n["request"]["title"][:1] for n in sim.notifications] == ["✅"]


def test_activitysmith_run_exits_within_the_bound_when_the_api_is_unreachable() -> None:
    child = "import sys, time; sys.stdin.readline(); print(time.monotonic(), flush=True)"
    dog = None
    proc = subprocess.Popen([sys.executable, "-m", "activitysmith_jupyter", "run", "-t", "Offline run", "--",
                             sys.executable, "-c", child], env=child_env(_Dead()), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        [watchdog] = wait_for(lambda: watchdogs_of(proc.pid), what="the watchdog")
        dog = watchdog.pid
        out, err = proc.communicate("go\n", timeout=60)
        exited = time.monotonic()
        assert proc.returncode == 0, err
        took = exited - float(out.split()[-1])
        print(f"`activitysmith run` exit took {took:.2f}s after the child's last line (bound {EXIT_SECONDS}s)")
        assert took <= EXIT_SECONDS, took
        assert _alive(dog)
    finally:
        proc.kill()
        _stop(dog)


def test_the_bounds_are_the_documented_ones() -> None:
    from pathlib import Path

    from activitysmith_jupyter.delivery import exit_budget

    assert exit_budget.EXIT_SECONDS == EXIT_SECONDS and DEATH_FLUSH_SECONDS == 120

    page = (Path(__file__).resolve().parents[2] / "docs" / "trouble.md").read_text(encoding="utf-8")
    assert f"{DEATH_FLUSH_SECONDS:g} s" in page and f"{EXIT_SECONDS:g} s" in page

"""The watchdog in a real Jupyter kernel (jupyter_client): a kernel killed mid-cell, and a kernel
restarted while a cell runs, leave their activity to the watchdog: "Kernel died after …", one end,
one push. Real time: the kernel is another process."""
from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from watchdog_helpers import child_env, live_server, requests_for, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
jupyter_client = pytest.importorskip("jupyter_client")

CELL = """%%activitysmith_progress --title Training --key training
import time
from activitysmith_jupyter.watchdog.parent import current_watchdog
assert current_watchdog().drained(10)  # the watchdog knows the cell's activity
print("WATCHED", flush=True)
from tqdm.auto import tqdm
for i in tqdm(range(100)):
    if i == 47:
        time.sleep(600)
    time.sleep(0.01)
"""


def _kernel(env: dict[str, str]) -> Iterator[tuple[Any, Any]]:
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.shutdown_wait_time = 10.0  # a graceful restart waits out the kernel's exit (bounded at 5 s) even on a busy machine
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def _run_cell_until_the_activity_shows(kc: Any, sim: Any) -> None:
    reply = kc.execute_interactive("%load_ext activitysmith_jupyter", timeout=60)
    assert reply["content"]["status"] == "ok"
    kc.execute(CELL)
    deadline = time.monotonic() + 30
    while "WATCHED" not in (msg := kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic())))[
            "content"].get("text", ""):
        assert msg["msg_type"] != "error", msg["content"]
    wait_for(lambda: requests_for(sim, "training", "PUT"), timeout=30, what="the cell's activity")


@pytest.mark.parametrize(("how", "ended_by"), [("sigkill", "watchdog"), ("restart-now", "watchdog"),
                                               ("restart", "kernel")],
                         ids=["sigkill-mid-cell", "hard-restart-mid-cell", "restart-mid-cell"])
def test_a_kernel_that_goes_mid_cell_leaves_one_end_and_one_push(how: str, ended_by: str) -> None:
    """SIGKILL and a hard restart give the kernel no chance: its watchdog ends the cell. A graceful
    restart lets the kernel end the cell itself; its watchdog then sends nothing more."""
    with live_server() as (sim, srv):
        for km, kc in _kernel(child_env(srv)):
            _run_cell_until_the_activity_shows(kc, sim)
            pid = km.provisioner.pid
            gone_at = time.monotonic()
            if how == "sigkill":
                km.signal_kernel(signal.SIGKILL)
            else:
                km.restart_kernel(now=how == "restart-now")
                assert km.provisioner.pid != pid
            wait_for(lambda: requests_for(sim, "training", "DELETE") and sim.notifications, timeout=15,
                     what="the end of the cell")
            detected = time.monotonic() - gone_at
            time.sleep(1.5)  # a second end or push would arrive now
            [end] = requests_for(sim, "training", "DELETE")
            final = end.json["content_state"]
            [push] = [n["request"] for n in sim.notifications]
            if ended_by == "watchdog":
                assert final["subtitle"].startswith("Kernel died after ") and final["color"] == "red"
                assert push["title"].startswith("💀 Training died after ")
                assert detected < 10
            else:
                assert not final["subtitle"].startswith(("Kernel died", "Running")) and final["color"] != "blue"
            print(f"{how}: one end ({final['subtitle']!r}) {detected:.2f}s after the kernel went")


def test_the_monitor_is_sampled_by_the_watchdog_while_the_kernel_holds_the_gil() -> None:
    """``%activitysmith monitor on``: CPU and memory as a metrics Live Activity, updated even while the
    kernel is stuck in C code (no kernel thread runs); ``monitor off`` ends it."""
    with live_server() as (sim, srv):
        for _km, kc in _kernel(child_env(srv)):
            for code in ("%load_ext activitysmith_jupyter", "%activitysmith monitor on",
                         "from activitysmith_jupyter.watchdog.parent import current_watchdog\n"
                         "assert current_watchdog().drained(10)"):
                assert kc.execute_interactive(code, timeout=60)["content"]["status"] == "ok"
            wait_for(lambda: requests_for(sim, "kernel-resources", "PUT"), timeout=15, what="the monitor's start")
            held_from = time.time()
            reply = kc.execute_interactive("import ctypes; ctypes.PyDLL(None).sleep(8)", timeout=60)
            held_to = time.time()
            assert reply["content"]["status"] == "ok"
            puts = requests_for(sim, "kernel-resources", "PUT")
            during = [r for r in puts if held_from + 1 < r.time < held_to - 0.5]
            assert during, [r.time - held_from for r in puts]  # the early update (5 s) came while the GIL was held
            state = during[0].json["content_state"]
            assert state["type"] == "metrics" and [m["label"] for m in state["metrics"]] == ["CPU", "Memory"]
            assert kc.execute_interactive("%activitysmith monitor off", timeout=60)["content"]["status"] == "ok"
            wait_for(lambda: requests_for(sim, "kernel-resources", "DELETE"), timeout=15, what="the monitor's end")

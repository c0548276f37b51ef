"""SIGTERM (issue 8): open activities end as "terminated" within the 5 s flush, then the process dies
as SIGTERM would have; a handler the user installed is kept and called. Real signals, real processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from process_helpers import ROOT, child_env, ended, pushes, script

MID_BAR = """
    import os, time
    from activitysmith_jupyter.tqdm import tqdm
    for i in tqdm(range(10_000), desc="mid bar", file=open(os.devnull, "w"), mininterval=0):
        if i == 20:
            print("ready", flush=True)
        time.sleep(0.01)
"""
MID_BLOCK = """
    import time
    from activitysmith_jupyter import activity
    with activity("Nightly ETL"):
        print("ready", flush=True)
        time.sleep(60)
"""
USER_HANDLER = """
    import signal, sys, time
    def mine(signum, frame):
        print("user handler ran", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, mine)
    from activitysmith_jupyter import activity
    with activity("Nightly ETL"):
        print("ready", flush=True)
        time.sleep(60)
"""


def start_and_terminate(tmp_path, env, code: str) -> tuple[subprocess.Popen[str], str, float]:
    path = script(tmp_path, code)
    proc = subprocess.Popen([sys.executable, str(path)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return proc, out, time.monotonic() - sent


def test_script_mid_bar_ends_terminated_and_dies_of_sigterm(server, sim, tmp_path) -> None:
    proc, _, took = start_and_terminate(tmp_path, child_env(server), MID_BAR)
    assert proc.returncode == -signal.SIGTERM
    assert took < 5.5
    cs = ended(sim, "mid-bar")["content_state"]
    assert cs["color"] == "red" and cs["subtitle"].startswith("Terminated at ") and "SIGTERM" in cs["subtitle"]


def test_script_mid_activity_block_sends_the_terminated_push(server, sim, tmp_path) -> None:
    proc, _, took = start_and_terminate(tmp_path, child_env(server), MID_BLOCK)
    assert proc.returncode == -signal.SIGTERM and took < 5.5
    assert ended(sim, "Nightly-ETL")["content_state"]["subtitle"].startswith("Terminated after")
    [push] = pushes(sim)
    assert push["title"].startswith("🛑 Nightly ETL terminated after")


def test_closing_sends_are_retried_within_the_flush_bound(server, sim, tmp_path) -> None:
    sim.inject(503, times=2, method="DELETE")
    proc, _, took = start_and_terminate(tmp_path, child_env(server), MID_BLOCK)
    assert proc.returncode == -signal.SIGTERM and took < 5.5
    assert ended(sim, "Nightly-ETL")["content_state"]["subtitle"].startswith("Terminated")


def test_a_handler_the_user_installed_is_kept_and_called(server, sim, tmp_path) -> None:
    proc, out, _ = start_and_terminate(tmp_path, child_env(server), USER_HANDLER)
    assert "user handler ran" in out and proc.returncode == 3  # the user's handler decided how to exit
    assert ended(sim, "Nightly-ETL")["content_state"]["subtitle"].startswith("Terminated")


def test_an_ignored_sigterm_stays_ignored(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        from activitysmith_jupyter import activity
        with activity("Nightly ETL"):
            print("ready", flush=True)
            time.sleep(1.5)
    """)
    proc = subprocess.Popen([sys.executable, str(path)], env=child_env(server), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert ended(sim, "Nightly-ETL")["content_state"]["subtitle"].startswith("Done")


def test_the_handler_is_installed_lazily_and_only_on_the_main_thread(tmp_path) -> None:
    path = script(tmp_path, """
        import signal, threading
        from activitysmith_jupyter.hub import shutdown as lifecycle
        from activitysmith_jupyter.hub.activity import Activity
        from activitysmith_jupyter.simulator import Simulator
        from activitysmith_jupyter.api.client import ActivitySmith
        client = ActivitySmith(transport=Simulator().transport())
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # importing installs nothing
        t = threading.Thread(target=lambda: Activity("in a thread", client=client).start())
        t.start(); t.join()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # a worker thread cannot install it
        a = Activity("on main", client=client).start()
        assert lifecycle.sigterm_handler_installed() and a in lifecycle.open_activities()
        a.end("completed")
        assert a not in lifecycle.open_activities()
        print("ok")
    """)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == "ok", run.stderr


def test_a_kernel_mid_cell_ends_the_cells_activity_as_terminated(server, sim) -> None:
    """ipykernel installs no SIGTERM handler of its own (only SIGINT's): the lazy one is ours."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=child_env(server))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        kc.execute_interactive("%load_ext activitysmith_jupyter", timeout=60)
        kc.execute('%%activitysmith_progress --key kernel-cell --title "Long cell"\n'
                   'import time\nprint("ready", flush=True)\ntime.sleep(60)\n')
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["msg_type"] == "stream" and "ready" in msg["content"]["text"]:
                break
        time.sleep(0.3)
        sent = time.monotonic()
        km.signal_kernel(signal.SIGTERM)
        while km.is_alive():
            assert time.monotonic() - sent < 10
            time.sleep(0.05)
        assert time.monotonic() - sent < 5.5
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    cs = ended(sim, "kernel-cell")["content_state"]
    assert cs["subtitle"].startswith("Terminated after") and cs["color"] == "red"
    assert pushes(sim)[0]["title"].startswith("🛑 Long cell terminated after")


def test_terminating_forked_pool_workers_leaves_the_parents_activity_running(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        import multiprocessing as mp, time
        from activitysmith_jupyter import activity

        def work(x):
            time.sleep(30)

        if __name__ == "__main__":
            with activity("Batch"):
                pool = mp.get_context("fork").Pool(2)  # the workers inherit our SIGTERM handler
                pool.map_async(work, range(2))
                time.sleep(0.5)
                started = time.monotonic()
                pool.terminate()  # SIGTERM to each worker
                pool.join()
                print(f"terminated in {time.monotonic() - started:.1f}s", flush=True)
    """)
    run = subprocess.run([sys.executable, str(path)], env=child_env(server), capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout.split()[-1].rstrip("s")) < 2  # no worker waited out a 5 s flush
    assert ended(sim, "Batch")["content_state"]["subtitle"].startswith("Done in")
    assert [r.method for r in sim.requests if r.key == "Batch"] == ["PUT", "DELETE"]


def test_a_front_ends_newer_count_is_the_terminated_state(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        import time
        from activitysmith_jupyter.hub import shutdown as lifecycle
        from activitysmith_jupyter.hub.activity import Activity
        from activitysmith_jupyter.hub.outcome import Snapshot

        done = [0]
        act = Activity("Copy", key="copy").start(Snapshot(n=0, total=100))
        lifecycle.final_snapshot(act, lambda: Snapshot(n=done[0], total=100))
        for i in range(100):
            done[0] = i  # counted, not fed: as a paced front end
            if i == 40:
                print("ready", flush=True)
                time.sleep(60)
    """)
    proc, _, _ = start_and_terminate(tmp_path, child_env(server), path.read_text())
    assert proc.returncode == -signal.SIGTERM
    assert ended(sim, "copy")["content_state"]["subtitle"].startswith("Terminated at 40/100: SIGTERM")

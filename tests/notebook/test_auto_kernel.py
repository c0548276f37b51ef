"""Auto mode as users meet it: a python3 kernel run by nbclient and by ``jupyter nbconvert --execute``
(cells sent one at a time), a kernel fed several execute_requests at once through jupyter_client (as
JupyterLab's Run All does), and terminal IPython under pexpect. The extension and auto mode come from
an IPython profile and ``ACTIVITYSMITH_AUTO_AFTER``, with no code in the notebook; the kernel talks to
the loopback simulator server. Real processes: real time (short thresholds, bounded waits)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
PROFILE = 'c.InteractiveShellApp.extensions = ["activitysmith_jupyter"]\n'


def _env(server: Any, tmp_path: Path, after: str = "1", gap: float = 3.0) -> dict[str, str]:
    """Threshold 1 s; a 3 s gap so a loaded machine's slow turn between cells does not split a run."""
    ipython_dir = tmp_path / "ipython"
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    for name in ("ipython_config.py", "ipython_kernel_config.py"):
        (profile / name).write_text(PROFILE + f"c.ActivitySmithMagics.auto_gap = {gap}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_") and k != "JPY_SESSION_NAME"}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        IPYTHONDIR=str(ipython_dir),
        ACTIVITYSMITH_API_KEY="ask_kernel_test_key_123456",
        ACTIVITYSMITH_BASE_URL=server.url,
        ACTIVITYSMITH_AUTO_AFTER=after,
    )
    return env


def _wait_for(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def _notebook(*sources: str) -> Any:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(s).strip("\n")) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def sent(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.status == 200]


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sent(sim) if r.path == "/push-notification"]


def ends(sim: Any) -> list[Any]:
    return [r for r in sent(sim) if r.method == "DELETE"]


def _execute(nb: Any, env: dict[str, str], monkeypatch: Any, tmp_path: Path) -> Any:
    nbclient = pytest.importorskip("nbclient")
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the kernel inherits this process's environment
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=60, resources={"metadata": {"path": str(tmp_path)}})
    return client, nbclient


# ------------------------------------------------------------------------------ nbclient / nbconvert


def test_nbclient_run_is_one_activity_and_one_push_naming_the_failing_cell(monkeypatch, server, sim, tmp_path) -> None:
    nb = _notebook("import time", "time.sleep(0.6)", "time.sleep(1.5)", "x = 1",
                   "def train():\n    raise RuntimeError('diverged')\ntrain()", "print('never')")
    client, nbclient = _execute(nb, _env(server, tmp_path), monkeypatch, tmp_path)
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    assert _wait_for(lambda: pushes(sim)), sim.timeline()
    (push,) = pushes(sim)
    assert re.fullmatch(r"❌ Notebook cell \[3\] failed after \d\.\ds", push["title"])  # the cell that crossed 1 s
    assert push["message"].startswith("RuntimeError: diverged\nCell In[5], line 2, in train")
    assert len(ends(sim)) == 1 and ends(sim)[0].json["content_state"]["color"] == "red"
    assert len({r.key for r in sent(sim) if r.key}) == 1  # one activity for the whole run


def test_nbclient_short_cells_send_nothing(monkeypatch, server, sim, tmp_path) -> None:
    nb = _notebook("x = 1", "y = x + 1", "1 / 0")  # a failing short cell too: no push for a typo
    client, nbclient = _execute(nb, _env(server, tmp_path, after="5"), monkeypatch, tmp_path)
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    time.sleep(0.5)  # a kernel that is gone could still have a send in flight: give it a moment
    assert sim.requests == [], sim.timeline()


def test_kernel_interrupt_ends_the_run_interrupted(monkeypatch, server, sim, tmp_path) -> None:
    import asyncio
    import threading

    marker = tmp_path / "started"
    nb = _notebook(f"""
        import pathlib, time
        from activitysmith_jupyter import current_activity
        end = time.monotonic() + 20
        while current_activity() is None and time.monotonic() < end:
            time.sleep(0.05)  # past the 1 s threshold the timer thread shows the activity
        pathlib.Path({str(marker)!r}).touch()
        time.sleep(50)
        """)
    client, nbclient = _execute(nb, _env(server, tmp_path), monkeypatch, tmp_path)
    interrupted: list[BaseException | bool] = []

    def interrupt_when_started() -> None:  # the cell touches the marker within 20 s of its start
        try:
            if _wait_for(marker.exists, 55):
                asyncio.run(client.km.interrupt_kernel())  # SIGINT, as Jupyter's stop button
                interrupted.append(True)
        except BaseException as exc:  # noqa: BLE001 - told by the assertion below
            interrupted.append(exc)

    with client.setup_kernel():
        watcher = threading.Thread(target=interrupt_when_started, daemon=True)
        watcher.start()
        try:
            client.execute_cell(nb.cells[0], 0)
        except nbclient.exceptions.CellExecutionError as exc:
            assert "KeyboardInterrupt" in str(exc)
        except nbclient.exceptions.CellTimeoutError:
            pytest.fail(f"the cell was not interrupted: marker {marker.exists()}, interrupt {interrupted}")
        else:
            pytest.fail("the cell ended by itself")
        watcher.join(5)
        assert _wait_for(lambda: pushes(sim)), sim.timeline()
    (push,) = pushes(sim)
    assert push["title"].startswith("⏹️ Notebook cell [1] interrupted after ")
    assert ends(sim)[0].json["content_state"]["subtitle"].startswith("Interrupted after ")


def test_sigterm_to_the_kernel_ends_the_run_terminated(server, sim, tmp_path) -> None:
    import signal

    from jupyter_client.manager import start_new_kernel

    marker = tmp_path / "shown"
    km, kc = start_new_kernel(kernel_name="python3", env=_env(server, tmp_path))
    try:
        kc.execute(textwrap.dedent(f"""
            import pathlib, time
            from activitysmith_jupyter import current_activity
            end = time.monotonic() + 20
            while current_activity() is None and time.monotonic() < end:
                time.sleep(0.05)
            pathlib.Path({str(marker)!r}).touch()
            time.sleep(60)
            """))
        assert _wait_for(marker.exists, 30)
        km.signal_kernel(signal.SIGTERM)  # SLURM, Kubernetes, kill
        assert _wait_for(lambda: ends(sim)), sim.timeline()
        assert ends(sim)[0].json["content_state"]["subtitle"].startswith("Terminated after ")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_nbconvert_execute_success_ends_the_run_at_kernel_exit(server, sim, tmp_path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = _notebook("# Feature build\nimport time", "time.sleep(2.5)", "print('done')")
    path = tmp_path / "features.ipynb"
    nbformat.write(nb, str(path))
    env = _env(server, tmp_path)
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--output", "out.ipynb", str(path)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _wait_for(lambda: pushes(sim)), sim.timeline()
    (push,) = pushes(sim)
    # a headless run is titled with the notebook's name (issue 8), over the first cell's comment
    assert re.fullmatch(r"✅ features finished in \d\.\ds", push["title"]), push["title"]
    assert ends(sim)[0].json["content_state"]["percentage"] == 100


def test_dask_imported_inside_a_magic_cell_of_a_fresh_kernel_drives_it(monkeypatch, server, sim, tmp_path) -> None:
    from activitysmith_jupyter.integrations import INTEGRATIONS

    if "dask" not in INTEGRATIONS:
        pytest.skip("no dask integration on this branch yet")
    pytest.importorskip("dask")
    nb = _notebook("""
        %%activitysmith_progress -k kdask -t Squares
        import dask  # the kernel's first import of dask: followed all the same
        total = sum(dask.compute(*[dask.delayed(lambda i: i * i)(i) for i in range(8)], scheduler="threads"))
        from activitysmith_jupyter import current_activity
        seen = current_activity().last_snapshot
        print(total, seen.n, seen.total, seen.unit)
        """)
    env = _env(server, tmp_path)
    env.pop("ACTIVITYSMITH_AUTO_AFTER")  # auto mode off: the magic alone installs the Dask hook
    client, _ = _execute(nb, env, monkeypatch, tmp_path)
    monkeypatch.delenv("ACTIVITYSMITH_AUTO_AFTER", raising=False)
    client.execute()
    assert [o["text"] for o in nb.cells[0].outputs if o.get("name") == "stdout"] == ["140 8.0 8.0 tasks\n"]
    assert _wait_for(lambda: ends(sim)) and ends(sim)[0].key == "kdask"


# ------------------------------------------------------------------------------ jupyter_client: Run All


@pytest.mark.parametrize("fail", [False, True], ids=["all-succeed", "one-fails"])
def test_execute_requests_queued_at_once_are_one_run(server, sim, tmp_path, fail) -> None:
    from jupyter_client.manager import start_new_kernel

    env = _env(server, tmp_path)
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        cells = ["import time", "time.sleep(0.6)", "time.sleep(1.5)",
                 "raise ValueError('bad row')" if fail else "x = 1", "y = 2"]
        ids = [kc.execute(code) for code in cells]  # all queued before the kernel is idle, like Run All
        replies = {}
        while len(replies) < len(ids):
            reply = kc.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") in ids:  # not start_new_kernel's kernel_info reply
                replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
        statuses = [replies[i] for i in ids]
        if fail:
            assert statuses == ["ok", "ok", "ok", "error", "aborted"]
            assert _wait_for(lambda: pushes(sim)), sim.timeline()
        else:
            assert statuses == ["ok"] * 5
            assert _wait_for(lambda: pushes(sim), timeout=15), sim.timeline()  # after the 3 s gap
        (push,) = pushes(sim)
        if fail:
            assert re.fullmatch(r"❌ Notebook cell \[3\] failed after \d\.\ds", push["title"])
            assert push["message"].startswith("ValueError: bad row\nCell In[4], line 1")
        else:
            assert re.fullmatch(r"✅ Notebook cell \[3\] finished in \d\.\ds", push["title"])  # not the gap
        assert len(ends(sim)) == 1
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# ------------------------------------------------------------------------------ terminal IPython


def test_terminal_ipython_long_cell_pushes_and_short_cell_does_not(server, sim, tmp_path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = _env(server, tmp_path, gap=1.0)
    child = pexpect.spawn(sys.executable, ["-m", "IPython", "--no-banner", "--colors=NoColor", "--simple-prompt"],
                          env=env, encoding="utf-8", timeout=30, cwd=str(tmp_path))
    try:
        child.expect(r"In \[1\]: ")
        child.sendline("x = 1")
        child.expect(r"In \[2\]: ")
        time.sleep(1.5)  # more than the gap: the next cell is a run of its own
        assert sim.requests == [], sim.timeline()
        sent = time.monotonic()
        child.sendline("import time; time.sleep(1.5)")
        child.expect(r"In \[3\]: ")
        took = time.monotonic() - sent  # the cell as seen from outside: no shorter than what the push says
        assert _wait_for(lambda: pushes(sim), timeout=10), sim.timeline()
        (push,) = pushes(sim)
        said = re.fullmatch(r"✅ Notebook cell \[2\] finished in (\d+\.\d)s", push["title"])
        # the cell's own time: not the idle 1.5 s before it (the gap's wait ends the run of cell 1 only)
        assert said and 1.5 <= float(said[1]) <= took + 0.1, (push["title"], took)  # (+ rounding)
        child.sendline("%activitysmith auto")
        child.expect("auto mode: on, after 1.0s")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert len(ends(sim)) == 1

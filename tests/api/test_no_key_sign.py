"""No key, no silence: the first send to the embedded simulator says, once per process, where it went,
how to watch it and which variable to set; never when a key (or a base URL) is set. Real processes:
a script, the `activitysmith` console script, papermill, an IPython shell and a Jupyter kernel."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import ROOT, SECRET, script

from activitysmith_jupyter.api.simulator_notice import NOTEBOOK_NOTICE, SCRIPT_NOTICE

SIGN = "so this goes to the embedded simulator"  # in both texts


def keyless_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ACTIVITYSMITH_API_KEY", "ACTIVITYSMITH_BASE_URL")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


SCRIPT = """
    import sys
    from activitysmith_jupyter import ActivitySmith, activity
    from activitysmith_jupyter.tqdm import tqdm
    print("before anything is sent", file=sys.stderr, flush=True)
    with activity("Nightly ETL") as a:
        a.step("extract")
    print("after the first activity", file=sys.stderr, flush=True)
    for i in tqdm(range(3), desc="load"):
        pass
    ActivitySmith().notifications.send({"title": "direct"})
    print("done")
"""


def test_a_script_without_a_key_says_it_once_on_stderr_at_the_first_send(tmp_path) -> None:
    run = subprocess.run([sys.executable, str(script(tmp_path, SCRIPT))], env=keyless_env(), capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "done\n"  # stdout stays the program's own
    assert run.stderr.count(SIGN) == 1, run.stderr
    lines = run.stderr.splitlines()
    assert lines.index(SCRIPT_NOTICE) == lines.index("before anything is sent") + 1  # at the first send
    assert "activitysmith simulator" in SCRIPT_NOTICE and "ACTIVITYSMITH_API_KEY" in SCRIPT_NOTICE


@pytest.mark.parametrize("setting", ["key", "base-url"])
def test_never_with_a_key_or_a_base_url(tmp_path, server, setting) -> None:
    env = keyless_env(ACTIVITYSMITH_BASE_URL=server.url)
    if setting == "key":
        env["ACTIVITYSMITH_API_KEY"] = SECRET
    run = subprocess.run([sys.executable, str(script(tmp_path, SCRIPT))], env=env, capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert SIGN not in run.stderr + run.stdout


def test_activitysmith_run_without_a_key_says_it_once(tmp_path) -> None:
    program = Path(sys.executable).with_name("activitysmith")
    if not program.exists():
        pytest.skip("the activitysmith console script is not installed")
    child = script(tmp_path, "import sys\nprint('child ran', file=sys.stderr)\nsys.exit(3)\n")
    run = subprocess.run([str(program), "run", "-t", "Backup", "--", sys.executable, str(child)], env=keyless_env(),
                         capture_output=True, text=True, timeout=60, start_new_session=True)
    assert run.returncode == 3
    assert run.stderr.count(SIGN) == 1 and SCRIPT_NOTICE in run.stderr.splitlines(), run.stderr


def test_papermill_without_a_key_says_it_once(tmp_path) -> None:
    pytest.importorskip("papermill")
    nbformat = pytest.importorskip("nbformat")
    import importlib.metadata

    if not any(ep.name == "activitysmith" for ep in importlib.metadata.entry_points(group="papermill.engine")):
        pytest.skip("papermill engine not registered: run `pip install -e .` again")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = x + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src, out = tmp_path / "report.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    exe = shutil.which("papermill") or str(Path(sys.executable).with_name("papermill"))
    run = subprocess.run([exe, "--engine", "activitysmith", "--no-progress-bar", str(src), str(out)],
                         env=keyless_env(), capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count(SIGN) == 1, run.stderr


SHELL = """
    import json
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "activitysmith_jupyter")
    outputs = []
    for code in ["%%activitysmith_progress -t First\\nx = 1", "%%activitysmith_progress -t Second\\nx = 2",
                 "%activitysmith status"]:
        with capture_output() as cap:
            ip.run_cell(code, store_history=True)
        outputs.append({"out": cap.stdout, "err": cap.stderr})
    print(json.dumps(outputs))
"""


def test_an_ipython_shell_says_it_once_in_the_first_cells_output_and_in_status(tmp_path) -> None:
    pytest.importorskip("IPython")
    run = subprocess.run([sys.executable, str(script(tmp_path, SHELL))], env=keyless_env(), capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    first, second, status = json.loads(run.stdout.splitlines()[-1])
    assert first["out"].count(SIGN) == 1 and NOTEBOOK_NOTICE in first["out"] and SIGN not in first["err"]
    assert SIGN not in second["out"] + second["err"]
    assert "simulator.timeline()" in status["out"] and "ACTIVITYSMITH_API_KEY" in status["out"]
    assert SIGN not in run.stderr


def test_a_jupyter_kernel_says_it_in_the_first_activitys_cell(tmp_path, monkeypatch) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    for name, value in keyless_env().items():
        monkeypatch.setenv(name, value)
    cells = ["%load_ext activitysmith_jupyter", "x = 1",
             "%%activitysmith_progress -t First\nx = 2", "%%activitysmith_progress -t Second\nx = 3"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()

    def text(cell, name: str) -> str:
        return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == name)

    assert [text(c, "stdout").count(SIGN) for c in nb.cells] == [0, 0, 1, 0]
    assert NOTEBOOK_NOTICE in text(nb.cells[2], "stdout")
    assert not any(SIGN in text(c, "stderr") for c in nb.cells)


AUTO = """
    import json
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "activitysmith_jupyter")
    outputs = []
    for code in ["%activitysmith auto on --after 0.2", "import time; time.sleep(1.5)", "time.sleep(0.1)"]:
        with capture_output() as cap:
            ip.run_cell(code, store_history=True)
        outputs.append(cap.stdout + cap.stderr)
    print(json.dumps(outputs))
"""


def test_auto_mode_starts_on_its_timer_thread_and_the_line_comes_at_the_cells_end(tmp_path) -> None:
    pytest.importorskip("IPython")
    run = subprocess.run([sys.executable, str(script(tmp_path, AUTO))], env=keyless_env(), capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    outputs = json.loads(run.stdout.splitlines()[-1])
    assert [o.count(SIGN) for o in outputs] == [0, 1, 0], outputs
    assert SIGN not in run.stderr

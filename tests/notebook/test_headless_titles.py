"""Headless runs (the real papermill CLI, ``jupyter nbconvert --execute``) title the activity with the
notebook's name; the kernel talks to the loopback simulator."""
from __future__ import annotations

import subprocess
import sys
import time

import nbformat
import pytest
from process_helpers import child_env

from activitysmith_jupyter.notebook.cell_text import notebook_name

pytest.importorskip("papermill")


def write_notebook(path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("rows = 10")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_code_cell("%load_ext activitysmith_jupyter"), params,
                nbformat.v4.new_code_cell("%%activitysmith_progress\ntotal = rows * 2")]
    nbformat.write(nb, str(path))


def started_titles(sim, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(r.method == "PUT" for r in sim.requests):
        time.sleep(0.01)
    return [r.json["content_state"]["title"] for r in sim.requests if r.method == "PUT" and r.json]


@pytest.mark.parametrize(
    "command",
    [["-m", "papermill", "nightly-report.ipynb", "out.ipynb", "-p", "rows", "21"],
     ["-m", "nbconvert", "--execute", "--to", "notebook", "--output", "out.ipynb", "nightly-report.ipynb"]],
    ids=["papermill", "nbconvert-execute"],
)
def test_a_headless_run_is_titled_with_the_notebook_s_name(server, sim, tmp_path, command) -> None:
    write_notebook(tmp_path / "nightly-report.ipynb")
    env = child_env(server)
    env.pop("JPY_SESSION_NAME", None)
    done = subprocess.run([sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert started_titles(sim) == ["nightly-report"]


def test_papermill_s_injected_input_path_names_the_notebook() -> None:
    assert notebook_name({"PAPERMILL_INPUT_PATH": "s3://jobs/etl/nightly.ipynb"}, {}) == "nightly"
    assert notebook_name({}, {"JPY_PARENT_PID": "not-a-pid"}) is None

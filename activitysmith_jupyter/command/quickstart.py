"""Run the quick-start notebook headless against the embedded simulator and print its output.

`python -m activitysmith_jupyter quickstart` executes ``notebooks/01-quickstart.ipynb`` in a fresh
kernel with no API key (so every request goes to the embedded simulator, never to the network) and
prints what each cell printed, ending with the timeline of what the phone showed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["find_quickstart", "run_quickstart"]

NOTEBOOK = "01-quickstart.ipynb"
_SETTINGS = ("ACTIVITYSMITH_API_KEY", "ACTIVITYSMITH_BASE_URL")


def find_quickstart() -> Path:
    """The notebook in ./notebooks, beside the package (a source checkout) or inside the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (
        Path.cwd() / "notebooks" / NOTEBOOK,
        package.parent / "notebooks" / NOTEBOOK,
        package / "_data" / NOTEBOOK,
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{NOTEBOOK} not found (looked in ./notebooks and beside the package)")


def run_quickstart(notebook: Path | None = None, *, out: TextIO = sys.stdout, timeout: int = 300) -> int:
    """Execute the notebook and echo its text output; returns a process exit code."""
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        print('The quick start needs the Jupyter extra: pip install "activitysmith-jupyter[jupyter]"', file=sys.stderr)
        return 2

    path = notebook or find_quickstart()
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]  # nbformat has no annotations
    # The kernel inherits this process's environment: drop any real key so only the simulator answers.
    saved = {name: os.environ.pop(name) for name in _SETTINGS if name in os.environ}
    print(f"Running {path.name} against the embedded ActivitySmith simulator (no network)…\n", file=out)
    try:
        NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no loopback-TCP banner on the terminal
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    except CellExecutionError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        os.environ.update(saved)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = _output_text(output)
            if text:
                print(text.rstrip("\n"), file=out)
    return 0


def _output_text(output: dict[str, Any]) -> str:
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        return str(output.get("text", ""))
    if output.get("output_type") in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data:
            return ""
        return str(data.get("text/plain", ""))
    return ""

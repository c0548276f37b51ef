"""What the cell magic reads from a cell and its notebook, as plain functions (tested without a shell):
the transformer of ``%%activitysmith_progress`` lines, the title, the text of ``%activitysmith notify``."""
from __future__ import annotations

import os
import re
import shlex
from typing import Any

from ..hub.links import document_path
from ..hub.wording import MAX_TITLE, truncate

__all__ = ["MAGIC", "derive_title", "first_comment", "launcher_notebook", "notebook_name", "notify_text",
           "transform_progress_cell"]

MAGIC = "activitysmith_progress"
_MAGIC_LINE = re.compile(r"^%%" + MAGIC + r"(?:[ \t]+(?P<args>.*))?$")
_IGNORED_COMMENTS = re.compile(r"^#\s*(NBVAL_\w+|noqa\b|type:|pragma\b|%%|-\*-)|^#!")


def transform_progress_cell(lines: list[str]) -> list[str]:
    """Cleanup input transformer: ``%%activitysmith_progress ARGS`` -> a line-magic call on the SAME
    line, so the body keeps IPython's own handling and its line numbers. Help (``?``) is left alone."""
    if not lines:
        return lines
    match = _MAGIC_LINE.match(lines[0].rstrip("\r\n"))
    if match is None:
        return lines
    args = (match.group("args") or "").strip()
    begin = f"get_ipython().run_line_magic({MAGIC!r}, {args!r})\n"
    rest = lines[1:]
    if rest and rest[0].startswith("%%"):  # a second cell magic: let IPython's own rule wrap it
        from IPython.core import inputtransformer2

        wrap: Any = inputtransformer2.cell_magic  # untyped in IPython
        rest = list(wrap(rest))
    return [begin, *rest]


# IPython's check_complete (terminal Enter, the kernel's is_complete) skips transformers marked so and then
# sees the raw ``%%`` line: the cell continues until a blank line, like every cell magic. Unmarked, the
# rewritten one-line call looked complete and an empty cell ran at once.
setattr(transform_progress_cell, "has_side_effects", True)



def first_comment(raw_cell: str) -> str | None:
    for line in raw_cell.splitlines():
        text = line.strip()
        if not text.startswith("#") or _IGNORED_COMMENTS.match(text):
            continue
        text = text.lstrip("#").strip()
        if text:
            return text
    return None


_RUNNERS = ("papermill", "nbconvert", "nbclient", "jupyter-execute")


def launcher_notebook(env: Any) -> str | None:
    """The notebook a headless runner executes: papermill and ``jupyter nbconvert --execute`` (nbclient)
    tell the kernel nothing of it, but they launch it (jupyter_client puts their pid in
    ``JPY_PARENT_PID``), and their command line names it: the first ``.ipynb`` argument that is not
    an ``--output`` (papermill's input). None for any other launcher (a Jupyter server: ``JPY_SESSION_NAME`` names the notebook)."""
    pid = str(env.get("JPY_PARENT_PID") or "")
    if not pid.isdigit():
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:  # Linux; elsewhere psutil, when installed
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        try:
            import psutil

            argv = list(psutil.Process(int(pid)).cmdline())
        except Exception:  # noqa: BLE001 - not installed, no such process, no permission
            return None
    if not any(runner in os.path.basename(a) or a == runner for a in argv for runner in _RUNNERS):
        return None
    outputs = {"--output", "-o", "--output-dir"}  # nbconvert's output name is not the notebook run
    return next((a for i, a in enumerate(argv) if a.lower().endswith(".ipynb") and not a.startswith("-")
                 and (i == 0 or argv[i - 1] not in outputs)), None)


def notebook_name(user_ns: dict[str, Any], env: Any) -> str | None:
    """The running notebook's name, where the kernel can know it: VS Code's ``__vsc_ipynb_file__``, a
    Jupyter server's ``JPY_SESSION_NAME`` (or ipykernel's ``__session__``; a session named by a UUID
    names nothing), papermill's injected ``PAPERMILL_INPUT_PATH`` parameter, or
    the command line of the headless runner that launched the kernel (papermill, nbconvert)."""
    session = env.get("JPY_SESSION_NAME") or user_ns.get("__session__")  # ipykernel's copy of it
    path = (user_ns.get("__vsc_ipynb_file__") or (session if document_path(session) else None)  # not a UUID
            or user_ns.get("PAPERMILL_INPUT_PATH") or launcher_notebook(env) or "")
    if not isinstance(path, str) or not path.strip():
        return None
    name = os.path.basename(path.strip().rstrip("/\\"))
    stem, ext = os.path.splitext(name)
    return stem if ext.lower() == ".ipynb" and stem else name or None


def derive_title(raw_cell: str, user_ns: dict[str, Any], env: Any, execution_count: int | None) -> str:
    """The notebook's name where the kernel knows it, else the cell's first comment, else generic."""
    name = notebook_name(user_ns, env) or first_comment(raw_cell)
    if name:
        return truncate(name, MAX_TITLE)
    return f"Notebook cell [{execution_count}]" if execution_count else "Notebook cell"


def notify_text(rest: str) -> str:
    """The text of ``%activitysmith notify ...``: one quoted string loses its quotes ("done" -> done);
    anything else is taken as typed, so apostrophes and inner quotes survive (It's done)."""
    if len(rest) >= 2 and rest[0] in "'\"" and rest[-1] == rest[0]:
        try:
            words = shlex.split(rest)
        except ValueError:
            words = []
        if len(words) == 1:
            return str(words[0]).strip()
    return rest

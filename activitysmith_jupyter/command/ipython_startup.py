"""The IPython startup file `activitysmith setup` writes: the extension in every kernel of the user.

Why a startup file (``<IPYTHONDIR>/profile_default/startup/``) and not lines in ``ipython_config.py``:
the file is entirely ours, so ``setup --undo`` removes exactly it and never edits a file the user owns;
IPython runs it in the terminal and in every ipykernel kernel of the default profile; and, unlike
``c.InteractiveShellApp.extensions``, it can first check that the package is importable, so a kernel
of another Python environment without activitysmith-jupyter starts without a traceback.

The threshold is set as ``%config`` (``ActivitySmithMagics.auto_after``) before the extension loads,
unless ``ipython_config.py`` or ``ACTIVITYSMITH_AUTO_AFTER`` already say something: those win.
No IPython import here: the file is plain text, and the folder is found the way IPython finds it.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FILE_NAME", "MARKER", "ipython_dir", "is_ours", "remove_startup_file", "startup_file",
           "startup_text"]

FILE_NAME = "50-activitysmith.py"
MARKER = "# Written by `activitysmith setup` (activitysmith-jupyter)."

_TEMPLATE = '''{marker}
# `activitysmith setup --undo` removes this file. It loads the ActivitySmith extension in every IPython
# session and Jupyter kernel of this profile{auto_words}.


def _activitysmith_setup() -> None:
    import importlib.util
    import os

    if importlib.util.find_spec("activitysmith_jupyter") is None:
        return  # a Python environment without activitysmith-jupyter: nothing to load
    shell = get_ipython()  # noqa: F821 - IPython runs startup files with it defined
    after = {after!r}
    if after is not None and "auto_after" not in shell.config.ActivitySmithMagics \\
            and not os.environ.get("ACTIVITYSMITH_AUTO_AFTER", "").strip():
        shell.config.ActivitySmithMagics.auto_after = after
    shell.extension_manager.load_extension("activitysmith_jupyter")


_activitysmith_setup()
del _activitysmith_setup
'''


def ipython_dir() -> Path:
    """IPython's folder: ``IPYTHONDIR``, else ``~/.ipython`` (IPython's own rule, without creating it)."""
    return Path(os.environ.get("IPYTHONDIR") or "~/.ipython").expanduser()


def startup_file() -> Path:
    return ipython_dir() / "profile_default" / "startup" / FILE_NAME


def startup_text(after: float | None) -> str:
    """The file's text: load the extension; auto mode on after `after` seconds (None: auto mode untouched)."""
    words = "" if after is None else f", with auto mode on: runs of cells longer than {after:g} s become Live Activities"
    return _TEMPLATE.format(marker=MARKER, after=after, auto_words=words)


def is_ours(path: Path) -> bool:
    try:
        return path.read_text(encoding="utf-8").startswith(MARKER)
    except (FileNotFoundError, UnicodeDecodeError):
        return False


def remove_startup_file(path: Path | None = None) -> bool:
    """Remove our startup file (only when it is ours); whether one was removed."""
    path = path or startup_file()
    if not is_ours(path):
        return False
    path.unlink()
    return True

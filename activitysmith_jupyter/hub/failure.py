"""Where a failure happened, in plain text for a push: the exception and the last frame of the user's
own code (not the stdlib's, a library's or this package's). Pure apart from reading source lines."""
from __future__ import annotations

import os
import sys
import site
import sysconfig
import traceback
from collections.abc import Callable
from typing import Any

from .wording import MAX_CODE_LINE, MAX_EXC_MESSAGE, MAX_PUSH_MESSAGE, truncate as _truncate

__all__ = ["add_describer", "format_failure", "last_user_frame"]


# an integration's words for its library's exceptions (a Spark error's first line, not a JVM stack)
_DESCRIBERS: list[Callable[[BaseException], str | None]] = []


def add_describer(describe: Callable[[BaseException], str | None]) -> None:
    """Let `describe(exc)` word the message of the exceptions it knows (None: not one of its); the first
    describer with an answer wins, else ``str(exc)``."""
    if describe not in _DESCRIBERS:
        _DESCRIBERS.append(describe)


def _exception_text(exc: BaseException) -> str:
    for describe in list(_DESCRIBERS):
        try:
            text = describe(exc)
        except Exception:  # noqa: BLE001 - a describer's bug: the plain message instead
            text = None
        if text:
            return text
    return str(exc)


def _library_prefixes() -> tuple[str, ...]:
    paths: set[str] = set()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(name)
        if p:
            paths.add(os.path.realpath(p))
    try:
        paths.update(os.path.realpath(p) for p in site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenv's old site.py
        pass
    if site.ENABLE_USER_SITE and site.USER_SITE:
        paths.add(os.path.realpath(site.USER_SITE))
    package = sys.modules[__name__.partition(".")[0]]  # the root package: always loaded before this module
    paths.add(os.path.dirname(os.path.realpath(package.__file__ or "")))  # this package, even when installed -e
    return tuple(sorted(p + os.sep for p in paths))


_LIBRARY_PREFIXES: tuple[str, ...] | None = None


def _is_library(filename: str) -> bool:
    global _LIBRARY_PREFIXES
    if filename.startswith("<frozen") or filename.startswith("<string"):
        return True
    if filename.startswith("<"):  # <ipython-input-...>, <stdin>: the user's own code
        return False
    if _LIBRARY_PREFIXES is None:
        _LIBRARY_PREFIXES = _library_prefixes()
    real = os.path.realpath(filename)
    return any(real.startswith(p) for p in _LIBRARY_PREFIXES)


def last_user_frame(tb: Any) -> traceback.FrameSummary | None:
    """The innermost traceback frame outside the stdlib, site-packages and this package."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    for frame in reversed(frames):
        if not _is_library(frame.filename):
            return frame
    return frames[-1] if frames else None


def format_failure(
    exc: BaseException,
    *,
    describe_file: Callable[[str], str | None] | None = None,
    limit: int = MAX_PUSH_MESSAGE,
) -> str:
    """Plain text for a push: ``Type: message`` then ``where: code`` of the last user frame."""
    name = type(exc).__qualname__
    text = _exception_text(exc)
    head = f"{name}: {_truncate(text, MAX_EXC_MESSAGE)}" if text else name
    frame = last_user_frame(exc.__traceback__)
    if frame is not None:
        where = (describe_file(frame.filename) if describe_file else None) or os.path.basename(frame.filename)
        loc = f"{where}, line {frame.lineno}"
        if frame.name and frame.name != "<module>":
            loc += f", in {frame.name}"
        code = (frame.line or "").strip()
        if code:
            loc += f": {_truncate(code, MAX_CODE_LINE)}"
        head = f"{head}\n{loc}"
    return _truncate(head, limit)

"""Loaded at start-up by Python children of ``activitysmith run`` (this directory is put first on their
PYTHONPATH). It reports the child's outermost tqdm bar to the parent over an inherited pipe, with no
change to the child's code, then hands over to any other ``sitecustomize`` on the path.

Standard library only, and Python 3.8 syntax: the child may be any interpreter. Nothing happens unless
``ACTIVITYSMITH_RUN_REPORT`` names a pipe this process really inherited (``fd:inode``); no API key is
involved. One daemon thread looks every half second whether tqdm is loaded and what its bars show.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # no `typing` import at every child's start-up
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional


def _pipe_from_env() -> Optional[int]:
    spec = os.environ.get("ACTIVITYSMITH_RUN_REPORT", "")
    try:
        fd_text, ino_text = spec.split(":", 1)
        fd = int(fd_text)
        if _is_our_pipe(fd, int(ino_text)):
            return fd
    except ValueError:
        pass
    return None  # not under `activitysmith run`, or a grandchild that did not inherit the pipe


def _is_our_pipe(fd: int, ino: int) -> bool:
    import stat

    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return stat.S_ISFIFO(st.st_mode) and st.st_ino == ino


def _outermost(bars: Iterable[Any]) -> Any:
    live = [b for b in bars if not getattr(b, "disable", False) and getattr(b, "start_t", None) is not None]
    if not live:
        return None
    return min(live, key=lambda b: (abs(getattr(b, "pos", 0) or 0), b.start_t))


def _state(bar: Any) -> dict:  # type: ignore[type-arg]
    n = getattr(bar, "n", 0) or 0
    elapsed = max(0.0, bar._time() - bar.start_t) if hasattr(bar, "_time") else None
    rate = None
    try:
        dt = bar._ema_dt()
        rate = bar._ema_dn() / dt if dt else None
    except Exception:  # a foreign tqdm class
        rate = None
    if not rate and elapsed and n:
        rate = n / elapsed
    total = getattr(bar, "total", None)
    return {
        "bar": id(bar), "n": n, "total": total if total else None,
        "desc": str(getattr(bar, "desc", "") or "")[:120], "unit": str(getattr(bar, "unit", "it"))[:20],
        "rate": rate, "elapsed": elapsed,
    }


class _Reporter:
    """Looks at tqdm's live bars; writes the outermost one's state when it changed, and its final
    state once it closed (the bar is held until then, so its last count is readable)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.ino = os.fstat(fd).st_ino
        self.pid = os.getpid()
        self.tracked: Any = None
        self.last: Any = None
        self.broken = False

    def look(self) -> None:
        import sys

        std = sys.modules.get("tqdm.std")
        if std is None or self.broken:
            return
        try:
            bars = list(getattr(std.tqdm, "_instances", ()))
        except RuntimeError:  # the set changed while copying: look again next time
            return
        tracked = self.tracked
        if tracked is not None and all(b is not tracked for b in bars):
            self.tracked = None
            self.send(_state(tracked))  # its final count
        bar = _outermost(bars)
        if bar is not None:
            self.tracked = bar
            self.send(_state(bar))
        elif tracked is None and self.last is not None:
            self.send(None)

    def send(self, state: Optional[dict]) -> None:  # type: ignore[type-arg]
        import json

        key = None if state is None else (state["bar"], state["n"], state["total"], state["desc"])
        if key == self.last:
            return
        self.last = key
        line = json.dumps({"pid": self.pid, "state": state}, separators=(",", ":")) + "\n"
        if not _is_our_pipe(self.fd, self.ino):  # the program closed it (a daemon closing every fd):
            self.broken = True  # the number may belong to one of its own files now; never write there
            return
        try:
            os.write(self.fd, line.encode("utf-8", "replace")[:4000])  # one write < PIPE_BUF: never interleaved
        except OSError:
            self.broken = True  # the parent is gone


def _watch(reporter: _Reporter, interval: float = 0.5) -> None:
    import time

    while not reporter.broken:
        time.sleep(interval)
        try:
            reporter.look()
        except Exception:  # a bar changing under us: look again next time
            pass


def _start() -> None:
    fd = _pipe_from_env()
    if fd is None:
        return
    import atexit
    import threading

    reporter = _Reporter(fd)
    atexit.register(reporter.look)  # a bar that closed just before the exit still reports its end
    threading.Thread(target=_watch, args=(reporter,), name="activitysmith-run-report", daemon=True).start()


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path, which this module shadows (no ``importlib.util``:
    its imports would cost every child's start-up a few milliseconds)."""
    import sys
    from importlib.machinery import PathFinder

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    module = type(sys)("sitecustomize")
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:
    _start()
except Exception:  # never break the child's start-up
    pass
_chain()

"""Test helpers shared by several files: a fresh IPython shell, and the worst time spent in our code."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any


@contextlib.contextmanager
def fresh_shell(*, extension: bool) -> Iterator[Any]:
    """A new InteractiveShell (the singleton cleared around it, history in memory), the extension loaded
    and unloaded when asked."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    InteractiveShell.clear_instance()
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=cfg)
    if extension:
        ip.run_line_magic("load_ext", "activitysmith_jupyter")
    try:
        yield ip
    finally:
        if extension:
            ip.run_line_magic("unload_ext", "activitysmith_jupyter")
        InteractiveShell.clear_instance()


def time_worst_call(monkeypatch: Any, methods: Iterable[tuple[Any, str]]) -> list[float]:
    """Wrap each (owner, name) method; the returned list's one item is the longest single call so far."""
    worst = [0.0]

    def timed(real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                worst[0] = max(worst[0], time.perf_counter() - t0)
        return wrapper

    for owner, name in methods:
        monkeypatch.setattr(owner, name, timed(getattr(owner, name)))
    return worst

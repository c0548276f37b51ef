"""``activity()``: a block or a function of a script as one Live Activity, like a magic cell.

>>> from activitysmith_jupyter import activity
>>> with activity("Nightly ETL", steps=3) as a:
...     a.step("extract"); ...
>>> @activity("Nightly ETL")
... def main(): ...

Both forms are one `contextlib.ContextDecorator`. Each entry (each call of a decorated function)
starts a fresh `Activity` with the same options, makes it ``current_activity()``, lets the sources of
progress that are loaded feed it (tqdm bars; rich.progress, Dask, PySpark and Ray's tqdm_ray bars when
imported before the block),
and ends it with the block's outcome: completed, failed (an exception, ``sys.exit(1)``), interrupted
(Ctrl-C) or terminated (SIGTERM, through the lifecycle handler); Dask futures the block leaves running
keep it open until they finish, and their outcome is its. Nothing is swallowed. The options are
checked when ``activity(...)`` is called, before anything is sent.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from .activity import Activity, ProgressSource
    from .options import ActivityType, NotifyPolicy

__all__ = ["activity", "default_sources"]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("activitysmith_jupyter")

# (module that must already be loaded, our module, factory name): rich and Dask are followed only when
# the script imported them (importing them here would cost every script their import time)
_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("tqdm", "activitysmith_jupyter.integrations.tqdm", "BarSource"),
    ("rich.progress", "activitysmith_jupyter.integrations.rich", "RichProgressSource"),
    ("dask", "activitysmith_jupyter.integrations.dask", "DaskSource"),
    ("distributed", "activitysmith_jupyter.integrations.distributed", "CreatedFutures"),  # futures left running
    ("pyspark", "activitysmith_jupyter.integrations.spark", "SparkSource"),
    ("ray", "activitysmith_jupyter.integrations.ray", "RayBarSource"),
)


def default_sources() -> list[ProgressSource]:
    """A fresh source for each library of progress the process has loaded."""
    sources: list[Any] = []
    for library, module, factory in _SOURCES:
        if library not in sys.modules:
            continue
        try:
            sources.append(getattr(importlib.import_module(module), factory)())
        except Exception as exc:  # noqa: BLE001 - a missing source never stops the block
            log.debug("no %s source: %s", library, exc)
    return sources


class activity(contextlib.ContextDecorator):  # noqa: N801 - the name issue 12 fixed
    """A Live Activity for a ``with`` block or a decorated function (see the module docstring).

    Options are the cell magic's: `key` (stream key; default from the title), `type` (``progress``,
    ``segmented_progress``, ``stats``; default ``segmented_progress`` with `steps`, else ``progress``), `steps`, `subtitle`, `notify` (``always``, ``failure``,
    ``never``), `channels`, `color`; `client` (default: ``default_client()``); `sources` (None: the
    loaded libraries' sources, ``()``: none). ``as a`` gives the `Activity`: ``a.step()``,
    ``a.update()``, ``a.metrics()``.
    """

    def __init__(self, title: str, *, key: str | None = None,
                 type: ActivityType | None = None,  # noqa: A002
                 steps: int | None = None, subtitle: str | None = None, notify: NotifyPolicy = "always",
                 channels: Sequence[str] | str = (), color: str | None = "blue", client: Any = None,
                 sources: Sequence[ProgressSource] | None = None, **options: Any) -> None:
        from .options import RunOptions

        self.options = RunOptions(title=title, key=key, type=type, steps=steps, subtitle=subtitle, notify=notify,
                                  channels=channels,  # type: ignore[arg-type]  # RunOptions splits "a,b"
                                  color=color, client=client, **options)
        self.title = title
        self._sources = None if sources is None else tuple(sources)
        self._local = threading.local()

    def _stack(self) -> list[Activity]:
        stack: list[Activity] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _open(self) -> Activity:
        from .activity import Activity

        act = Activity(self.options)
        act.__enter__()  # start, current_activity()
        for source in (default_sources() if self._sources is None else self._sources):
            try:
                act.attach(source)
            except Exception as exc:  # noqa: BLE001 - the block runs without that source
                log.warning("could not follow %s: %s", type(source).__name__, exc)
        return act

    def __enter__(self) -> Activity:
        act = self._open()
        self._stack().append(act)
        return act

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        act = self._stack().pop()
        act.__exit__(exc_type, exc, tb)
        return False

    def __call__(self, func: F) -> F:
        """Decorate `func`; an ``async def`` is awaited inside its activity (not just created)."""
        if not inspect.iscoroutinefunction(func):
            return super().__call__(func)

        @functools.wraps(func)
        async def run(*args: Any, **kwargs: Any) -> Any:
            act = self._open()  # its own: concurrent tasks of one thread must not share a stack
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                act.__exit__(type(exc), exc, exc.__traceback__)
                raise
            act.__exit__(None, None, None)
            return result

        return run  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"activity({self.title!r})"

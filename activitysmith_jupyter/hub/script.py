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
(Ctrl-C) or terminated (SIGTERM, through the lifecycle handler). Nothing is swallowed. The options are
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

__all__ = ["activity", "default_sources"]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("activitysmith_jupyter")

# (module that must already be loaded, our module, factory name): rich and Dask are followed only when
# the script imported them (importing them here would cost every script their import time)
_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("tqdm", "activitysmith_jupyter.integrations.tqdm", "BarSource"),
    ("rich.progress", "activitysmith_jupyter.integrations.rich", "RichProgressSource"),
    ("dask", "activitysmith_jupyter.integrations.dask", "DaskSource"),
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
    ``segmented_progress``, ``stats``), `steps`, `subtitle`, `notify` (``always``, ``failure``,
    ``never``), `channels`, `color`; `client` (default: ``default_client()``); `sources` (None: the
    loaded libraries' sources, ``()``: none). ``as a`` gives the `Activity`: ``a.step()``,
    ``a.update()``, ``a.metrics()``.
    """

    def __init__(self, title: str, *, key: str | None = None,
                 type: Literal["progress", "segmented_progress", "stats"] = "progress",  # noqa: A002
                 steps: int | None = None, subtitle: str | None = None,
                 notify: Literal["always", "failure", "never"] = "always",
                 channels: Sequence[str] | str = (), color: str | None = "blue", client: Any = None,
                 sources: Sequence[ProgressSource] | None = None, **options: Any) -> None:
        from .activity import Activity

        self._options: dict[str, Any] = dict(key=key, type=type, steps=steps, subtitle=subtitle, notify=notify,
                                             channels=channels, color=color, client=client, **options)
        self.title = title
        self._sources = None if sources is None else tuple(sources)
        if not isinstance(channels, (str, list, tuple)):  # 123, {...}: the payload rules word the problem
            from .. import payloads

            payloads.prepare("stream", {"content_state": {"title": "t", "type": "progress", "percentage": 0},
                                        "channels": channels}, key="check")
        _check(Activity(title, **{**self._options, "client": None}, dispatcher=_NOT_SENDING))  # type: ignore[arg-type]
        self._local = threading.local()

    def _stack(self) -> list[Activity]:
        stack: list[Activity] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _open(self) -> Activity:
        from .activity import Activity

        act = Activity(self.title, **self._options)
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


class _NotSending:
    """Stands in for a dispatcher while the options are checked (nothing is queued)."""


_NOT_SENDING = _NotSending()


def _check(probe: Activity) -> None:
    """A bad option raises at ``activity(...)``, before anything is sent: the hub's own checks (title,
    type, notify, steps, key) ran in `probe`'s constructor; the first state it would send (color,
    channels) is checked here as the dispatcher would check it."""
    from . import content
    from .. import payloads

    state = content.first_state(probe.title, activity_type=probe.type, steps=probe.steps, subtitle=probe.subtitle,
                                color=probe.color, metrics={})
    request: dict[str, Any] = {"content_state": state}
    if probe.channels:
        request["channels"] = list(probe.channels)
    payloads.prepare("stream", request, key=probe.key)

"""The scheduler side of following Dask futures: a ``SchedulerPlugin`` that counts one computation's tasks.

It runs inside the scheduler (of a ``LocalCluster``, the client's own process; of a remote cluster, the
scheduler's, which then needs this package importable). Registered by
:func:`activitysmith_jupyter.integrations.distributed.follow` for the keys of some futures, it tracks
those keys and every task they depend on, counts each transition to ``memory`` in O(1), and publishes
``{"done", "total", "state", ...}`` on its own event topic (the scheduler's pub-sub, which streams to
the subscribed client): at most once per `interval` seconds while running, and at once when the roots
are all in memory ("completed"), a tracked task errs ("failed", naming the task that raised) or a root
is forgotten, i.e. cancelled ("stopped"). Then it removes itself. Imports only ``distributed`` and the
standard library (nothing of this package), so unpickling it on a scheduler stays cheap.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import SchedulerPlugin

if TYPE_CHECKING:
    from dask.typing import Key
    from distributed.scheduler import Scheduler, TaskState

__all__ = ["TaskCounter"]

log = logging.getLogger("activitysmith_jupyter")

SETUP_TIMEOUT = 30.0  # seconds to wait for the graph (sent on another comm) and the client's subscription
_RUNNING_AGAIN = frozenset(("waiting", "queued", "processing", "no-worker"))


def _key_text(key: Key) -> str:
    return key if isinstance(key, str) else str(key)


class TaskCounter(SchedulerPlugin):
    """Counts the tasks behind `keys` (roots) and publishes the tally on `topic` for `client_id`."""

    idempotent = True  # registering the same watch twice keeps the first

    def __init__(self, name: str, keys: Collection[Key], topic: str, client_id: str,
                 *, interval: float = 0.5) -> None:
        self.name = name
        self.roots = list(keys)
        self.topic = topic
        self.client_id = client_id
        self.interval = interval
        self._scheduler: Scheduler | None = None
        self._ready = False  # setup has counted the graph: transitions are tallied from here on
        self._finished = False
        self._tracked: set[Key] = set()
        self._remaining: set[Key] = set()
        self._roots_left: set[Key] = set()
        self._last_sent = float("-inf")
        self._flush: asyncio.TimerHandle | None = None
        self._setup_task: asyncio.Future[None] | None = None

    # -- SchedulerPlugin hooks ----------------------------------------------------------------------
    async def start(self, scheduler: Scheduler) -> None:
        # register_plugin awaits this: return at once (follow() must not wait for the graph) and set up
        # in the background, on the scheduler's event loop like every transition (no locks needed)
        self._scheduler = scheduler
        self._setup_task = asyncio.ensure_future(self._setup())

    async def _setup(self) -> None:
        scheduler = self._scheduler
        assert scheduler is not None
        deadline = time.monotonic() + SETUP_TIMEOUT
        # the graph arrives on the client's batched stream, this watch over an rpc: wait for both the
        # roots and the client's subscription to the topic (else the first events would be lost)
        while time.monotonic() < deadline and not (self._roots_known(scheduler) and self._subscribed(scheduler)):
            await asyncio.sleep(0.01)
        tasks = scheduler.tasks
        stack: list[TaskState] = [tasks[k] for k in self.roots if k in tasks]
        self._roots_left = {k for k in self.roots if k in tasks and tasks[k].state != "memory"}
        tracked = self._tracked
        while stack:
            ts = stack.pop()
            if ts.key in tracked:
                continue
            tracked.add(ts.key)
            if ts.state == "memory":  # computed already: what it came from does not matter any more
                continue
            self._remaining.add(ts.key)
            stack.extend(ts.dependencies)
        self._ready = True
        erred = next((tasks[k] for k in self.roots if k in tasks and tasks[k].state == "erred"), None)
        missing = [k for k in self.roots if k not in tasks]
        if erred is not None:
            self._fail(erred)
        elif missing:
            self._finish("stopped", error=f"task {_key_text(missing[0])!r} is not on the scheduler")
        elif not self._roots_left:
            self._finish("completed")
        else:
            self._publish(force=True)

    def _roots_known(self, scheduler: Scheduler) -> bool:
        return all(k in scheduler.tasks for k in self.roots)

    def _subscribed(self, scheduler: Scheduler) -> bool:
        topics: Any = getattr(getattr(scheduler, "_broker", None), "_topics", None)
        if topics is None:  # another distributed: no way to look, rely on the wait for the graph
            return True
        topic = topics.get(self.topic) if self.topic in topics else None
        return topic is not None and self.client_id in topic.subscribers

    def transition(self, key: Key, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if not self._ready or self._finished or key not in self._tracked:
            return
        if finish == "memory":
            self._remaining.discard(key)
            self._roots_left.discard(key)
            if not self._roots_left:
                self._finish("completed")
                return
        elif finish in _RUNNING_AGAIN:  # a lost result is computed again
            self._remaining.add(key)
        elif finish == "erred":
            assert self._scheduler is not None
            ts = self._scheduler.tasks.get(key)
            if ts is not None:
                self._fail(ts)
                return
        elif finish == "forgotten" and key in self._roots_left:
            self._finish("stopped", error=f"task {_key_text(key)!r} was cancelled")
            return
        self._publish()

    # -- publishing ---------------------------------------------------------------------------------
    def _tally(self, state: str, **extra: Any) -> dict[str, Any]:
        total = len(self._tracked)
        return {"state": state, "done": total - len(self._remaining), "total": total, **extra}

    def _publish(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_sent < self.interval:
            if self._flush is None:  # show the newest count once the interval is over
                self._flush = asyncio.get_running_loop().call_later(
                    self._last_sent + self.interval - now, self._flush_now)
            return
        self._last_sent = now
        self._send(self._tally("running"))

    def _flush_now(self) -> None:
        self._flush = None
        if not self._finished:
            self._publish(force=True)

    def _fail(self, ts: TaskState) -> None:
        blame = ts.exception_blame or ts
        self._finish("failed", key=_key_text(blame.key), exception=blame.exception_text or "")

    def _finish(self, state: str, **extra: Any) -> None:
        self._finished = True
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._send(self._tally(state, **extra))
        scheduler = self._scheduler
        if scheduler is not None and self.name in scheduler.plugins:
            del scheduler.plugins[self.name]  # the transition loop iterates over a copy

    def _send(self, message: dict[str, Any]) -> None:
        assert self._scheduler is not None
        try:
            self._scheduler.log_event(self.topic, message)
        except Exception:  # never disturb the scheduler's transitions
            log.debug("publishing Dask progress failed", exc_info=True)

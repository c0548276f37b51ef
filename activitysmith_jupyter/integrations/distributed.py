"""Dask clusters (``distributed.Client``): the work behind some futures as one Live Activity.

Called like ``distributed.progress``, and like it returns at once, so the activity follows the work
after the cell returns::

    from activitysmith_jupyter.integrations.distributed import follow
    x = client.persist(df)              # or client.compute(...), client.map(...), client.submit(...)
    follow(x, title="Features")         # tasks done / total across the cluster, then ✅ or ❌

With ``via="scheduler"`` (the default) a small ``SchedulerPlugin`` (``_distributed_plugin.TaskCounter``)
counts the tasks behind the futures, their dependencies included, on the scheduler and publishes the
tally on an event topic the client subscribes to: a few small messages a second, none per task. The
activity ends "completed" when every future's result is in memory, "failed" when a task errs (the push
names it: ``task 'inc-…' raised ZeroDivisionError: division by zero``), "stopped" when a future is
cancelled. ``via="futures"`` counts the futures themselves (``Future.add_done_callback``), for a
scheduler that cannot load the plugin (a remote one without this package installed).

Inside a ``%%activitysmith_progress`` cell or an ``activity()`` block, ``follow(x)`` (no title, no options)
feeds that activity instead of starting a second one, and the cell's end waits for the work: the
activity stays open until the futures finish and ends with their outcome (``hub/held.py``). Futures
the cell or block creates and leaves running are followed the same way with no ``follow()`` at all
(`CreatedFutures`, attached by the cell and the block; ``install()`` for a cell that imports
``distributed`` itself).
"""
from __future__ import annotations

import ast
import logging
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import distributed

from ..hub import held
from ..hub.outcome import Outcome, Snapshot

if TYPE_CHECKING:
    from ..hub.activity import Activity

__all__ = ["CreatedFutures", "Following", "describe_exception", "follow", "install", "watch_created"]

log = logging.getLogger("activitysmith_jupyter")

Via = Literal["scheduler", "futures"]
_OUTCOMES: dict[str, Outcome] = {"completed": "completed", "failed": "failed", "stopped": "stopped"}
_futures_of: Callable[[Any], list[Any]] = distributed.futures_of  # untyped in distributed
_REPR = re.compile(r"^([A-Za-z_][\w.]*)\((.*)\)$", re.DOTALL)


def describe_exception(text: str) -> str:
    """``ZeroDivisionError: division by zero`` from the scheduler's ``repr`` of a task's exception
    (``ZeroDivisionError('division by zero')``); any other text is kept as it is."""
    match = _REPR.match(text.strip())
    if match is None:
        return text.strip()
    name, args = match.groups()
    if not args:
        return name
    try:
        message = ast.literal_eval(args)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text.strip()
    return f"{name}: {message}" if isinstance(message, str) else text.strip()


def _task_text(key: Hashable) -> str:
    return repr(key if isinstance(key, str) else str(key))


class Following:
    """The handle :func:`follow` returns: the `activity`, and once the work is over its `outcome` and
    `error` (the push's text). ``wait()`` blocks until then; ``stop()`` stops following early."""

    def __init__(self, futures: list[Any], activity: Activity, *, owns: bool, via: Via,
                 interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.futures = futures
        self.activity = activity
        self.via = via
        self.outcome: Outcome | None = None
        self.error: str | None = None
        self.last: Snapshot | None = None
        self._owns = owns  # we created the activity: we end it
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._done_event = threading.Event()
        self._lock = threading.Lock()
        self._client: Any = futures[0].client
        self._name = f"activitysmith-{uuid.uuid4().hex}"
        self._futures_done = 0
        self._last_fed = float("-inf")

    def __repr__(self) -> str:
        state = self.outcome or "running"
        count = self.last.count() if self.last is not None else None
        return f"<Following {self.activity.title!r} {state}{f' {count}' if count else ''}>"

    @property
    def done(self) -> bool:
        return self._done_event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work ended and the activity got its end (True), or `timeout` passed (False)."""
        return self._done_event.wait(timeout)

    def stop(self) -> None:
        """Stop following (the work goes on); an activity that :func:`follow` started ends "stopped"."""
        self._close("stopped", None, self.last)

    # -- the two ways of counting ------------------------------------------------------------------
    def _begin(self) -> None:
        if self.via == "scheduler":
            from ._distributed_plugin import TaskCounter

            self._client.subscribe_topic(self._name, self._on_event)
            keys = [f.key for f in self.futures]
            self._client.register_plugin(TaskCounter(self._name, keys, self._name, self._client.id,
                                                     interval=self._interval), name=self._name)
        else:
            self.futures = [f if isinstance(f, distributed.Future) else distributed.Future(f.key, f.client)
                            for f in self.futures]  # done callbacks need real futures
            self._feed(0, len(self.futures), force=True)
            for future in self.futures:
                future.add_done_callback(self._on_future_done)

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        # on the client's event loop: only hand states to the activity (no blocking calls)
        _, message = event
        try:
            snap = self._feed(int(message["done"]), int(message["total"]), force=message["state"] != "running")
            state = message["state"]
            if state == "running":
                return
            error = None
            if state == "failed":
                error = f"task {_task_text(message['key'])} raised {describe_exception(message['exception'])}"
            elif state == "stopped":
                error = message.get("error")
            self._close(_OUTCOMES.get(state, "failed"), error, snap)
        except Exception as exc:  # a malformed message must not break the client's event handling
            self.activity._remember(exc, "following Dask progress failed")

    def _on_future_done(self, future: Any) -> None:
        # in distributed's callback thread
        with self._lock:
            self._futures_done += 1
            done = self._futures_done
        total = len(self.futures)
        snap = self._feed(done, total, force=done == total)
        if future.status == "error":
            exc = future.exception()
            self._close("failed", f"task {_task_text(future.key)} raised {type(exc).__name__}: {exc}", snap)
        elif future.status == "cancelled":
            self._close("stopped", f"task {_task_text(future.key)} was cancelled", snap)
        elif done == total:
            self._close("completed", None, snap)

    def _feed(self, done: int, total: int, *, force: bool) -> Snapshot:
        now = self._clock()
        elapsed = now - self._started
        snap = Snapshot(n=float(done), total=float(total) if total else None, unit="tasks", description="dask",
                        elapsed=elapsed, rate=done / elapsed if done and elapsed > 0 else None)
        self.last = snap
        if force or now - self._last_fed >= self._interval:
            self._last_fed = now
            self.activity.feed(snap)
        return snap

    def _close(self, outcome: Outcome, error: str | None, last: Snapshot | None) -> None:
        with self._lock:
            if self.outcome is not None:
                return
            self.outcome, self.error = outcome, error
        try:
            if self.via == "scheduler":
                self._client.unsubscribe_topic(self._name)
        except Exception as exc:  # a closed client: nothing left to unsubscribe from
            log.debug("unsubscribing from %s failed: %s", self._name, exc)
        if outcome == "stopped" and error is None and self.via == "scheduler":
            self._unregister()
        if self._owns:
            self.activity.end(outcome, error=error, last=last)
        else:  # the owner's end waited for this work (hub/held.py): it may end now, with this outcome
            held.release(self.activity, self, outcome, error=error, last=last)
        self._done_event.set()

    def _unregister(self) -> None:
        def remove(dask_scheduler: Any, name: str = self._name) -> None:
            dask_scheduler.plugins.pop(name, None)

        try:
            self._client.run_on_scheduler(remove)
        except Exception as exc:
            log.debug("removing the scheduler plugin %s failed: %s", self._name, exc)


def follow(*futures: Any, title: str | None = None, activity: Activity | None = None, via: Via = "scheduler",
           interval: float = 0.5, **options: Any) -> Following:
    """Show the work behind `futures` (futures, lists of them, or persisted Dask collections, as
    ``distributed.progress`` takes them) as one Live Activity: tasks done / total across the cluster,
    ended with the work's outcome. Returns at once.

    `title`: the activity's title (default ``"Dask: <the first task's name>"``); `activity`: feed this
    open activity instead, whose end then waits for the work and takes its outcome (default, with no
    title and no options: ``current_activity()``, the running cell's or block's); `via`: ``"scheduler"`` (a scheduler
    plugin counts every task) or ``"futures"`` (counts the futures); `interval`: seconds between
    updates at most; other keyword arguments go to ``Activity`` (``notify=``, ``channels=``, ``key=``,
    ``client=`` the ActivitySmith client ...).
    """
    found: list[Any] = list(_futures_of(list(futures)))
    if not found:
        raise ValueError("follow(*futures): no Dask futures found in the arguments (pass what "
                         "client.compute / persist / map / submit returned)")
    if via not in ("scheduler", "futures"):
        raise ValueError(f"via={via!r} is not one of: scheduler, futures")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval >= 0:
        raise ValueError(f"interval={interval!r}: a number of seconds >= 0")
    if len({id(f.client) for f in found}) > 1:
        raise ValueError("follow(*futures): the futures belong to different distributed clients")
    if activity is not None and (options or title is not None):
        raise ValueError("follow(activity=...): title and Activity options belong to that activity")
    if activity is None and title is None and not options:
        from ..hub.activity import current_activity

        activity = current_activity()  # in a cell or block: its activity, not a second one
    if activity is not None:
        _by_hand.add(activity)
    return _follow(found, activity, title=title, via=via, interval=float(interval), options=options)


def _follow(found: list[Any], activity: Activity | None, *, title: str | None, via: Via, interval: float,
            options: dict[str, Any], background: bool = False) -> Following:
    """Follow `found` (futures, or `_KeyRef` s) into `activity`, else into an activity of our own.
    `background`: talk to the scheduler from a thread of its own (a cell's end never waits for a cluster)."""
    owns = activity is None
    if activity is None:
        from dask.utils import key_split

        from ..hub.activity import Activity

        activity = Activity(title or f"Dask: {key_split(found[0].key)}", **options).start()
    following = Following(found, activity, owns=owns, via=via, interval=interval)
    if not owns:
        held.hold(activity, following)  # before the first event: its end may come from the cluster at once
    if background:
        threading.Thread(target=_begin_or_let_go, args=(following, len(found)), daemon=True,
                         name="activitysmith-dask-follow").start()
        return following
    try:
        _begin(following, len(found))
    except BaseException:
        if not owns:
            held.release(activity, following, "completed")
        raise
    return following


def _begin_or_let_go(following: Following, count: int) -> None:
    try:
        _begin(following, count)
    except Exception as exc:  # a cluster that went away: the activity ends as its owner did
        log.warning("following the Dask work a cell started failed: %s", exc)
        following.outcome = "completed"
        held.release(following.activity, following, "completed")
        following._done_event.set()


def _begin(following: Following, count: int) -> None:
    try:
        following._begin()
    except Exception as exc:  # the scheduler would not take the plugin: count the futures instead
        if following.via != "scheduler":
            raise
        log.warning("Dask scheduler plugin unavailable (%s); following the %d futures instead", exc, count)
        try:
            following._client.unsubscribe_topic(following._name)
        except Exception as unsubscribing:  # noqa: BLE001 - nothing to undo then
            log.debug("unsubscribing failed: %s", unsubscribing)
        following.via = "futures"
        following._begin()


# ------------------------------------------------------------------------ zero code: a cell's futures

_by_hand: weakref.WeakSet[Any] = weakref.WeakSet()  # activities the user called follow() for
_watched: weakref.WeakSet[Any] = weakref.WeakSet()  # activities a CreatedFutures is attached to
_WAITING = ("pending", "lost", "error")  # still running, or failed before anyone looked


class _KeyRef(NamedTuple):
    """A future's key and client, without a reference that would keep its result alive (a user who
    drops the future still cancels the work)."""

    key: Any
    client: Any


def _clients() -> list[Any]:
    """The process's distributed clients (the ones ``get_client()`` may return), newest last."""
    try:
        from distributed.client import _global_clients  # a WeakValueDictionary, stable for years
    except ImportError:
        return []
    try:
        return [c for _, c in sorted(_global_clients.items()) if getattr(c, "status", "") != "closed"]
    except RuntimeError:  # changed while copying (a client closing on another thread)
        return []


def _futures(client: Any) -> dict[Any, Any]:
    """key -> FutureState of the futures `client` holds now."""
    for _ in range(3):
        try:
            return dict(client.futures)
        except RuntimeError:  # the client's loop changed the dict while copying: look again
            continue
    return {}


class CreatedFutures:
    """A source of progress for a cell's or block's activity: when it ends, the futures its code created
    that still run (or already failed) are followed (`follow`), so the end waits for them and takes their
    outcome. Skipped when the code called ``follow()`` for that activity itself."""

    def __init__(self) -> None:
        self._activity: Any = None
        self._before: dict[int, tuple[Any, set[Any]]] = {}

    def attach(self, activity: Any) -> None:
        self._activity = activity
        self._before = {id(c): (weakref.ref(c), set(_futures(c))) for c in _clients()}
        _watched.add(activity)

    def detach(self) -> None:
        activity, self._activity = self._activity, None
        if activity is None or activity in _by_hand:
            return
        for refs in self._created():
            _follow(refs, activity, title=None, via="scheduler", interval=0.5, options={}, background=True)

    def _created(self) -> list[list[Any]]:
        """Per client, the futures made since `attach` that still run (or failed)."""
        found = []
        for client in _clients():
            ref, before = self._before.get(id(client), (None, set()))
            known = before if ref is not None and ref() is client else set()
            futures = _futures(client)
            new = [k for k, state in futures.items() if k not in known and state.status in _WAITING]
            if new:
                found.append([_KeyRef(k, client) for k in new])
        return found


def watch_created(activity: Any) -> None:
    """Follow the futures `activity`'s code leaves running, once per activity (a cell, a block)."""
    if activity is not None and activity not in _watched:
        activity.attach(CreatedFutures())


def install() -> Callable[[], None]:
    """Zero code (``hooks.SourceInstaller``): a cell that imports ``distributed`` itself gets its created
    futures followed too; cells and blocks that start with it imported attach `CreatedFutures` themselves."""
    from ..hub.activity import current_activity

    watch_created(current_activity())
    return lambda: None

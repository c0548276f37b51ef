"""The hub: one :class:`Activity` owns a Live Activity's lifecycle for every front end.

The tqdm drop-in, the cell magic, ``with Activity(...)`` in a script and the framework callbacks all
create an Activity, feed it :class:`~activitysmith_jupyter.hub.outcome.Snapshot` s (from a
:class:`ProgressSource`, or by hand with ``update``/``step``/``metrics``) and end it with one
:data:`~activitysmith_jupyter.hub.outcome.Outcome`. Nothing here blocks on the network: every state is
handed to the dispatcher, which sends it from its own thread (paced by its ``UpdatePolicy``; a waiting
update is replaced by a newer one). No IPython, no tqdm: the sources that meet a library live in
``activitysmith_jupyter.integrations``.

With no source and no handle calls, one process-wide ticker thread refreshes the subtitle with the
elapsed time ("Running · 6m elapsed"; see ``wording.elapsed_bucket``): a handful of updates per hour.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from . import content as _content, held as _held, shutdown as _shutdown
from ..watchdog import parent as _watchdog
from ..clock import SYSTEM_CLOCK, Clock
from .current import CurrentStack
from .links_here import links_here
from .run_links import RunButtons
from .options import ActivityType, NotifyPolicy, RunOptions, check_choice
from ..payloads import check as check_payload, stream_key_from, stream_key_problem
from .failure import format_failure
from .outcome import OUTCOMES, FinalState, MetricValue, Outcome, Snapshot, final_state, outcome_for
from .ranks import rank_role
from .stall import StallWatch, stall_notice, tick_interval
from .ticker import Ticker
from .trouble import should_push
from .wording import MAX_SUBTITLE, elapsed_bucket, elapsed_text, format_duration, push_request, truncate

if TYPE_CHECKING:  # type-only: the dispatcher and its policy load with the first activity
    from types import TracebackType


__all__ = [
    "Activity", "ActivityType", "NotifyPolicy", "Outcome", "ProgressSource", "RunOptions", "current_activity", "elapsed_bucket",
    "format_duration", "format_failure", "outcome_for", "pop_current", "push_current",
]

log = logging.getLogger("activitysmith_jupyter")



class ProgressSource(Protocol):
    """Anything that feeds snapshots into an Activity (a tqdm bar observer, a framework callback ...).
    ``Activity.attach(source)`` calls ``source.attach(activity)``; the activity's end calls ``detach()``."""

    def attach(self, activity: Activity) -> None: ...

    def detach(self) -> None: ...


# ---------------------------------------------------------------------------------- current activity

_current: CurrentStack[Activity] = CurrentStack()


def current_activity() -> Activity | None:
    """The innermost open activity of a running ``%%activitysmith_progress`` cell or ``with Activity()``
    block, else None. Use it to drive the activity when there is no tqdm bar::

        act = current_activity()
        act.step("load data")      # subtitle, and the next segment for segmented_progress
        act.update(percentage=40)  # any content-state field
    """
    return _current.top()


def push_current(activity: Activity) -> None:
    """Make `activity` the current one (a front end does this when its cell / block starts)."""
    _current.push(activity)


def pop_current(activity: Activity) -> None:
    """`activity` is no longer current (no-op if it was not)."""
    _current.pop(activity)


class Activity:
    """One Live Activity, from its start to its one end. Thread-safe; every send goes through the
    dispatcher (``client``'s, by default ``default_client()``'s), none blocks the caller.

    ``with Activity("Nightly ETL") as act:`` starts it, makes it the current activity and ends it with
    the block's outcome (an exception fails it, Ctrl-C interrupts it; nothing is swallowed).
    """

    def __init__(
        self,
        title: str | RunOptions,
        *,
        clock: Clock = SYSTEM_CLOCK,
        describe_file: Callable[[str], str | None] | None = None,
        name_count: bool = True,
        **options: Any,
    ) -> None:
        """`title` and keyword `options` (see :class:`RunOptions`), or one `RunOptions`. `clock`: time
        (tests inject a fake one); `describe_file`: how a push names a file ("Cell In[3]");
        `name_count`: the end names the last snapshot's count ("Done · 8/8 in 3s")."""
        opts = title if isinstance(title, RunOptions) else RunOptions(title=title, **options)
        if isinstance(title, RunOptions) and options:
            opts = opts.replace(**options)
        self.options = opts
        key = opts.key if opts.key is not None else stream_key_from(opts.title, default="activity", max_length=200)
        self.rank = rank_role(opts.all_ranks, rank=opts.rank)  # who speaks in a distributed job (ranks.py)
        self.key = key + self.rank.key_suffix
        if stream_key_problem(self.key):
            check_payload("end_stream", {}, key=self.key)  # PayloadError naming the key, before anything is sent
        dispatcher = opts.dispatcher
        if dispatcher is None:
            from ..delivery.dispatcher import dispatcher_for

            dispatcher = dispatcher_for(opts.client)
        self.dispatcher = dispatcher
        self.title, self.type, self.steps, self.subtitle = opts.title, opts.activity_type, opts.steps, opts.subtitle
        self.notify: NotifyPolicy = opts.notify
        self.channels, self.color, self.colors = opts.channels, opts.color, dict(opts.colors)
        self.policy, self.clock, self.describe_file = opts.policy, clock, describe_file
        self.elapsed_updates, self.monitor = opts.elapsed_updates, opts.monitor  # monitor: see watchdog/
        self.name_count = name_count
        self.links = opts.links if opts.links is not None else links_here()  # a kernel's way back (issue 19)
        self._buttons: RunButtons | None = None  # this run's, from its start
        self.stall_after = opts.stall_after
        self._stall = StallWatch(self.stall_after, clock.monotonic())
        self.tick_interval = tick_interval(self.stall_after)  # the ticker's period for it (a stall in time)
        # the source's count as it is now, when it knows a newer one than it fed (the tqdm drop-in draws
        # only every `mininterval`): read by the ticker for stalls, and by an end given no `last`
        self.live: Callable[[], Snapshot | None] | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.outcome: Outcome | None = None
        self.last_error: BaseException | None = None
        self._lock = threading.RLock()
        self._content: dict[str, Any] = {}
        self._last: Snapshot | None = None  # the newest snapshot fed
        self._fed_key: tuple[Any, ...] | None = None  # what the last state sent from a snapshot showed
        self._metrics: dict[str, MetricValue] = {}
        self._step = 0
        self._manual = False  # the handle was used: elapsed ticks stop touching the subtitle
        self._elapsed_minutes = -1
        self._sources: list[ProgressSource] = []
        self._ending = False  # end() has begun: a second end does nothing

    # -- read-only views ----------------------------------------------------------------------
    @property
    def content_state(self) -> dict[str, Any]:
        """A copy of the state last handed to the dispatcher."""
        with self._lock:
            return dict(self._content)

    @property
    def last_snapshot(self) -> Snapshot | None:
        return self._last

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def ended(self) -> bool:
        return self.outcome is not None

    @property
    def elapsed(self) -> float:
        """Seconds since the start (until the end, once ended)."""
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self.clock.monotonic()
        return max(0.0, end - self.started_at)

    def __repr__(self) -> str:
        status = self.outcome or ("running" if self.started_at is not None else "new")
        return f"<{type(self).__name__} {self.key!r} {self.title!r} {status}>"

    # -- lifecycle -----------------------------------------------------------------------------
    def _first_subtitle(self) -> str | None:
        """The subtitle of the first state (None: "Running…"); a subclass may know more at its start."""
        return self.subtitle

    def start(self, first: Snapshot | None = None, *, background: bool = True) -> Activity:
        """Queue the first state (from `first`, when given); idempotent. A bad state (an unknown color,
        channel ...) raises ``PayloadError`` here, before anything is sent. With `background`, the
        elapsed-time ticker refreshes the subtitle while nothing else does."""
        with self._lock:
            if self.started_at is not None or self.outcome is not None:
                return self
            self.started_at = self.clock.monotonic()
            state = _content.first_state(self.title, activity_type=self.type, steps=self.steps,
                                         subtitle=self._first_subtitle(), color=self.color, metrics=self._metrics)
            if first is not None:
                self._last, self._fed_key = first, _content.snapshot_key(first, self.title)
                self._stall.moved((first.n, first.step, first.description), self.started_at)
                state = self._state_for(first, state)
            self._content = state
            self._elapsed_minutes = 0
            if self.links and self.rank.mirrors:
                self._buttons = RunButtons(self.links, self.type)
            try:
                self._send_update()
            except BaseException:
                self.started_at = None
                raise
            if self._buttons is not None:
                self._buttons.opened(self.title)
        if (background and self.elapsed_updates) or self._stall.enabled:  # (a bar's start is not background)
            _ticker.add(self)
        _watchdog.watch(self)  # its watchdog ends it if the process dies (issue 13)
        return _shutdown.opened(self)  # registered until it ends: SIGTERM ends it as "terminated" (issue 8)

    def attach(self, source: ProgressSource) -> None:
        """Let `source` feed this activity until it ends (then its ``detach()`` is called)."""
        source.attach(self)
        with self._lock:
            self._sources.append(source)

    def end(self, outcome: Outcome, *, error: BaseException | str | None = None,
            last: Snapshot | None = None, at: float | None = None, message: str | None = None) -> None:
        """Queue the final state and, per `notify` (``hub/trouble.py``), the closing push (the dispatcher
        guarantees both). The first end wins; later ones do nothing. `error`: the exception (or a short
        text) a failure names; `last`: the source's final snapshot, when it has a newer one than it fed
        (default: `live`'s); `at`: when the run really ended (the clock's monotonic time; default now),
        for an end sent later; `message`: the push's text instead of the outcome's (``activitysmith run``'s
        stderr tail)."""
        check_choice(outcome, OUTCOMES, "outcome")
        if not self._begin_end(outcome, last, at):
            return
        with self._lock:
            ending = _held.at_end(self, outcome, error, last)
            if ending is None:  # work it holds (futures a cell left running) ends it later (held.py)
                self._ending, self.ended_at = False, None
                pop_current(self)
                return
            outcome, error = ending.outcome, ending.error
            self._last = ending.last or self._last
            self.outcome = outcome
        _ticker.discard(self)
        pop_current(self)
        with self._lock:
            final = final_state(outcome, self._last if self.name_count else None, title=self.title, duration=self.elapsed,
                                activity_type=self.type, steps=self.steps, error=error,
                                metrics={**self._metrics, **(self._last.metrics if self._last else {})},
                                colors=self.colors, content=self._content, describe_file=self.describe_file)
            self._content = final.content_state
        if message is not None:
            final = dataclasses.replace(final, push_message=message)
        self._send_end(outcome, final)

    def _begin_end(self, outcome: Outcome, last: Snapshot | None, at: float | None) -> bool:
        """The first call of `end`: mark it ending, let the sources go (their last look is shown). False
        when the activity is already ending or ended."""
        if last is None and self.outcome is None:
            last = self._look_live()
        if last is not None:
            self._last = last
        if self.started_at is None and self.outcome is None:
            try:  # never shown: start it, so there is something for the final state to end
                self.start(self._last, background=False)
            except Exception as exc:
                self._remember(exc, "starting the activity at its end failed")
        with self._lock:
            if self.outcome is not None or self._ending:
                return False
            self._ending = True
            self.ended_at = self.clock.monotonic() if at is None else at
            sources, self._sources = self._sources, []
        if self._buttons is not None:  # first: from now on its Stop page says "already ended"
            self._buttons.closed(outcome)
        for source in sources:
            try:
                source.detach()
            except Exception as exc:
                self._remember(exc, "detaching a progress source failed")
        return True

    def _send_end(self, outcome: Outcome, final: FinalState) -> None:
        """Queue the final state and, per the trouble policy, the push; tell the watchdog both."""
        mirrors = self.rank.mirrors  # a silent rank ends no stream; its failure still pushes, naming it
        if not mirrors:
            title, message = self.rank.silent_texts(final.push_title, final.push_message)
            final = dataclasses.replace(final, push_title=title, push_message=message)
        try:
            if mirrors:
                buttons = self._buttons.end_fields if self._buttons is not None else {}
                self.dispatcher.end_stream(self.key, {"content_state": final.content_state, **buttons})
        except Exception as exc:
            self._remember(exc, "queueing the final state failed")
        push: dict[str, Any] | None = None
        if self._should_notify(outcome) and self.rank.pushes(outcome):
            push = push_request(final.push_title, final.push_message, self.channels,
                                redirection=self._buttons.redirection if self._buttons is not None else None)
            try:
                self.dispatcher.push(push)
            except Exception as exc:
                self._remember(exc, "queueing the push failed")
        _watchdog.ending(self, final.content_state, push)

    def _should_notify(self, outcome: Outcome) -> bool:
        return should_push(self.notify, outcome)

    def __enter__(self) -> Activity:
        self.start()
        push_current(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        self.end(outcome_for(exc), error=exc)
        return False

    # -- progress --------------------------------------------------------------------------------
    def feed(self, snapshot: Snapshot) -> None:
        """Show `snapshot` (from a source; any thread). Cheap: a new state is built only when the whole
        percent, the description, the step or the metrics changed, and only handed to the dispatcher
        (which keeps the newest). Starts the activity if needed. Never raises: a failure is logged."""
        try:
            if self.started_at is None:
                self.start(snapshot)
                return
            key = _content.snapshot_key(snapshot, self.title)
            with self._lock:
                if self.outcome is not None:
                    return
                self._last = snapshot
                if self._stall.moved((snapshot.n, snapshot.step, snapshot.description), self.clock.monotonic()):
                    self._fed_key = None  # the stall subtitle is showing: the next state replaces it
                if key == self._fed_key:
                    return
                self._fed_key = key
                self._content = self._state_for(snapshot, self._content)
                self._send_update()
        except Exception as exc:  # a source runs in the user's loop or a background thread
            self._remember(exc, "showing progress failed")

    def _state_for(self, snapshot: Snapshot, base: Mapping[str, Any]) -> dict[str, Any]:
        return _content.running_state(snapshot, base, title=self.title, activity_type=self.type,
                                      now=self.clock.time(), metrics=self._metrics)

    def update(self, request: Mapping[str, Any] | None = None, **fields: Any) -> None:
        """Merge content-state fields (``percentage``, ``subtitle``, ``value``, ``message`` ...) and
        queue the new state. Invalid fields raise ``PayloadError`` here, in the caller."""
        if self.ended:
            log.debug("update() after the activity ended is ignored: %r", self)
            return
        if self.started_at is None:
            self.start()
        with self._lock:
            self._manual = True
            new = dict(self._content)
            if self._stall.moved(("update", self.clock.monotonic()), self.clock.monotonic()):
                new["subtitle"] = self._stall.saved_subtitle or elapsed_text(0)  # the notice goes; a new one wins
            new.update(dict(request or {}), **fields)
            new["title"] = new.get("title") or self.title
            old, self._content = self._content, new
            try:
                self._send_update()
            except BaseException:
                self._content = old
                raise

    def step(self, label: str | None = None, *, current: int | None = None) -> None:
        """Enter the next step (or step ``current``, 1-based) and show ``label`` as the subtitle.

        ``segmented_progress`` fills one more segment (growing ``number_of_steps`` if needed);
        ``progress`` with ``steps=N`` moves the bar to step/N.
        """
        if current is not None and current < 0:
            raise ValueError(f"current={current!r}: a step number must be >= 0")
        with self._lock:
            self._step = current if current is not None else self._step + 1
            changes: dict[str, Any] = {}
            steps = self.steps
            if self.type == "segmented_progress":
                total = max(int(self._content.get("number_of_steps", steps or 1)), self._step)
                changes.update(number_of_steps=total, current_step=self._step)
            elif steps and self.type == "progress":
                changes["percentage"] = round(min(100.0, 100.0 * self._step / steps), 1)
            if label is not None:
                changes["subtitle"] = truncate(str(label), MAX_SUBTITLE)
            elif steps:
                changes["subtitle"] = f"Step {self._step} of {max(steps, self._step)}"
        self.update(**changes)

    def metrics(self, **values: float | int | str) -> None:
        """Merge named values (``loss=0.231, acc=0.912``): a ``stats`` activity shows them at once (paced
        by the dispatcher); every type names them in the closing push."""
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise TypeError(f"metrics({name}=...): a number or a string, not {type(value).__name__}")
        with self._lock:
            if self.outcome is not None:
                return
            self._metrics.update(values)
            if self.started_at is None:
                return
            if self._last is not None:  # a source's progress, shown again with the new values
                self._content = self._state_for(self._last, self._content)
            else:  # stats: the grid; else "Running · 6m elapsed · loss 0.231 · acc 0.912"
                base = self.subtitle or elapsed_text(max(self._elapsed_minutes, 0))
                self._content = _content.with_metrics(self._content, self._metrics, self.type, base)
            self._send_update()

    def tick(self) -> None:
        """Check for a stall; refresh the elapsed-time subtitle when its coarse bucket changed (no source,
        no handle)."""
        if self.ended or self.started_at is None:
            return
        self.check_stall()
        if not self.elapsed_updates:
            return
        minutes = elapsed_bucket(self.elapsed)
        with self._lock:
            if self._manual or self._fed_key is not None or minutes == self._elapsed_minutes:
                return
            self._elapsed_minutes = minutes
            if self.subtitle:  # the caller's subtitle stays; nothing to refresh
                return
            self._content = _content.with_metrics(self._content, self._metrics, self.type, elapsed_text(minutes))
            try:
                self._send_update()
            except Exception as exc:
                self._remember(exc, "elapsed-time update failed")

    def check_stall(self) -> None:
        """Take the live count (`live`), then, after `stall_after` without progress, say so in the subtitle
        and push once (the trouble policy). The ticker calls it, every `tick_interval` seconds."""
        live = self._look_live()
        if live is not None:
            self._see(live)
        due = self._stall.due(self.clock.monotonic(), silence=_watchdog.silence_since(self._stall.last_moved))
        if due is not None:
            quiet, push = due
            with self._lock:  # the notice shows the live count, not the last one the pacing let out
                if self._last is not None and self.outcome is None:
                    self._content = self._state_for(self._last, self._content)
            stall_notice(self, quiet, push and should_push(self.notify, "stalled"))

    # -- internals ---------------------------------------------------------------------------------
    def _see(self, snapshot: Snapshot) -> None:
        """A live snapshot is progress for the stall watch; it is shown (a state built) only when the
        dispatcher's pacing lets an update go, as a source's own feed would be."""
        now = self.clock.monotonic()
        if self.dispatcher.next_update_time(self.key) <= self.dispatcher.clock.monotonic():
            self.feed(snapshot)
            return
        with self._lock:
            if self.outcome is None:
                self._last = snapshot
                if self._stall.moved((snapshot.n, snapshot.step, snapshot.description), now):
                    self._fed_key = None  # the stall subtitle is showing: the next state replaces it

    def _look_live(self) -> Snapshot | None:
        live = self.live
        if live is None:
            return None
        try:
            return live()
        except Exception as exc:  # the source's own object (a bar) may be half closed
            self._remember(exc, "reading the live count failed")
            return None

    def _send_update(self) -> None:
        # Under the lock so states from the caller's thread and a source's reach the queue in order
        # (the dispatcher never calls back into us, so this cannot deadlock), and none after the end:
        # `end` marks the outcome under this lock before it queues the end, and an update queued
        # behind an end would start a new activity that nothing ever ends.
        with self._lock:
            if self.outcome is not None or not self.rank.mirrors:  # a silent rank sends no state
                return
            request: dict[str, Any] = {"content_state": dict(self._content)}
            if self.channels:
                request["channels"] = list(self.channels)
            if self._buttons is not None:
                request.update(self._buttons.fields)
            self.dispatcher.update_stream(self.key, request, policy=self.policy)
            _watchdog.report(self, request["content_state"])

    def _remember(self, exc: BaseException, what: str) -> None:
        self.last_error = exc
        log.warning("%s (%s): %s", what, self.key, exc)


_ticker = Ticker()  # every 15 s

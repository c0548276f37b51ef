"""One notebook cell as one :class:`~activitysmith_jupyter.hub.activity.Activity` (the magic's front end).

No IPython here (the glue lives in ``magics.py``). What drives a cell's activity, first match wins:

1. the outermost live tqdm bar (``activitysmith_jupyter.integrations.tqdm.BarSource``), when mirroring is on;
2. the handle: ``current_activity().step("label")`` / ``.update(percentage=..., subtitle=...)``;
3. otherwise elapsed time, in the subtitle ("Running · 6m elapsed"). One activity type for the whole
   run (``progress`` or ``segmented_progress``) means a bar that appears late never rotates the activity.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..hub.activity import Activity, ActivityType, NotifyPolicy, push_current
from ..clock import SYSTEM_CLOCK, Clock
from ..hub.outcome import Outcome, Snapshot

if TYPE_CHECKING:  # no tqdm import at runtime: it loads only when bars are observed
    from ..integrations._tqdm_bars import BarSnapshot
    from ..integrations.tqdm import BarObserver, BarSource

__all__ = ["ActivitySettings", "CellActivity"]

log = logging.getLogger("activitysmith_jupyter")


@dataclass(frozen=True, kw_only=True)
class ActivitySettings:
    """Everything one cell's activity needs, already resolved (option > %config > env > default)."""

    stream_key: str
    title: str
    subtitle: str | None = None
    type: ActivityType = "progress"
    steps: int | None = None
    notify: NotifyPolicy = "always"
    channels: tuple[str, ...] = ()
    color: str | None = "blue"
    success_color: str | None = "green"
    failure_color: str | None = "red"
    interrupt_color: str | None = "orange"
    mirror_bars: bool = True
    bar_interval: float = 0.5
    elapsed_updates: bool = True
    stall_after: float | None = 600.0  # seconds without progress before the stall push (None: off)


class CellActivity(Activity):
    """The Activity of one running cell: an `Activity` made from `ActivitySettings`, current while the
    cell runs, fed by the cell's outermost tqdm bar. Its end names the last bar's count as a plain
    bar's end does ("Done · 30/30 in 3m 12s", "Failed at 10/20: KeyError · 3m 12s"), else the cell's
    duration ("Done in 3m 12s", "Failed after 3m 12s: KeyError")."""

    def __init__(
        self,
        settings: ActivitySettings,
        *,
        client: Any = None,
        dispatcher: Any = None,
        clock: Clock = SYSTEM_CLOCK,
        describe_file: Callable[[str], str | None] | None = None,
    ) -> None:
        s = settings
        colors = {"completed": s.success_color, "failed": s.failure_color, "interrupted": s.interrupt_color,
                  "stopped": s.interrupt_color, "terminated": s.failure_color, "killed": s.failure_color}
        super().__init__(s.title, key=s.stream_key, type=s.type, steps=s.steps, subtitle=s.subtitle,
                         notify=s.notify, channels=s.channels, color=s.color, client=client,
                         dispatcher=dispatcher, clock=clock, colors=colors, describe_file=describe_file,
                         elapsed_updates=s.elapsed_updates, stall_after=s.stall_after)
        self.settings = settings
        self._bars: BarSource | None = None
        self.name_count = False  # set by the first bar: the end names a bar's count, not a callback's

    @property
    def stream_key(self) -> str:
        return self.key

    @property
    def _observer(self) -> BarObserver | None:
        """The bar observer while the cell's bars are followed (tests poll it directly)."""
        return self._bars.observer if self._bars is not None else None

    def start(self, first: Any = None, *, background: bool = True) -> CellActivity:
        """Queue the first state and become the current activity; with `background` also follow the
        cell's tqdm bars and tick the elapsed time."""
        super().start(first, background=background)
        push_current(self)
        if background and self.settings.mirror_bars:
            self._follow_bars()
        return self

    def _follow_bars(self) -> None:
        try:
            from ..integrations.tqdm import BarSource
        except ImportError:  # no tqdm installed: there are no bars to mirror
            log.debug("tqdm is not installed; bar mirroring is off")
            return
        try:
            self._bars = BarSource(interval=self.settings.bar_interval)
            self.attach(self._bars)
        except Exception as exc:  # an observer failure: keep the cell running
            self._remember(exc, "could not observe tqdm bars")

    def finish(self, outcome: Outcome, exc: BaseException | None = None) -> None:
        """``end(outcome, error=exc)``: the final state and, per the notify policy, a push. Never raises."""
        self.end(outcome, error=exc)

    def on_bar(self, bar: BarSnapshot | None) -> None:
        """Show a tqdm bar's snapshot (the observer's callback; tests call it directly)."""
        if bar is None or self.ended:
            return
        from ..integrations._tqdm_bars import hub_snapshot

        self.feed_bar(hub_snapshot(bar, described=True))

    def feed_bar(self, snapshot: Snapshot) -> None:
        """A tqdm bar's snapshot (the bar source): the end names its count, as a plain bar's end does."""
        super().feed(snapshot)
        self.name_count = True

    def feed(self, snapshot: Snapshot) -> None:
        """A snapshot from some other source (a framework callback feeding the current activity): shown,
        but the end names the cell's duration and the metrics, not that source's step count."""
        super().feed(snapshot)
        self.name_count = False

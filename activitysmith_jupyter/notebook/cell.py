"""One notebook cell as one :class:`~activitysmith_jupyter.hub.activity.Activity` (the magic's front end).

No IPython here (the glue lives in ``magics.py``). What drives a cell's activity, first match wins:

1. the outermost live tqdm bar (``activitysmith_jupyter.integrations.tqdm.BarSource``), when mirroring is on;
2. the handle: ``current_activity().step("label")`` / ``.update(percentage=..., subtitle=...)``;
3. otherwise elapsed time, in the subtitle ("Running · 6m elapsed"). One activity type for the whole
   run (``progress`` or ``segmented_progress``) means a bar that appears late never rotates the activity.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..hub.activity import Activity, push_current
from ..hub.options import RunOptions
from ..clock import SYSTEM_CLOCK, Clock
from ..hub.outcome import Snapshot

if TYPE_CHECKING:  # no tqdm import at runtime: it loads only when bars are observed
    from ..integrations.tqdm.bars import BarSnapshot
    from ..integrations.tqdm import BarObserver, BarSource

__all__ = ["BarSettings", "CellActivity"]

log = logging.getLogger("activitysmith_jupyter")


@dataclass(frozen=True, kw_only=True)
class BarSettings:
    """How a cell follows its tqdm bars (``%config ActivitySmithMagics.mirror_bars`` / ``bar_interval``)."""

    mirror: bool = True
    interval: float = 0.5  # seconds between looks at the live bars


class CellActivity(Activity):
    """The Activity of one running cell: an `Activity` made from `RunOptions`, current while the
    cell runs, fed by the cell's outermost tqdm bar. Its end names the last bar's count as a plain
    bar's end does ("Done · 30/30 in 3m 12s", "Failed at 10/20: KeyError · 3m 12s"), else the cell's
    duration ("Done in 3m 12s", "Failed after 3m 12s: KeyError")."""

    def __init__(
        self,
        options: RunOptions,
        *,
        bars: BarSettings = BarSettings(),
        clock: Clock = SYSTEM_CLOCK,
        describe_file: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(options, clock=clock, describe_file=describe_file)
        self.bars = bars
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
        if background and self.bars.mirror:
            self._follow_bars()
        if background and "distributed" in sys.modules:  # Dask futures the cell leaves running hold its end
            self._follow_created_futures()
        return self

    def _follow_created_futures(self) -> None:
        try:
            from ..integrations.distributed import watch_created

            watch_created(self)
        except Exception as exc:  # the cell runs without it
            self._remember(exc, "could not follow the cell's Dask futures")

    def _follow_bars(self) -> None:
        try:
            from ..integrations.tqdm import BarSource
        except ImportError:  # no tqdm installed: there are no bars to mirror
            log.debug("tqdm is not installed; bar mirroring is off")
            return
        try:
            self._bars = BarSource(interval=self.bars.interval)
            self.attach(self._bars)
        except Exception as exc:  # an observer failure: keep the cell running
            self._remember(exc, "could not observe tqdm bars")

    def on_bar(self, bar: BarSnapshot | None) -> None:
        """Show a tqdm bar's snapshot (the observer's callback; tests call it directly)."""
        if bar is None or self.ended:
            return
        from ..integrations.tqdm.bars import hub_snapshot

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

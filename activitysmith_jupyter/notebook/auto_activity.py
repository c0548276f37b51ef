"""The activity of one auto-mode run of cells (see ``auto.py``): a `CellActivity` whose subtitle names
the running cell ("cell 7 · 12m 4s"), whose time counts from the run's first cell, and which follows
the tqdm bars opened since that cell (not only since the threshold, when the activity starts)."""
from __future__ import annotations

import sys
from typing import Any

from .cell import CellActivity
from ..hub.options import RunOptions
from ..hub.outcome import Snapshot
from ..hub.wording import elapsed_bucket, format_duration

__all__ = ["AutoActivity", "open_bars"]



class AutoActivity(CellActivity):
    """The activity of one run of cells: "cell 7 · 12m 4s" while no bar drives it; its elapsed time
    counts from the run's first cell (the activity itself starts at the threshold)."""

    def __init__(self, options: RunOptions, *, head_start: float, stale_bars: frozenset[int],
                 cell: int | None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.head_start = head_start  # seconds the run had run before the activity started
        self.cell = cell
        self._stale_bars = stale_bars
        self._fed_in_cell = False
        self._shown: tuple[int | None, int] | None = None

    @property
    def elapsed(self) -> float:
        """From the run's first cell; an ended run's stops at its last cell's end (``end(at=...)``),
        not when the gap after it ran out."""
        return super().elapsed + self.head_start if self.started_at is not None else 0.0

    def cell_text(self) -> str:
        where = f"cell {self.cell}" if self.cell is not None else "cell"
        return f"{where} · {format_duration(self.elapsed)}"

    def _first_subtitle(self) -> str | None:
        """The run starts past its threshold: its first state already names the cell and the time."""
        if self.subtitle:
            return self.subtitle
        self._shown = (self.cell, elapsed_bucket(self.elapsed))
        return self.cell_text()

    def enter_cell(self, cell: int | None) -> None:
        """A new cell of the run started: show its number (unless a bar already drives the activity)."""
        self.cell = cell
        self._fed_in_cell = False
        self.tick()

    def feed(self, snapshot: Snapshot) -> None:
        self._fed_in_cell = True
        super().feed(snapshot)

    def tick(self) -> None:
        """Refresh "cell N · elapsed" when the cell or the coarse elapsed bucket changed; while a bar (or
        a callback) drives the cell, check it for a stall instead (the cell text itself is no progress)."""
        if self.ended or not self.started:
            return
        if self._fed_in_cell:
            self.check_stall()
            return
        if self.subtitle:
            return
        shown = (self.cell, elapsed_bucket(self.elapsed))
        if shown == self._shown:
            return
        self._shown = shown
        try:
            self.update(subtitle=self.cell_text())
        except Exception as exc:
            self._remember(exc, "showing the run's cell failed")

    def _follow_bars(self) -> None:
        """Follow the run's tqdm bars: those opened since its first cell, not since the threshold."""
        try:
            from ..integrations.tqdm import BarObserver, BarSource
        except ImportError:
            return
        stale = self._stale_bars

        class _RunBars(BarSource):
            def attach(self, activity: Any) -> None:
                self._activity = activity
                self.observer = BarObserver(self._on_bar, interval=self.interval, ignore=stale).start()

        try:
            self._bars = _RunBars(interval=self.bars.interval)
            self.attach(self._bars)
        except Exception as exc:
            self._remember(exc, "could not observe tqdm bars")


def open_bars() -> frozenset[int]:
    std = sys.modules.get("tqdm.std")
    if std is None:
        return frozenset()
    try:
        return frozenset(id(b) for b in list(getattr(std.tqdm, "_instances", ())))
    except RuntimeError:  # the set changed while copying
        return frozenset()



"""One daemon thread for the whole process ticks every running activity (its elapsed-time subtitle,
its stall check); a thread per activity would cost each cell a thread start."""
from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["TICK_SECONDS", "Tickable", "Ticker"]

TICK_SECONDS = 15.0


class Tickable(Protocol):
    def tick(self) -> None: ...


class Ticker:
    """Calls ``tick()`` on each added object every `interval` seconds, from one daemon thread; more often
    while an object asks for it with a shorter ``tick_interval`` attribute (a short ``stall_after``)."""

    def __init__(self, interval: float = TICK_SECONDS) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._items: list[Tickable] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()  # an item came that may want a shorter interval

    def add(self, item: Tickable) -> None:
        with self._lock:
            self._items.append(item)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="activitysmith-elapsed", daemon=True)
                self._thread.start()
        if self._period([item]) < self.interval:
            self._wake.set()

    def discard(self, item: Tickable) -> None:
        with self._lock:
            self._items = [a for a in self._items if a is not item]

    def _period(self, items: list[Tickable]) -> float:
        return min([self.interval, *(float(getattr(i, "tick_interval", self.interval)) for i in items)])

    def _run(self) -> None:
        due = time.monotonic() + self.interval
        while True:
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()
            with self._lock:
                running = list(self._items)
            period, now = self._period(running), time.monotonic()
            if now < due:  # woken by a new item: its period may bring the next tick closer, never later
                due = min(due, now + period)
                continue
            for item in running:
                item.tick()
            with self._lock:  # (the items that ended while ticking asked for nothing more)
                due = time.monotonic() + self._period(self._items)

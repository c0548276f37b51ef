"""One daemon thread for the whole process ticks every running activity (its elapsed-time subtitle,
its stall check); a thread per activity would cost each cell a thread start."""
from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["TICK_SECONDS", "Tickable", "Ticker"]

TICK_SECONDS = 15.0


class Tickable(Protocol):
    def tick(self) -> None: ...


class Ticker:
    """Calls ``tick()`` on each added object every `interval` seconds, from one daemon thread."""

    def __init__(self, interval: float = TICK_SECONDS) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._items: list[Tickable] = []
        self._thread: threading.Thread | None = None

    def add(self, item: Tickable) -> None:
        with self._lock:
            self._items.append(item)
            if self._thread is None or not self._thread.is_alive():  # first use, or after a fork
                self._thread = threading.Thread(target=self._run, name="activitysmith-elapsed", daemon=True)
                self._thread.start()

    def discard(self, item: Tickable) -> None:
        with self._lock:
            self._items = [a for a in self._items if a is not item]

    def _run(self) -> None:
        idle = threading.Event()  # never set: a plain interval
        while True:
            idle.wait(self.interval)
            with self._lock:
                running = list(self._items)
            for item in running:
                item.tick()

"""Time as a dependency: real by default, fake in tests (no test sleeps for real time)."""
from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "FakeClock", "SYSTEM_CLOCK"]


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the epoch (timestamps, ETA, Retry-After dates)."""

    def monotonic(self) -> float:
        """Seconds for measuring intervals."""

    def sleep(self, seconds: float) -> None:
        """Wait; a fake clock advances instead."""

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """`event.wait(timeout)`; a fake clock advances by `timeout` when the event is not set."""


class SystemClock:
    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)
    time = staticmethod(time.time)  # last: this name shadows the module inside the class body

    @staticmethod
    def wait(event: threading.Event, timeout: float | None) -> bool:
        return event.wait(timeout)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A thread-safe virtual clock: `sleep` and timed-out `wait` advance it instantly."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        # Yield briefly for real so other threads can set the event, then advance virtual time.
        if event.wait(0.001):
            return True
        if timeout is not None:
            self.advance(max(0.0, timeout))
        return event.is_set()

    def __repr__(self) -> str:
        return f"FakeClock(now={self.time():.3f})"

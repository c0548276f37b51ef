"""What the simulator's adapters need from the simulator (and nothing more).

The in-process transport, the loopback server and the page depend on these `Protocol`s, not on the
concrete `Simulator`, so imports flow one way: state -> adapters -> backend, never back.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeAlias

from ..clock import Clock
from .records import SimResponse

__all__ = ["Headers", "RequestHandler", "SimulatorBackend", "StateView"]

Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | None


class RequestHandler(Protocol):
    """Answers API requests; its clock times the faults' delays."""

    @property
    def clock(self) -> Clock: ...

    def handle(self, method: str, path: str, headers: Headers = None, body: bytes | str | None = b"") -> SimResponse:
        """Answer one HTTP request to the API (`path` may start with /api and carry a query string)."""
        ...


class StateView(Protocol):
    """Reads the simulated phone for the page (GET / and GET /_sim/state)."""

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe state: lock_screen, notifications, events, badge, metrics, now. Never the API key."""
        ...


class SimulatorBackend(RequestHandler, StateView, Protocol):
    """Both: what the transport and the server serve (the API and the page)."""

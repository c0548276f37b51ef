"""httpx transport that answers from a simulator in-process (works for httpx.Client and AsyncClient)."""
from __future__ import annotations

import httpx

from ..clock import FakeClock
from .backend import SimulatorBackend
from .page import page_response
from .records import SimResponse

__all__ = ["SimulatorTransport"]


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    return timeout.get("read")


class SimulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """No sockets: the page's routes go to `page_response`, every other request to `simulator.handle`.
    Faults become the httpx errors a real network would raise (ConnectError, RemoteProtocolError,
    ReadTimeout). `simulator` is anything with `handle`, `clock` and `snapshot` (`SimulatorBackend`)."""

    def __init__(self, simulator: SimulatorBackend) -> None:
        self.simulator = simulator

    def __repr__(self) -> str:
        return f"SimulatorTransport({self.simulator!r})"

    def _answer(self, request: httpx.Request, body: bytes) -> tuple[SimResponse, float, Exception | None]:
        """(response, seconds to wait first, error to raise after waiting instead of answering)."""
        target = request.url.raw_path.decode("ascii")
        page = page_response(self.simulator, request.method, target)
        if page is not None:
            return page, 0.0, None
        result = self.simulator.handle(request.method, target, request.headers.multi_items(), body)
        if result.fault == "refuse":
            raise httpx.ConnectError("[Errno 111] Connection refused (simulated)", request=request)
        limit = _read_timeout(request)
        if result.delay and limit is not None and result.delay >= limit:
            return result, float(limit), httpx.ReadTimeout("timed out (simulated delay)", request=request)
        if result.fault == "drop":
            error = httpx.RemoteProtocolError("Server disconnected without sending a response (simulated)",
                                              request=request)
            return result, result.delay, error
        return result, result.delay, None

    @staticmethod
    def _response(request: httpx.Request, result: SimResponse) -> httpx.Response:
        return httpx.Response(result.status, headers=list(result.headers.items()), content=result.body,
                              request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        result, wait, error = self._answer(request, request.read())
        if wait > 0:
            self.simulator.clock.sleep(wait)
        if error is not None:
            raise error
        return self._response(request, result)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        result, wait, error = self._answer(request, await request.aread())
        if wait > 0:
            await _async_sleep(self.simulator, wait)
        if error is not None:
            raise error
        return self._response(request, result)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


async def _async_sleep(simulator: SimulatorBackend, seconds: float) -> None:
    """Wait on the simulator's clock without blocking the event loop (a fake clock just advances)."""
    clock = simulator.clock
    if isinstance(clock, FakeClock):
        clock.sleep(seconds)
        return
    import anyio

    await anyio.to_thread.run_sync(clock.sleep, seconds)

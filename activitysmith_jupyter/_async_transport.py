"""The async client's default HTTP transport: stock `httpx.AsyncHTTPTransport`, tuned.

Its connections buffer writes until they next read, so an HTTP/1.1 request's head and body leave in
one send() (httpcore writes them separately: twice the syscalls and TCP segments for small JSON
requests), and the idle-connection "is readable" probe polls the socket directly instead of
rebuilding anyio's attribute map on every request. httpx has no public hook for httpcore's
`network_backend`, so the wrapper is installed on the pool httpx built; if a future httpx/httpcore
renames those attributes we simply keep the stock backend.
"""
from __future__ import annotations

from typing import Any

import httpcore
import httpx

from ._transport import readable

__all__ = ["async_http_transport"]


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._pending: list[bytes] = []
        self._timeout: float | None = None
        self._socket: Any = None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._pending.append(buffer)
            self._timeout = timeout

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await self._inner.write(data, self._timeout)
        return await self._inner.read(max_bytes, timeout)

    async def aclose(self) -> None:
        self._pending.clear()
        await self._inner.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await self._inner.write(data, self._timeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked for every idle connection on every request: keep it cheap
            if self._socket is None:
                self._socket = self._inner.get_extra_info("socket")
            return readable(self._socket)
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _wrap_pool(transport: Any, pool_type: type, wrapper: type) -> Any:
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if type(pool) is pool_type and backend is not None:  # not a proxy pool; attributes as expected
        pool._network_backend = wrapper(backend)
    return transport


def async_http_transport(**kwargs: Any) -> httpx.AsyncHTTPTransport:
    """`httpx.AsyncHTTPTransport(**kwargs)` that sends each request in one write."""
    return _wrap_pool(httpx.AsyncHTTPTransport(**kwargs), httpcore.AsyncConnectionPool, _AsyncBackend)

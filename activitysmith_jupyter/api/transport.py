"""The sync client's default HTTP transport: `StdlibTransport` (it keeps httpx's transport contract).

Keep-alive sockets from the standard library; each request is written with one send() and the answer
is parsed by `http.client.HTTPResponse`. Per small JSON request this costs about a third of the CPU of
httpcore + h11 (which also writes head and body with two sends), and the sync client sits on the hot
path of every progress update. Importing it does not import httpcore.
"""
from __future__ import annotations

import http.client
import os
import select
import socket
import sys
import threading
import weakref
from typing import Any

import httpx

from .proxy import proxy_applies

__all__ = ["StdlibTransport", "proxy_applies", "readable"]

_MAX_IDLE_PER_HOST = 10  # keep-alive sockets kept per (scheme, host, port)


def readable(sock: socket.socket | None) -> bool:
    """Whether recv() would return at once (data, or EOF from a peer that closed): a stale connection."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):  # pragma: no cover
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class StdlibTransport(httpx.BaseTransport):
    """A sync httpx transport on the standard library (HTTP/1.1 keep-alive sockets; see the module
    docstring for why). It keeps httpx's contract: httpx.Request in, httpx.Response out (content decoded
    by httpx), httpx exceptions for every failure, `request.extensions["timeout"]`.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[socket.socket]] = {}
        self._lock = threading.Lock()
        self._ssl_context: Any = None  # created on the first https:// connection
        _LIVE.add(self)

    def _after_fork_in_child(self) -> None:
        """A forked child must not share the parent's keep-alive sockets, nor inherit a lock that another
        thread of the parent held at the fork: start with none (the child's copies close with the list)."""
        self._lock = threading.Lock()
        self._idle = {}

    def _context(self) -> Any:
        if self._ssl_context is None:  # httpx's own default: SSL_CERT_FILE / SSL_CERT_DIR, else certifi
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    def _checkout(self, key: tuple[str, str, int]) -> Any:
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                sock = idle.pop()
                if not readable(sock):
                    return sock
                sock.close()  # the server closed it (or sent something unexpected) while idle
        return None

    def _checkin(self, key: tuple[str, str, int], sock: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < _MAX_IDLE_PER_HOST:
                idle.append(sock)
                return
        sock.close()

    def _connect(self, key: tuple[str, str, int], timeout: float | None, request: httpx.Request) -> socket.socket:
        scheme, host, port = key
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return sock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts = request.extensions.get("timeout") or {}
        head = b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)
        head += b"".join(b"%s: %s\r\n" % pair for pair in request.headers.raw)
        phase = "connect"
        sock: socket.socket | None = None
        try:
            sock = self._checkout(key) or self._connect(key, timeouts.get("connect"), request)
            phase = "write"
            sock.settimeout(timeouts.get("write"))
            sock.sendall(head + b"\r\n" + request.read())  # the whole request in one send()
            phase = "read"
            sock.settimeout(timeouts.get("read"))
            response = http.client.HTTPResponse(sock, method=request.method)
            response.begin()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            if sock is not None:
                sock.close()
            raise _httpx_error(phase, exc, request) from exc
        if response.will_close:
            sock.close()
        else:
            self._checkin(key, sock)
        return httpx.Response(response.status, headers=response.getheaders(), content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()})

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()


_LIVE: weakref.WeakSet[StdlibTransport] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for transport in list(_LIVE):
        transport._after_fork_in_child()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)


# (phase, what the standard library raised) -> the httpx exception; the first match wins. A timeout is an
# OSError, and RemoteDisconnected both an OSError and an HTTPException, so the order matters.
_ERROR_MAP: tuple[tuple[str, type[BaseException], type[httpx.TransportError]], ...] = (
    ("connect", TimeoutError, httpx.ConnectTimeout),
    ("connect", OSError, httpx.ConnectError),  # refused, unreachable, DNS failure, TLS handshake failure
    ("write", TimeoutError, httpx.WriteTimeout),
    ("write", OSError, httpx.WriteError),
    ("read", TimeoutError, httpx.ReadTimeout),
    ("read", http.client.HTTPException, httpx.RemoteProtocolError),
    ("read", OSError, httpx.ReadError),
)


def _httpx_error(phase: str, exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    for where, raised, mapped in _ERROR_MAP:
        if where == phase and isinstance(exc, raised):
            return mapped(str(exc) or f"{phase} failed ({type(exc).__name__})", request=request)
    return httpx.TransportError(str(exc) or type(exc).__name__, request=request)  # pragma: no cover


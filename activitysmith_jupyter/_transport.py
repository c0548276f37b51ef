"""The sync client's default HTTP transport: `StdlibTransport` (it keeps httpx's transport contract).

Keep-alive sockets from the standard library; each request is written with one send() and the answer
is parsed by `http.client.HTTPResponse`. Per small JSON request this costs about a third of the CPU of
httpcore + h11 (which also writes head and body with two sends), and the sync client sits on the hot
path of every progress update. Importing it does not import httpcore.
"""
from __future__ import annotations

import http.client
import select
import socket
import sys
import threading
from typing import Any

import httpx

__all__ = ["StdlibTransport", "proxy_applies", "readable"]


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

    def __init__(self, *, max_idle_per_host: int = 10, ssl_context: Any = None) -> None:
        self._idle: dict[tuple[str, str, int], list[socket.socket]] = {}
        self._lock = threading.Lock()
        self._max_idle = max_idle_per_host
        self._ssl_context = ssl_context

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
            if len(idle) < self._max_idle:
                idle.append(sock)
                return
        sock.close()

    def _connect(self, key: tuple[str, str, int], timeout: float | None, request: httpx.Request) -> socket.socket:
        scheme, host, port = key
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=host)
        except TimeoutError as exc:
            if sock is not None:
                sock.close()
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except OSError as exc:  # refused, unreachable, DNS failure, TLS handshake failure
            if sock is not None:
                sock.close()
            raise httpx.ConnectError(str(exc), request=request) from exc
        return sock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts = request.extensions.get("timeout") or {}
        sock = self._checkout(key) or self._connect(key, timeouts.get("connect"), request)
        head = b"%s %s HTTP/1.1\r\n" % (request.method.encode("ascii"), url.raw_path)
        head += b"".join(b"%s: %s\r\n" % pair for pair in request.headers.raw)
        try:
            sock.settimeout(timeouts.get("write"))
            sock.sendall(head + b"\r\n" + request.read())  # the whole request in one send()
        except TimeoutError as exc:
            sock.close()
            raise httpx.WriteTimeout(str(exc) or "write timed out", request=request) from exc
        except OSError as exc:
            sock.close()
            raise httpx.WriteError(str(exc), request=request) from exc
        try:
            sock.settimeout(timeouts.get("read"))
            response = http.client.HTTPResponse(sock, method=request.method)
            response.begin()
            content = response.read()
        except TimeoutError as exc:
            sock.close()
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except (http.client.RemoteDisconnected, http.client.HTTPException) as exc:
            sock.close()
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        except OSError as exc:
            sock.close()
            raise httpx.ReadError(str(exc), request=request) from exc
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


def proxy_applies(url: str) -> bool:
    """Whether the environment routes `url` through a proxy (then httpx.Client's proxy mounts are used)."""
    import urllib.request

    parsed = httpx.URL(url)
    proxies = urllib.request.getproxies()
    if parsed.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(parsed.host)

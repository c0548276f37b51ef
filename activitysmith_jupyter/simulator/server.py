"""A simulator behind a real HTTP server on 127.0.0.1 (stdlib, one daemon thread per connection).

Serves anything with `handle`, `clock` and `snapshot` (`backend.SimulatorBackend`): the page's routes
through `page.page_response`, every other request through `handle`."""
from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .backend import SimulatorBackend
from .page import page_response

__all__ = ["SimulatorServer"]

log = logging.getLogger("activitysmith_jupyter.simulator")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    server_version = "ActivitySmithSimulator"
    sys_version = ""
    wbufsize = 64 * 1024  # one write per response (flushed by handle_one_request): no Nagle/ACK stalls
    disable_nagle_algorithm = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
            while self.rfile.readline().strip():  # trailers up to the blank line
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Malformed request body framing")
            return
        sim = self.server.simulator
        result = page_response(sim, self.command, self.path) or sim.handle(self.command, self.path,
                                                                           self.headers.items(), body)
        if result.fault == "refuse":  # the server variant can only hang up before answering
            self._hang_up()
            return
        if result.delay:
            sim.clock.sleep(result.delay)
        if result.fault == "drop":
            self._hang_up()
            return
        self.send_response(result.status)
        for name, value in result.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(result.body)

    def _hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: SimulatorBackend) -> None:
        self.simulator = simulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)


class SimulatorServer:
    """Started on construction; `.url` is usable as a base URL. Context manager; `close()` is idempotent."""

    def __init__(self, simulator: SimulatorBackend, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.simulator = simulator
        self._httpd = _HTTPServer((host, port), simulator)
        bound = self._httpd.socket.getsockname()  # (host, port[, flowinfo, scope_id]); the port 0 picked
        self.host: str = bound[0]
        self.port: int = bound[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"activitysmith-simulator:{self.port}", daemon=True)
        self._closed = False
        self._thread.start()
        log.info("simulator listening on %s", self.url)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"SimulatorServer(url={self.url!r}, {state})"

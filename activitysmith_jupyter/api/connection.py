"""The HTTP side of a client (its httpx client and transport), built when the first request is sent.

``import activitysmith_jupyter`` and ``ActivitySmith()`` import no httpx: a notebook's first progress
update is sent from the dispatcher's thread, which pays for httpx there, off the user's cell. A client and
its ``with_options`` views share one `Connection` (and so their keep-alive sockets).

httpx's ``__init__`` imports its command-line client (``httpx._main``: click, rich, pygments) whenever
those are installed, as in most Jupyter environments: about half of httpx's import time and memory, and it
leaves ``rich`` in ``sys.modules`` although the user never imported it. `import_httpx` imports httpx
without it; httpx then binds its own stub ``httpx.main`` (what it does where the CLI extras are missing),
which only the ``httpx`` console script calls, in its own process. Once httpx is imported (by the user
or by anything else) it is used as it is.
"""
from __future__ import annotations

import os
import sys
import threading
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .proxy import proxy_applies

if TYPE_CHECKING:
    import httpx

__all__ = ["Connection", "import_httpx"]

_CLI = "httpx._main"
_import_lock = threading.Lock()


def import_httpx() -> ModuleType:
    """The httpx module, imported without its command-line client when nobody imported httpx yet."""
    if "httpx" not in sys.modules:
        with _import_lock:
            hide = "httpx" not in sys.modules and _CLI not in sys.modules
            if hide:
                sys.modules[_CLI] = None  # type: ignore[assignment]  # None: "cannot be imported", for this import
            try:
                import httpx
            finally:
                if hide and _CLI in sys.modules and sys.modules[_CLI] is None:
                    del sys.modules[_CLI]  # a later explicit `import httpx._main` works as usual
    # The import statement, not sys.modules: while another thread is still importing httpx it waits for
    # the module to be complete instead of handing out a half-initialised one.
    import httpx

    return httpx


class Connection:
    """What sends a client's requests, made on first use (thread-safe) and shared with its views.

    headers: sent with every request. timeout: httpx's ``timeout=``. transport: the caller's httpx
    transport (None: ours). simulator: the embedded simulator to answer in-process, or None.
    is_async: an ``httpx.AsyncClient`` instead of an ``httpx.Client``.
    """

    def __init__(self, *, headers: dict[str, str], timeout: Any, transport: Any, simulator: Any,
                 base_url: str, is_async: bool) -> None:
        self._headers = headers
        self._timeout = timeout
        self._transport = transport
        self._simulator = simulator
        self._base_url = base_url
        self._is_async = is_async
        self._lock = threading.Lock()
        self._http: httpx.Client | httpx.AsyncClient | None = None
        self._direct: httpx.BaseTransport | None = None
        _LIVE.add(self)

    @property
    def built(self) -> bool:
        return self._http is not None

    def own_transport(self) -> bool:
        """Whether requests go over HTTP through our own transport (not the simulator's, not the caller's,
        not httpx's proxy mounts). Decided without building anything."""
        if self._http is not None:
            return self._direct is not None
        return self._transport is None and self._simulator is None and not proxy_applies(self._base_url)

    @property
    def http(self) -> httpx.Client | httpx.AsyncClient:
        http = self._http
        return http if http is not None else self._build()

    @property
    def direct(self) -> httpx.BaseTransport | None:
        """Our own sync transport when it is called directly (no proxy applies), else None."""
        if self._http is None:
            self._build()
        return self._direct

    def _build(self) -> httpx.Client | httpx.AsyncClient:
        with self._lock:
            if self._http is not None:
                return self._http
            httpx = import_httpx()
            transport = self._transport
            if self._simulator is not None and transport is None:
                transport = self._simulator.transport()
            kwargs: dict[str, Any] = {"headers": self._headers, "timeout": self._timeout, "follow_redirects": False}
            if self._is_async:
                # Stock httpx/httpcore transport: with requests in flight it meets the concurrency target as is.
                self._http = httpx.AsyncClient(transport=transport, **kwargs)
                return self._http
            # Our own HTTP transport is called directly (skipping httpx.Client's redirect/auth/cookie/hook
            # layers, which this API never needs). When the environment routes the URL through a proxy
            # (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, minus NO_PROXY) httpx's own transports are used instead:
            # httpx ignores the proxy variables as soon as a transport is passed.
            if transport is None:
                from .transport import StdlibTransport

                if not proxy_applies(self._base_url):
                    transport = self._direct = StdlibTransport()
            self._http = httpx.Client(transport=transport, **kwargs)
            return self._http

    def timeout_extensions(self, timeout: Any = None) -> dict[str, Any]:
        """The per-request ``extensions`` for `timeout` (None: the client's own)."""
        if timeout is None:
            return {"timeout": self.http.timeout.as_dict()}
        return {"timeout": import_httpx().Timeout(timeout).as_dict()}

    def close(self) -> None:
        """Close the sync client, if it was ever made."""
        http = self._http
        if http is not None:
            http.close()  # type: ignore[union-attr]  # the sync twin holds an httpx.Client

    async def aclose(self) -> None:
        """Close the async client, if it was ever made."""
        http = self._http
        if http is not None:
            await http.aclose()  # type: ignore[union-attr]  # the async twin holds an httpx.AsyncClient


_LIVE: weakref.WeakSet[Connection] = weakref.WeakSet()


def _reset_after_fork() -> None:
    """A forked child must not inherit a lock another thread of the parent held at the fork (a build or
    httpx's import in progress): fresh ones (what was built stays; the transport resets its sockets)."""
    global _import_lock
    _import_lock = threading.Lock()
    for connection in list(_LIVE):
        connection._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_reset_after_fork)

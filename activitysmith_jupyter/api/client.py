"""`ActivitySmith` and `AsyncActivitySmith`: thin httpx twins over the shared decisions in `_requests`.

Without an API key (argument or ``ACTIVITYSMITH_API_KEY``) a client talks to the process-wide embedded
simulator through an in-process transport, so nothing leaves the machine. httpx is imported when the
first request is sent (`connection.Connection`), not when a client is made.
"""
from __future__ import annotations

import copy
import logging
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from . import requests as rq
from .connection import Connection, import_httpx
from .resources import (
    AsyncLiveActivities,
    AsyncMetrics,
    AsyncNotifications,
    LiveActivities,
    Metrics,
    Notifications,
)
from .retry import DEFAULT_MAX_RETRIES
from .settings import USER_AGENT, Settings, mask_key, resolve_settings
from .simulator_notice import announce
from ..clock import SYSTEM_CLOCK, Clock, SystemClock
from ..responses import APIObject, AppIconBadgeCountUpdateResponse

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "ActivitySmith",
    "AsyncActivitySmith",
    "default_client",
    "set_default_client",
]

logger = logging.getLogger("activitysmith_jupyter")

DEFAULT_TIMEOUT = 10.0


# ------------------------------------------------------------------------------ shared set-up


class _Base:
    """Settings, headers and repr shared by both clients (no I/O)."""

    _settings: Settings
    _conn: Connection  # shared with every with_options view
    _view_timeout: Any = None  # a with_options(timeout=) view's own timeout
    _view_extensions: dict[str, Any] | None = None

    def _setup(self, api_key: str | None, base_url: str | None, timeout: Any, max_retries: int,
               transport: Any, clock: Clock | None, rng: Callable[[], float] | None) -> Any:
        _check_retries(max_retries)
        self._settings = resolve_settings(api_key, base_url, has_transport=transport is not None,
                                          simulator_transport=getattr(transport, "simulator", None) is not None)
        self.simulator: Any = None
        if self._settings.embedded:
            from ..simulator import shared_simulator  # only now: the simulator is not needed with a key

            self.simulator = shared_simulator()  # its transport is made with the first request
        elif transport is not None:
            self.simulator = getattr(transport, "simulator", None)
        self.max_retries = max_retries
        self.timeout = timeout
        # Default time source: the simulator's clock when talking to one (a test's FakeClock), else real time.
        self._clock: Clock = clock or getattr(self.simulator, "clock", None) or SYSTEM_CLOCK
        self._rng = rng or random.random
        self._base = self._settings.base_url
        self._headers = {
            "Authorization": f"Bearer {self._settings.bearer}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        return transport

    def _connect(self, transport: Any, *, is_async: bool) -> None:
        self._conn = Connection(headers=self._headers, timeout=self.timeout, transport=transport,
                                simulator=self.simulator if self._settings.embedded else None,
                                base_url=self._base, is_async=is_async)

    @property
    def _extensions(self) -> dict[str, Any]:
        """Per-request httpx extensions (the timeout), made with the first request."""
        extensions = self._view_extensions
        if extensions is None:
            extensions = self._view_extensions = self._conn.timeout_extensions(self._view_timeout)
        return extensions

    @property
    def mode(self) -> str:
        """"simulator" when requests go to a Simulator, else "live"."""
        return "simulator" if self.simulator is not None else "live"

    @property
    def embedded(self) -> bool:
        """True when requests go to the process-wide embedded simulator (no key, no base URL)."""
        return self._settings.embedded

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def api_key_hint(self) -> str | None:
        """A masked form of the key, safe to display."""
        return mask_key(self._settings.api_key)

    @property
    def api_key_source(self) -> str:
        """Where the key came from: the argument, ACTIVITYSMITH_API_KEY, the stored key's place, or "none"."""
        return self._settings.key_source

    def with_options(self, *, max_retries: int | None = None, timeout: float | httpx.Timeout | None = None) -> Any:
        """A view of this client with other retry/timeout settings, sharing its connections
        (e.g. ``client.with_options(max_retries=0)`` for a caller that retries on its own)."""
        view = copy.copy(self)
        if max_retries is not None:
            view.max_retries = _check_retries(max_retries)
        if timeout is not None:
            view.timeout = view._view_timeout = timeout
            view._view_extensions = None
        view._bind_resources()
        return view

    def _bind_resources(self) -> None:
        raise NotImplementedError

    def _request(self, prepared: rq.PreparedRequest) -> httpx.Request:
        """The httpx.Request for a prepared call (the client's headers and timeout, built once)."""
        return cast("httpx.Request", import_httpx().Request(
            prepared.method, self._base + prepared.path, headers=self._conn.http.headers, content=prepared.content,
            extensions=self._extensions))

    def _log_retry(self, prepared: rq.PreparedRequest, step: rq.Retry, attempt: int) -> None:
        logger.info("retrying %s %s after %s in %.2f s (retry %d of %d)", prepared.method, prepared.path,
                    step.reason, step.delay, attempt + 1, self.max_retries)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(mode={self.mode!r}, base_url={self._base!r}, "
                f"api_key={mask_key(self._settings.api_key)!r})")


def _check_retries(max_retries: Any) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError("max_retries must be an int >= 0")
    return max_retries


# ------------------------------------------------------------------------------------- sync


class ActivitySmith(_Base):
    """Synchronous ActivitySmith client (same call shapes as the official SDK 1.14.0).

    ``api_key``: argument > ``ACTIVITYSMITH_API_KEY`` > none => the embedded simulator.
    ``base_url``: argument > ``ACTIVITYSMITH_BASE_URL`` > https://activitysmith.com/api.
    ``transport``: any httpx transport (e.g. ``Simulator().transport()``); ``clock``: where retries sleep
    (default: the simulator's clock when talking to a simulator, else the system clock).
    ``rng``: jitter source for the retry backoff (``random.random``).
    """

    def __init__(self, api_key: str | None = None, *, base_url: str | None = None,
                 timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT, max_retries: int = DEFAULT_MAX_RETRIES,
                 transport: httpx.BaseTransport | None = None, clock: Clock | None = None,
                 rng: Callable[[], float] | None = None) -> None:
        transport = self._setup(api_key, base_url, timeout, max_retries, transport, clock, rng)
        self._connect(transport, is_async=False)  # the httpx.Client and our transport: at the first request
        self._bind_resources()

    @property
    def _http(self) -> httpx.Client:
        return cast("httpx.Client", self._conn.http)

    @property
    def _direct(self) -> httpx.BaseTransport | None:
        """Our stdlib transport when it is called directly (no proxy in the way), else None."""
        return self._conn.direct

    def _bind_resources(self) -> None:
        self.notifications = Notifications(self)
        self.live_activities = LiveActivities(self)
        self.metrics = Metrics(self)

    def badge_count(self, value: int, *, channels: Any = None) -> AppIconBadgeCountUpdateResponse:
        """Set the App Icon Badge Count (0 clears it); `channels` list or comma string."""
        return cast(AppIconBadgeCountUpdateResponse,
                    self._execute(rq.build("badge", value, {"channels": channels})))

    def _execute(self, prepared: rq.PreparedRequest) -> APIObject:
        announce(self)  # no key: the first send says where it went (simulator_notice)
        request = self._request(prepared)
        direct, transport_error = self._direct, import_httpx().TransportError
        attempt = 0
        while True:
            step: APIObject | rq.Retry
            try:
                response = direct.handle_request(request) if direct else self._http.send(request)
            except transport_error as exc:
                step = rq.after_failure(prepared, exc, attempt=attempt, max_retries=self.max_retries,
                                        now=self._clock.time(), rng=self._rng)
            else:
                step = rq.after_response(prepared, response.status_code, response.headers, response.content,
                                         attempt=attempt, max_retries=self.max_retries,
                                         now=self._clock.time(), rng=self._rng)
            if not isinstance(step, rq.Retry):
                return step
            self._log_retry(prepared, step, attempt)
            self._clock.sleep(step.delay)
            attempt += 1

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ActivitySmith:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------ async


class AsyncActivitySmith(_Base):
    """The asyncio/anyio twin of `ActivitySmith`: same arguments, awaitable calls, `aclose()`."""

    def __init__(self, api_key: str | None = None, *, base_url: str | None = None,
                 timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT, max_retries: int = DEFAULT_MAX_RETRIES,
                 transport: httpx.AsyncBaseTransport | None = None, clock: Clock | None = None,
                 rng: Callable[[], float] | None = None) -> None:
        transport = self._setup(api_key, base_url, timeout, max_retries, transport, clock, rng)
        self._connect(transport, is_async=True)  # the httpx.AsyncClient: at the first request
        self._bind_resources()

    @property
    def _http(self) -> httpx.AsyncClient:
        return cast("httpx.AsyncClient", self._conn.http)

    def _bind_resources(self) -> None:
        self.notifications = AsyncNotifications(self)
        self.live_activities = AsyncLiveActivities(self)
        self.metrics = AsyncMetrics(self)

    async def badge_count(self, value: int, *, channels: Any = None) -> AppIconBadgeCountUpdateResponse:
        """Set the App Icon Badge Count (0 clears it); `channels` list or comma string."""
        return cast(AppIconBadgeCountUpdateResponse,
                    await self._execute(rq.build("badge", value, {"channels": channels})))

    async def _execute(self, prepared: rq.PreparedRequest) -> APIObject:
        announce(self)
        request = self._request(prepared)
        transport_error = import_httpx().TransportError
        attempt = 0
        while True:
            step: APIObject | rq.Retry
            try:
                response = await self._http.send(request)
            except transport_error as exc:
                step = rq.after_failure(prepared, exc, attempt=attempt, max_retries=self.max_retries,
                                        now=self._clock.time(), rng=self._rng)
            else:
                step = rq.after_response(prepared, response.status_code, response.headers, response.content,
                                         attempt=attempt, max_retries=self.max_retries,
                                         now=self._clock.time(), rng=self._rng)
            if not isinstance(step, rq.Retry):
                return step
            self._log_retry(prepared, step, attempt)
            await self._sleep(step.delay)
            attempt += 1

    async def _sleep(self, seconds: float) -> None:
        import anyio  # only when retrying

        if isinstance(self._clock, SystemClock):
            await anyio.sleep(seconds)
        else:  # an injected clock advances instead; still yield to the event loop
            self._clock.sleep(seconds)
            await anyio.sleep(0)

    async def aclose(self) -> None:
        await self._conn.aclose()

    async def __aenter__(self) -> AsyncActivitySmith:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


# -------------------------------------------------------------------------- process default

_default: ActivitySmith | None = None
_default_lock = threading.Lock()


def default_client() -> ActivitySmith:
    """The process-wide client (created on first use from the environment) used when none is passed."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ActivitySmith()
        return _default


def set_default_client(client: ActivitySmith | None) -> ActivitySmith | None:
    """Replace the process-wide client (None: create a fresh one on next use); returns the old one."""
    global _default
    if client is not None and not isinstance(client, ActivitySmith):
        raise TypeError("set_default_client() needs an ActivitySmith (sync) client or None")
    with _default_lock:
        old, _default = _default, client
    return old

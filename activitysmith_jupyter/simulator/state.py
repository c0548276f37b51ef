"""The Simulator: a thread-safe, in-process model of the ActivitySmith API and of the phone it drives.

This module is the API's front: faults, authentication, routing, JSON parsing, validation, budgets and
the request log. What each endpoint does to the simulated phone lives in `phone.Phone`.
"""
from __future__ import annotations

import copy
import hmac
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..clock import SYSTEM_CLOCK, Clock
from .backend import Headers
from .faults import Fault, FaultSet
from .limits import SlidingWindow
from .phone import Phone, keep
from .records import ActivityRecord, Event, RecordedRequest, Reply, SimResponse, iso, json_response
from .routes import match_route, split_path
from .timeline import format_timeline
from .validation import problems

if TYPE_CHECKING:  # pragma: no cover
    from .server import SimulatorServer
    from .transport import SimulatorTransport

__all__ = ["shared_simulator", "Simulator"]

log = logging.getLogger("activitysmith_jupyter.simulator")

# Endpoints that share the per-account budget (push notifications and Live Activity lifecycle).
_ACCOUNT_BUDGET = frozenset({"push", "replace", "start", "update", "end", "stream", "end_stream"})
_MALFORMED_BODY = b'{"success": true, "operation": <html>'

class Simulator:
    """The embedded ActivitySmith (see the module contract). All state changes happen under one lock."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        clock: Clock | None = None,
        rate_limit_per_minute: int | None = 60,
        metric_rate_limit_per_minute: int | None = 300,
        max_active_activities: int = 4,
        warning_after_updates: int = 12,
        warning_min_interval: float = 120.0,
        known_metrics: Iterable[str] | None = None,
        rotate_after: float | None = 8 * 3600.0,
        history_limit: int | None = 10_000,
    ) -> None:
        if api_key is not None and not api_key:
            raise ValueError("api_key must be non-empty (or None to accept any key)")
        self._api_key = api_key
        self.clock: Clock = clock or SYSTEM_CLOCK
        self.rate_limit_per_minute = rate_limit_per_minute
        self.metric_rate_limit_per_minute = metric_rate_limit_per_minute
        self.max_active_activities = max_active_activities
        self.warning_after_updates = warning_after_updates
        self.warning_min_interval = warning_min_interval
        self.known_metrics = None if known_metrics is None else frozenset(known_metrics)
        self.rotate_after = rotate_after
        self.history_limit = history_limit  # newest requests/events kept (a long session stays bounded)
        self._lock = threading.RLock()
        self._faults = FaultSet(self._lock)
        self._phone = Phone(self)
        self.reset()

    # ------------------------------------------------------------------ lifecycle and views
    def reset(self) -> None:
        """Forget every request, activity, notification, event and fault."""
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._budget = SlidingWindow()
            self._metric_budget = SlidingWindow()
            self._phone.reset()
            self._faults.clear()

    def __repr__(self) -> str:
        with self._lock:
            active = len(self._phone.active_ids)
            return (f"Simulator(requests={len(self._requests)}, active_activities={active}, "
                    f"notifications={len(self._phone.notifications)}, rate_limit={self.rate_limit_per_minute})")

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._phone.events)

    @property
    def activities(self) -> dict[str, ActivityRecord]:
        with self._lock:
            return dict(self._phone.activities)

    @property
    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(n) for n in self._phone.notifications.values()]

    @property
    def badge(self) -> int | None:
        """The app icon badge (None until a badge request)."""
        return self._phone.badge

    @property
    def metrics(self) -> dict[str, dict[str, Any]]:
        """Lock Screen widget metrics by key: {"value", "timestamp", "received_at"}."""
        return self._phone.metrics

    def lock_screen(self) -> list[dict[str, Any]]:
        """Live Activities the phone shows now (active, or ended and not yet dismissed), oldest first."""
        with self._lock:
            return self._phone.lock_screen()

    def timeline(self, *, skip: str | Iterable[str] = ()) -> str:
        """What the phone showed, one line per event; `skip` leaves out event kinds (``skip="updated"``:
        the updates of a long run; several as a tuple)."""
        return format_timeline(self.events, skip)

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe state for the page (GET /_sim/state). Never contains the API key."""
        with self._lock:
            return {
                "lock_screen": self._phone.lock_screen(), "notifications": self.notifications,
                "events": [e.to_dict() for e in self._phone.events], "badge": self._phone.badge,
                "metrics": copy.deepcopy(self._phone.metrics), "now": iso(self.clock.time()),
            }

    def pause_stream(self, key: str) -> None:
        """Pause a stream as the app/MCP tools can: later PUTs answer `paused` and change nothing."""
        with self._lock:
            self._phone.pause_stream(key)

    def resume_stream(self, key: str) -> None:
        with self._lock:
            self._phone.resume_stream(key)

    # ------------------------------------------------------------------ faults and wire adapters
    def inject(
        self,
        status: int | None = None,
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
        drop: bool = False,
        refuse: bool = False,
        delay: float = 0.0,
        malformed: bool = False,
    ) -> Fault:
        """Script a failure for the next `times` matching requests (path is a prefix, without /api)."""
        if status is None and not (drop or refuse or delay or malformed):
            raise ValueError("inject() needs status, drop, refuse, delay or malformed")
        prefix = split_path(path) if path else None  # "/api/badge" and "/badge" mean the same
        return self._faults.add(Fault(status=status, times=times, method=method, path=prefix,
                                      retry_after=retry_after, body=body, drop=drop, refuse=refuse,
                                      delay=float(delay), malformed=malformed))

    def clear_faults(self) -> None:
        self._faults.clear()

    def transport(self) -> SimulatorTransport:
        """An httpx transport (sync and async) that answers from this simulator in-process."""
        from .transport import SimulatorTransport

        return SimulatorTransport(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        """This simulator behind a real HTTP server on loopback (started; `.url`, `close()`)."""
        from .server import SimulatorServer

        return SimulatorServer(self, host=host, port=port)

    # ------------------------------------------------------------------ request handling
    def handle(self, method: str, path: str, headers: Headers = None, body: bytes | str | None = b"") -> SimResponse:
        """Answer one API request. `path` may start with /api and carry a query string. The page's
        routes (GET / and /_sim/state) are the adapters' (`page.page_response`), not the API's."""
        method = method.upper()
        path = split_path(path)
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        hdrs = {str(k).lower(): str(v) for k, v in pairs}
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        with self._lock:
            fault = self._faults.take(method, path)
            if fault is not None and fault.refuse:
                return SimResponse(0, {}, b"", fault="refuse")
            route = match_route(method, path)
            record = RecordedRequest(method, path, route[1] if route else None, _loads_or_none(raw), hdrs,
                                     time=self.clock.time())
            keep(self._requests, record, self.history_limit)
            if fault is not None and fault.status is not None:
                response = fault.error_response()
            else:
                response = self._process(method, path, route, hdrs, raw)
            record.status = response.status
            record.response = _loads_or_none(response.body)
        if fault is None:
            return response
        if fault.malformed:
            response = SimResponse(200, {"content-type": "application/json"}, _MALFORMED_BODY)
        return SimResponse(response.status, response.headers, response.body,
                           fault="drop" if fault.drop else None, delay=fault.delay)

    def _process(self, method: str, path: str, route: tuple[str, str | None] | None, headers: dict[str, str],
                 raw: bytes) -> SimResponse:
        try:
            self._authenticate(headers)
            if route is None:
                raise Reply(404, {"error": "not_found", "message": f"No route for {method} {path}."})
            endpoint, key = route
            data = _parse(raw, endpoint)
            found = problems(endpoint, data if data is not None else {}, key)
            if found:
                raise Reply(400, {"error": "bad_request", "message": "; ".join(found)})
            self._spend(endpoint)
            return json_response(200, self._phone.answer(endpoint, key, data if data is not None else {}))
        except Reply as reply:
            return reply.response
        except Exception:  # a simulator bug must look like a server error, not break the caller's stack
            log.exception("simulator failed on %s %s", method, path)
            return json_response(500, {"error": "internal_error", "message": "Simulator internal error."})

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        ok = scheme.lower() == "bearer" and bool(token)
        if ok and self._api_key is not None:
            ok = hmac.compare_digest(token.encode(), self._api_key.encode())
        if not ok:
            raise Reply(401, {"error": "unauthorized", "message": "Missing or invalid API key."})

    def _spend(self, endpoint: str) -> None:
        if endpoint in _ACCOUNT_BUDGET:
            budget, limit = self._budget, self.rate_limit_per_minute
        elif endpoint == "metric":
            budget, limit = self._metric_budget, self.metric_rate_limit_per_minute
        else:
            return
        wait = budget.acquire(self.clock.monotonic(), limit)
        if wait is not None:
            raise Reply(429, {"error": "rate_limited", "code": "rate_limited",
                              "message": f"Rate limit of {limit} requests per minute exceeded. "
                                         f"Retry in {wait} s."}, {"retry-after": str(wait)})


def _parse(raw: bytes, endpoint: str) -> Any:
    """The request's JSON object (None for a body-less stream DELETE), or a 400 Reply."""
    if not raw.strip():
        if endpoint == "end_stream":
            return None
        raise Reply(400, {"error": "bad_request", "message": "Request body is required (JSON object)."})
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Reply(400, {"error": "bad_request", "message": f"Invalid JSON body: {exc}"}) from None
    if not isinstance(data, dict):
        raise Reply(400, {"error": "bad_request", "message": "Request body must be a JSON object."})
    return data


def _loads_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


_shared: Simulator | None = None
_shared_lock = threading.Lock()


def shared_simulator() -> Simulator:
    """The process-wide simulator (the embedded phone every keyless client talks to)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Simulator()
        return _shared

"""The Simulator: a thread-safe, in-process model of the ActivitySmith API and of the phone it drives."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import payloads
from ..clock import SYSTEM_CLOCK, Clock
from ..payloads import CONTENT_STATE_DEFAULTS, END_AUTO_DISMISS_MINUTES_DEFAULT
from .faults import Fault, FaultSet
from .limits import SlidingWindow
from .records import ActivityRecord, Event, RecordedRequest, SimResponse, iso, json_response
from .routes import match_route, split_path
from .timeline import describe_state, format_timeline, headline
from .validation import describe, problems

if TYPE_CHECKING:  # pragma: no cover
    from .server import SimulatorServer
    from .transport import SimulatorTransport

__all__ = ["Simulator"]

log = logging.getLogger("activitysmith_jupyter.simulator")

# Endpoints that share the per-account budget (push notifications and Live Activity lifecycle).
_ACCOUNT_BUDGET = frozenset({"push", "replace", "start", "update", "end", "stream", "end_stream"})
_DISMISS_KEYS = ("auto_dismiss_seconds", "auto_dismiss_minutes")
_STREAM_DISMISS_DEFAULT = 120.0  # docs: iOS removes an ended activity after two minutes by default
_LEGACY_DISMISS_DEFAULT = END_AUTO_DISMISS_MINUTES_DEFAULT * 60.0  # the legacy end model default


class _Reply(Exception):
    """Raised by a handler to answer with an error response."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = json_response(status, body, headers)


@dataclass
class _Stream:
    key: str
    activity_id: str | None = None
    paused: bool = False


def _channels(body: Mapping[str, Any]) -> list[str] | None:
    """Target channels named by a request, or None when it names none (omitted = keep)."""
    target = body.get("target")
    if isinstance(target, Mapping) and target.get("channels"):
        return list(target["channels"])
    if body.get("channels"):
        return list(body["channels"])
    return None


def _split_dismiss(cs: Mapping[str, Any]) -> tuple[dict[str, Any], float | None]:
    """(content state without auto-dismiss fields, dismiss delay in seconds or None). Seconds win."""
    state = {k: v for k, v in cs.items() if k not in _DISMISS_KEYS}
    if cs.get("auto_dismiss_seconds") is not None:
        return state, float(cs["auto_dismiss_seconds"])
    if cs.get("auto_dismiss_minutes") is not None:
        return state, float(cs["auto_dismiss_minutes"]) * 60.0
    return state, None


def _comparable(cs: Mapping[str, Any]) -> dict[str, Any]:
    """A content state without explicit model defaults, so SDK-sent and omitted defaults compare equal."""
    return {k: v for k, v in cs.items() if CONTENT_STATE_DEFAULTS.get(k, object()) is not v}


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
        self._seq = 0
        self.reset()

    # ------------------------------------------------------------------ lifecycle and views
    def reset(self) -> None:
        """Forget every request, activity, notification, event and fault."""
        with self._lock:
            self._requests: list[RecordedRequest] = []
            self._events: list[Event] = []
            self._activities: dict[str, ActivityRecord] = {}
            self._streams: dict[str, _Stream] = {}
            self._notifications: dict[str, dict[str, Any]] = {}
            self._budget = SlidingWindow()
            self._metric_budget = SlidingWindow()
            self.badge: int | None = None
            self.metrics: dict[str, dict[str, Any]] = {}
            self._faults.clear()

    def __repr__(self) -> str:
        with self._lock:
            active = sum(a.state == "active" for a in self._activities.values())
            return (f"Simulator(requests={len(self._requests)}, active_activities={active}, "
                    f"notifications={len(self._notifications)}, rate_limit={self.rate_limit_per_minute})")

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    @property
    def activities(self) -> dict[str, ActivityRecord]:
        with self._lock:
            return dict(self._activities)

    @property
    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(n) for n in self._notifications.values()]

    def lock_screen(self) -> list[dict[str, Any]]:
        """Live Activities the phone shows now (active, or ended and not yet dismissed), oldest first."""
        now = self.clock.time()
        with self._lock:
            return [copy.deepcopy(a.view()) for a in self._activities.values()
                    if a.state == "active" or a.dismiss_at is None or a.dismiss_at > now]

    def timeline(self) -> str:
        return format_timeline(self.events)

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe state for the page (GET /_sim/state). Never contains the API key."""
        with self._lock:
            return {
                "lock_screen": self.lock_screen(), "notifications": self.notifications,
                "events": [e.to_dict() for e in self._events], "badge": self.badge,
                "metrics": copy.deepcopy(self.metrics), "now": iso(self.clock.time()),
            }

    def pause_stream(self, key: str) -> None:
        """Pause a stream as the app/MCP tools can: later PUTs answer `paused` and change nothing."""
        with self._lock:
            self._streams.setdefault(key, _Stream(key)).paused = True

    def resume_stream(self, key: str) -> None:
        with self._lock:
            if key in self._streams:
                self._streams[key].paused = False

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
        return self._faults.add(Fault(status, times, method, prefix, retry_after, body, drop, refuse,
                                      float(delay), malformed))

    def clear_faults(self) -> None:
        self._faults.clear()

    def transport(self) -> SimulatorTransport:
        from .transport import SimulatorTransport

        return SimulatorTransport(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
        from .server import SimulatorServer

        return SimulatorServer(self, host=host, port=port)

    # ------------------------------------------------------------------ request handling
    def handle(self, method: str, path: str, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
               body: bytes | str | None = b"") -> SimResponse:
        """Answer one HTTP request. `path` may start with /api and carry a query string."""
        method = method.upper()
        path = split_path(path)
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        hdrs = {str(k).lower(): str(v) for k, v in pairs}
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        if method == "GET" and path in ("/", "/_sim/state"):
            return self._site(path)
        with self._lock:
            fault = self._faults.take(method, path)
            if fault is not None and fault.refuse:
                return SimResponse(0, {}, b"", fault="refuse")
            route = match_route(method, path)
            record = RecordedRequest(method, path, route[1] if route else None, _loads_or_none(raw), hdrs,
                                     time=self.clock.time())
            self._keep(self._requests, record)
            if fault is not None and fault.status is not None:
                response = fault.error_response()
            else:
                response = self._process(method, path, route, hdrs, raw)
            record.status = response.status
            record.response = _loads_or_none(response.body)
        if fault is None:
            return response
        if fault.malformed:
            response = SimResponse(200, {"content-type": "application/json"}, b'{"success": true, "operation": <html>')
        return SimResponse(response.status, response.headers, response.body,
                           fault="drop" if fault.drop else None, delay=fault.delay)

    def _site(self, path: str) -> SimResponse:
        if path == "/_sim/state":
            return json_response(200, self.snapshot())
        from .page import render_page

        html = render_page(self).encode("utf-8")
        return SimResponse(200, {"content-type": "text/html; charset=utf-8"}, html)

    def _process(self, method: str, path: str, route: tuple[str, str | None] | None, headers: dict[str, str],
                 raw: bytes) -> SimResponse:
        try:
            self._authenticate(headers)
            if route is None:
                raise _Reply(404, {"error": "not_found", "message": f"No route for {method} {path}."})
            endpoint, key = route
            data = self._parse(raw, endpoint)
            found = problems(endpoint, data if data is not None else {}, key)
            if found:
                raise _Reply(400, {"error": "bad_request", "message": "; ".join(found)})
            self._spend(endpoint)
            payload = getattr(self, f"_on_{endpoint}")(key, data if data is not None else {})
            return json_response(200, payload)
        except _Reply as reply:
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
            raise _Reply(401, {"error": "unauthorized", "message": "Missing or invalid API key."})

    @staticmethod
    def _parse(raw: bytes, endpoint: str) -> Any:
        if not raw.strip():
            if endpoint == "end_stream":
                return None
            raise _Reply(400, {"error": "bad_request", "message": "Request body is required (JSON object)."})
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Reply(400, {"error": "bad_request", "message": f"Invalid JSON body: {exc}"}) from None
        if not isinstance(data, dict):
            raise _Reply(400, {"error": "bad_request", "message": "Request body must be a JSON object."})
        return data

    def _spend(self, endpoint: str) -> None:
        if endpoint in _ACCOUNT_BUDGET:
            budget, limit = self._budget, self.rate_limit_per_minute
        elif endpoint == "metric":
            budget, limit = self._metric_budget, self.metric_rate_limit_per_minute
        else:
            return
        wait = budget.acquire(self.clock.monotonic(), limit)
        if wait is not None:
            raise _Reply(429, {"error": "rate_limited", "code": "rate_limited",
                               "message": f"Rate limit of {limit} requests per minute exceeded. "
                                          f"Retry in {wait} s."}, {"retry-after": str(wait)})

    # ------------------------------------------------------------------ shared helpers
    def _now_iso(self) -> str:
        return iso(self.clock.time()) or ""

    def _new_id(self, prefix: str) -> str:
        """Looks like the real ids, but is deterministic per simulator (reproducible notebook output)."""
        self._seq += 1
        return f"{prefix}_" + hashlib.sha1(f"{prefix}:{self._seq}".encode()).hexdigest()[:16]

    def _keep(self, log: list[Any], item: Any) -> None:
        log.append(item)
        if self.history_limit is not None and len(log) > self.history_limit:
            del log[: len(log) - self.history_limit]

    def _event(self, kind: str, summary: str, **data: Any) -> None:
        self._keep(self._events, Event(self.clock.time(), kind, summary, copy.deepcopy(data)))

    def _activity_summary(self, act: ActivityRecord) -> str:
        return f"{headline(act.content_state)}  {describe_state(act.content_state)}".rstrip()

    def _check_capacity(self) -> None:
        active = sum(a.state == "active" for a in self._activities.values())
        if active >= self.max_active_activities:
            raise _Reply(429, {
                "error": "live_activity_limit", "limit": self.max_active_activities, "active": active,
                "message": f"Live Activity limit reached: {active} of {self.max_active_activities} "
                           "concurrent Live Activities are active. End one before starting another.",
            })

    def _start_activity(self, key: str | None, body: Mapping[str, Any], cs: Mapping[str, Any],
                        previous: str | None = None) -> ActivityRecord:
        state, _ = _split_dismiss(cs)
        act = ActivityRecord(
            self._new_id("act"), key, copy.deepcopy(state), self.clock.time(),
            action=copy.deepcopy(body.get("action")), secondary_action=copy.deepcopy(body.get("secondary_action")),
            alert=copy.deepcopy(body.get("alert")), channels=_channels(body),
            tags=copy.deepcopy(body.get("tags")), metadata=copy.deepcopy(body.get("metadata")),
            previous_activity_id=previous,
        )
        self._activities[act.activity_id] = act
        if key is not None:
            self._streams.setdefault(key, _Stream(key)).activity_id = act.activity_id
        summary = self._activity_summary(act) + (f"  (replaces {previous})" if previous else "")
        self._event("rotated" if previous else "started", summary, label=key or act.activity_id,
                    activity_id=act.activity_id, content_state=act.content_state)
        return act

    def _apply(self, act: ActivityRecord, body: Mapping[str, Any]) -> tuple[float | None, bool]:
        """Merge a request into an activity: (dismiss delay, changed?). Omitted fields are kept."""
        state, dismiss = _split_dismiss(body.get("content_state") or {})
        merged = {**act.content_state, **state}
        changed = _comparable(merged) != _comparable(act.content_state) or bool(body.get("alert"))
        act.content_state = copy.deepcopy(merged)
        for name in ("action", "secondary_action", "tags", "metadata"):
            if name in body and body[name] != getattr(act, name):
                setattr(act, name, copy.deepcopy(body[name]))
                changed = True
        if body.get("alert"):
            act.alert = copy.deepcopy(body["alert"])
        return dismiss, changed

    def _end(self, act: ActivityRecord, body: Mapping[str, Any], default_dismiss: float, reason: str) -> None:
        dismiss, _ = self._apply(act, body)
        now = self.clock.time()
        act.state, act.ended_at, act.end_reason = "ended", now, reason
        act.dismiss_at = now + (default_dismiss if dismiss is None else dismiss)
        when = "dismissed" if act.dismiss_at <= now else f"dismiss in {act.dismiss_at - now:g}s"
        self._event("ended", f"{self._activity_summary(act)}  ({when})", label=act.stream_key or act.activity_id,
                    activity_id=act.activity_id, content_state=act.content_state)

    def _update(self, act: ActivityRecord) -> str | None:
        """Count an update, record the event and return the iOS throttling warning if it applies."""
        now = self.clock.time()
        act.updates += 1
        act.updated_at = now
        warning = None
        elapsed = now - act.started_at
        if act.updates > self.warning_after_updates and elapsed < act.updates * self.warning_min_interval:
            warning = (f"This Live Activity received {act.updates} updates in {elapsed / 60:.1f} minutes "
                       f"(more than one every {self.warning_min_interval / 60:g} minutes); iOS may throttle it.")
        self._event("updated", self._activity_summary(act) + ("  ⚠ throttling warning" if warning else ""),
                    label=act.stream_key or act.activity_id, activity_id=act.activity_id,
                    content_state=act.content_state, warning=warning)
        return warning

    def _delivery(self, channels: list[str] | None, tags: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {"devices_notified": 1, "users_notified": 1, "effective_channel_slugs": channels or []}
        if tags is not None:
            out["tags"] = tags
        return out

    def _legacy_activity(self, body: Mapping[str, Any]) -> ActivityRecord:
        act = self._activities.get(body["activity_id"])
        if act is None:
            raise _Reply(404, {"error": "not_found", "message": f"Live Activity {body['activity_id']!r} not found."})
        return act

    # ------------------------------------------------------------------ endpoints (called under the lock)
    def _on_push(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        nid = self._new_id("ntf")
        self._notifications[nid] = {"notification_id": nid, "request": copy.deepcopy(body), "replaced": 0,
                                    "time": self._now_iso()}
        self._event("push", headline(body), notification_id=nid, request=body)
        channels = _channels(body)
        return {"success": True, "notification_id": nid, **self._delivery(channels, body.get("tags")),
                "devices_targeted": 1, "timestamp": self._now_iso()}

    def _on_replace(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        entry = self._notifications.get(key or "")
        if entry is None:
            raise _Reply(404, {"error": "not_found", "message": f"Push notification {key!r} not found."})
        old = entry["request"]
        new = copy.deepcopy(body)
        for name in ("tags", "metadata", "target", "interruption_level", "sound"):
            if name not in new and name in old:
                new[name] = old[name]
        entry.update(request=new, replaced=entry["replaced"] + 1, replaced_at=self._now_iso())
        self._event("replaced", headline(new), notification_id=key, request=new)
        return {"success": True, "notification_id": key, **self._delivery(_channels(new), new.get("tags")),
                "timestamp": self._now_iso()}

    def _on_stream(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        stream = self._streams.get(key)
        act = self._activities.get(stream.activity_id) if stream and stream.activity_id else None
        live = act if act is not None and act.state == "active" else None
        base = {"success": True, "stream_key": key}
        if stream is not None and stream.paused:
            return {**base, "operation": "paused", **({"activity_id": live.activity_id} if live else {}),
                    "ignored": True, "remote_push_sent": False, "message": "Stream is paused; nothing was sent.",
                    "timestamp": self._now_iso()}
        cs = body["content_state"]
        if live is None:
            self._check_can_start(key, cs)
            self._check_capacity()
            new = self._start_activity(key, body, cs)
            return {**base, "operation": "started", "activity_id": new.activity_id, "remote_push_sent": True,
                    **self._delivery(new.channels, new.tags), "timestamp": self._now_iso()}
        channels = _channels(body)
        type_changed = bool(cs.get("type")) and cs["type"] != live.type
        channels_changed = channels is not None and sorted(channels) != sorted(live.channels or [])
        too_old = self.rotate_after is not None and self.clock.time() - live.started_at >= self.rotate_after
        if type_changed or channels_changed or too_old:
            fresh = dict(cs) if type_changed else {**live.content_state, **cs}
            if type_changed:
                self._check_can_start(key, fresh)
            inherited = {n: getattr(live, n) for n in ("action", "secondary_action", "tags", "metadata", "channels")}
            self._end(live, {}, 0.0, "rotated")
            new = self._start_activity(key, {**inherited, **body, "channels": channels or live.channels}, fresh,
                                       previous=live.activity_id)
            return {**base, "operation": "rotated", "activity_id": new.activity_id,
                    "previous_activity_id": live.activity_id, "remote_push_sent": True,
                    **self._delivery(new.channels, new.tags), "timestamp": self._now_iso()}
        _, changed = self._apply(live, body)
        if not changed:
            return {**base, "operation": "noop", "activity_id": live.activity_id, "ignored": True,
                    "remote_push_sent": False, "timestamp": self._now_iso()}
        warning = self._update(live)
        out = {**base, "operation": "updated", "activity_id": live.activity_id, "remote_push_sent": True,
               **self._delivery(live.channels, live.tags), "timestamp": self._now_iso()}
        if warning:
            out["warning"] = warning
        return out

    @staticmethod
    def _check_can_start(key: str, state: dict[str, Any]) -> None:
        """A PUT that starts an activity needs its type and that type's fields (as a legacy start does)."""
        missing = describe(payloads.type_requirements(state))
        if missing:
            reasons = "; ".join(missing)
            raise _Reply(400, {"error": "bad_request",
                               "message": f"{reasons} (this request starts the Live Activity of stream {key!r})."})

    def _on_end_stream(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        stream = self._streams.get(key)
        if stream is None:
            raise _Reply(404, {"error": "not_found", "message": f"Live Activity stream {key!r} not found."})
        act = self._activities.get(stream.activity_id) if stream.activity_id else None
        base = {"success": True, "operation": "ended", "stream_key": key}
        if act is None or act.state != "active":
            return {**base, **({"activity_id": act.activity_id} if act else {}), "ignored": True,
                    "message": "The stream has no active Live Activity; nothing was ended.",
                    "timestamp": self._now_iso()}
        self._end(act, body, _STREAM_DISMISS_DEFAULT, "stream_deleted")
        return {**base, "activity_id": act.activity_id, "devices_notified": 1, "timestamp": self._now_iso()}

    def _on_start(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        self._check_capacity()
        act = self._start_activity(None, body, body["content_state"])
        return {"success": True, "activity_id": act.activity_id, **self._delivery(act.channels, act.tags),
                "timestamp": self._now_iso()}

    def _on_update(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        act = self._legacy_activity(body)
        if act.state != "active":
            raise _Reply(409, {"error": "activity_ended",
                               "message": f"Live Activity {act.activity_id!r} has already ended."})
        self._apply(act, body)
        self._update(act)
        return {"success": True, "activity_id": act.activity_id, **self._delivery(act.channels, act.tags),
                "timestamp": self._now_iso()}

    def _on_end(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        act = self._legacy_activity(body)
        if act.state != "active":
            return {"success": True, "activity_id": act.activity_id, "ignored": True,
                    "message": "The Live Activity had already ended.", "timestamp": self._now_iso()}
        self._end(act, body, _LEGACY_DISMISS_DEFAULT, "ended")
        return {"success": True, "activity_id": act.activity_id, "devices_notified": 1,
                "timestamp": self._now_iso()}

    def _on_metric(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        if self.known_metrics is not None and key not in self.known_metrics:
            raise _Reply(404, {"error": "not_found",
                               "message": f"Metric {key!r} not found. Create it in the ActivitySmith app first."})
        self.metrics[key] = {"value": body["value"], "timestamp": body.get("timestamp") or self._now_iso(),
                             "received_at": self._now_iso()}
        self._event("metric", f"{key} = {body['value']}", label=key, value=body["value"])
        return {"success": True}

    def _on_badge(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        self.badge = int(body["badge"])
        self._event("badge", f"app icon badge {self.badge}" if self.badge else "app icon badge cleared",
                    badge=self.badge)
        channels = _channels(body)
        return {"success": True, "badge": self.badge, "devices_updated": 1, "users_updated": 1,
                "effective_channel_slugs": channels or [], "timestamp": self._now_iso()}


def _loads_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None

"""The simulated phone and account: activities, streams, notifications, badge, metrics and the events
the phone showed, and what each API endpoint does to them (the contract in the package docstring).

`Phone.answer(endpoint, key, body)` is called by the `Simulator` under its lock, after authentication,
validation and the budget; a handler answers with a JSON dict or raises `Reply` for an error answer.
"""
from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .. import payloads
from ..clock import Clock
from ..payloads import CONTENT_STATE_DEFAULTS, END_AUTO_DISMISS_MINUTES_DEFAULT
from .records import ActivityRecord, Event, Reply, iso
from .timeline import describe_state, headline
from .validation import describe

__all__ = ["Phone", "PhoneSettings", "keep"]

_DISMISS_KEYS = ("auto_dismiss_seconds", "auto_dismiss_minutes")
_STREAM_DISMISS_DEFAULT = 120.0  # docs: iOS removes an ended activity after two minutes by default
_LEGACY_DISMISS_DEFAULT = END_AUTO_DISMISS_MINUTES_DEFAULT * 60.0  # the legacy end model default


class PhoneSettings(Protocol):
    """The simulator's settings, read on every request (so changing one applies at once)."""

    @property
    def clock(self) -> Clock: ...
    @property
    def max_active_activities(self) -> int: ...
    @property
    def warning_after_updates(self) -> int: ...
    @property
    def warning_min_interval(self) -> float: ...
    @property
    def known_metrics(self) -> frozenset[str] | None: ...
    @property
    def rotate_after(self) -> float | None: ...
    @property
    def history_limit(self) -> int | None: ...


@dataclass
class _Stream:
    key: str
    activity_id: str | None = None
    paused: bool = False


def keep(log: list[Any], item: Any, limit: int | None) -> None:
    """Append, dropping the oldest entries beyond `limit` (a long session stays bounded)."""
    log.append(item)
    if limit is not None and len(log) > limit:
        del log[: len(log) - limit]


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


def _delivery(channels: list[str] | None, tags: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"devices_notified": 1, "users_notified": 1, "effective_channel_slugs": channels or []}
    if tags is not None:
        out["tags"] = tags
    return out


def _check_can_start(key: str, state: dict[str, Any]) -> None:
    """A PUT that starts an activity needs its type and that type's fields (as a legacy start does)."""
    missing = describe(payloads.type_requirements(state))
    if missing:
        reasons = "; ".join(missing)
        raise Reply(400, {"error": "bad_request",
                          "message": f"{reasons} (this request starts the Live Activity of stream {key!r})."})


class Phone:
    """One simulated device and user. Not locked itself: the owning `Simulator` holds its lock."""

    def __init__(self, settings: PhoneSettings) -> None:
        self.settings = settings
        self._seq = 0  # kept across reset(): ids never repeat within one simulator
        self.reset()

    def reset(self) -> None:
        self.events: list[Event] = []
        self.activities: dict[str, ActivityRecord] = {}
        self.active_ids: set[str] = set()  # kept beside `activities`, which keeps every ended one too
        self.streams: dict[str, _Stream] = {}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.badge: int | None = None
        self.metrics: dict[str, dict[str, Any]] = {}

    def answer(self, endpoint: str, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer of a valid request to `endpoint` (raises `Reply` for an error answer).
        Endpoint names come from `routes.match_route`; each has an `on_<endpoint>` method."""
        handler: Callable[[str | None, dict[str, Any]], dict[str, Any]] = getattr(self, f"on_{endpoint}")
        return handler(key, body)

    def lock_screen(self) -> list[dict[str, Any]]:
        """Live Activities shown now (active, or ended and not yet dismissed), oldest first."""
        now = self.settings.clock.time()
        return [copy.deepcopy(a.view()) for a in self.activities.values()
                if a.state == "active" or a.dismiss_at is None or a.dismiss_at > now]

    def pause_stream(self, key: str) -> None:
        self.streams.setdefault(key, _Stream(key)).paused = True

    def resume_stream(self, key: str) -> None:
        if key in self.streams:
            self.streams[key].paused = False

    # ------------------------------------------------------------------ shared helpers
    def _now_iso(self) -> str:
        return iso(self.settings.clock.time()) or ""

    def _new_id(self, prefix: str) -> str:
        """Looks like the real ids, but is deterministic per simulator (reproducible notebook output)."""
        self._seq += 1
        return f"{prefix}_" + hashlib.sha1(f"{prefix}:{self._seq}".encode()).hexdigest()[:16]

    def _event(self, kind: str, summary: str, **data: Any) -> None:
        keep(self.events, Event(self.settings.clock.time(), kind, summary, copy.deepcopy(data)),
             self.settings.history_limit)

    def _activity_summary(self, act: ActivityRecord) -> str:
        return f"{headline(act.content_state)}  {describe_state(act.content_state)}".rstrip()

    def _check_capacity(self) -> None:
        active = len(self.active_ids)
        if active >= self.settings.max_active_activities:
            raise Reply(429, {
                "error": "live_activity_limit", "limit": self.settings.max_active_activities, "active": active,
                "message": f"Live Activity limit reached: {active} of {self.settings.max_active_activities} "
                           "concurrent Live Activities are active. End one before starting another.",
            })

    def _start_activity(self, key: str | None, body: Mapping[str, Any], cs: Mapping[str, Any],
                        previous: str | None = None) -> ActivityRecord:
        state, _ = _split_dismiss(cs)
        act = ActivityRecord(
            self._new_id("act"), key, copy.deepcopy(state), self.settings.clock.time(),
            action=copy.deepcopy(body.get("action")), secondary_action=copy.deepcopy(body.get("secondary_action")),
            alert=copy.deepcopy(body.get("alert")), channels=_channels(body),
            tags=copy.deepcopy(body.get("tags")), metadata=copy.deepcopy(body.get("metadata")),
            previous_activity_id=previous,
        )
        self.activities[act.activity_id] = act
        self.active_ids.add(act.activity_id)
        if key is not None:
            self.streams.setdefault(key, _Stream(key)).activity_id = act.activity_id
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

    def _end(self, act: ActivityRecord, body: Mapping[str, Any], default_dismiss: float) -> None:
        dismiss, _ = self._apply(act, body)
        now = self.settings.clock.time()
        act.state, act.ended_at = "ended", now
        self.active_ids.discard(act.activity_id)
        act.dismiss_at = now + (default_dismiss if dismiss is None else dismiss)
        when = "dismissed" if act.dismiss_at <= now else f"dismiss in {act.dismiss_at - now:g}s"
        self._event("ended", f"{self._activity_summary(act)}  ({when})", label=act.stream_key or act.activity_id,
                    activity_id=act.activity_id, content_state=act.content_state)

    def _update(self, act: ActivityRecord) -> str | None:
        """Count an update, record the event and return the iOS throttling warning if it applies."""
        now = self.settings.clock.time()
        act.updates += 1
        act.updated_at = now
        warning = None
        elapsed = now - act.started_at
        interval = self.settings.warning_min_interval
        if act.updates > self.settings.warning_after_updates and elapsed < act.updates * interval:
            warning = (f"This Live Activity received {act.updates} updates in {elapsed / 60:.1f} minutes "
                       f"(more than one every {interval / 60:g} minutes); iOS may throttle it.")
        self._event("updated", self._activity_summary(act) + ("  ⚠ throttling warning" if warning else ""),
                    label=act.stream_key or act.activity_id, activity_id=act.activity_id,
                    content_state=act.content_state, warning=warning)
        return warning

    def _legacy_activity(self, body: Mapping[str, Any]) -> ActivityRecord:
        act = self.activities.get(body["activity_id"])
        if act is None:
            raise Reply(404, {"error": "not_found", "message": f"Live Activity {body['activity_id']!r} not found."})
        return act

    # ------------------------------------------------------------------ endpoints (called under the lock)
    def on_push(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        nid = self._new_id("ntf")
        self.notifications[nid] = {"notification_id": nid, "request": copy.deepcopy(body), "replaced": 0,
                                    "time": self._now_iso()}
        self._event("push", headline(body), notification_id=nid, request=body)
        channels = _channels(body)
        return {"success": True, "notification_id": nid, **_delivery(channels, body.get("tags")),
                "devices_targeted": 1, "timestamp": self._now_iso()}

    def on_replace(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        entry = self.notifications.get(key or "")
        if entry is None:
            raise Reply(404, {"error": "not_found", "message": f"Push notification {key!r} not found."})
        old = entry["request"]
        new = copy.deepcopy(body)
        for name in ("tags", "metadata", "target", "interruption_level", "sound"):
            if name not in new and name in old:
                new[name] = old[name]
        entry.update(request=new, replaced=entry["replaced"] + 1, replaced_at=self._now_iso())
        self._event("replaced", headline(new), notification_id=key, request=new)
        return {"success": True, "notification_id": key, **_delivery(_channels(new), new.get("tags")),
                "timestamp": self._now_iso()}

    def on_stream(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        stream = self.streams.get(key)
        act = self.activities.get(stream.activity_id) if stream and stream.activity_id else None
        live = act if act is not None and act.state == "active" else None
        base = {"success": True, "stream_key": key}
        if stream is not None and stream.paused:
            return {**base, "operation": "paused", **({"activity_id": live.activity_id} if live else {}),
                    "ignored": True, "remote_push_sent": False, "message": "Stream is paused; nothing was sent.",
                    "timestamp": self._now_iso()}
        cs = body["content_state"]
        if live is None:
            _check_can_start(key, cs)
            self._check_capacity()
            new = self._start_activity(key, body, cs)
            return {**base, "operation": "started", "activity_id": new.activity_id, "remote_push_sent": True,
                    **_delivery(new.channels, new.tags), "timestamp": self._now_iso()}
        channels = _channels(body)
        type_changed = bool(cs.get("type")) and cs["type"] != live.type
        channels_changed = channels is not None and sorted(channels) != sorted(live.channels or [])
        rotate_after = self.settings.rotate_after
        too_old = rotate_after is not None and self.settings.clock.time() - live.started_at >= rotate_after
        if type_changed or channels_changed or too_old:
            fresh = dict(cs) if type_changed else {**live.content_state, **cs}
            if type_changed:
                _check_can_start(key, fresh)
            inherited = {n: getattr(live, n) for n in ("action", "secondary_action", "tags", "metadata", "channels")}
            self._end(live, {}, 0.0)
            new = self._start_activity(key, {**inherited, **body, "channels": channels or live.channels}, fresh,
                                       previous=live.activity_id)
            return {**base, "operation": "rotated", "activity_id": new.activity_id,
                    "previous_activity_id": live.activity_id, "remote_push_sent": True,
                    **_delivery(new.channels, new.tags), "timestamp": self._now_iso()}
        _, changed = self._apply(live, body)
        if not changed:
            return {**base, "operation": "noop", "activity_id": live.activity_id, "ignored": True,
                    "remote_push_sent": False, "timestamp": self._now_iso()}
        warning = self._update(live)
        out = {**base, "operation": "updated", "activity_id": live.activity_id, "remote_push_sent": True,
               **_delivery(live.channels, live.tags), "timestamp": self._now_iso()}
        if warning:
            out["warning"] = warning
        return out

    def on_end_stream(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        stream = self.streams.get(key)
        if stream is None:
            raise Reply(404, {"error": "not_found", "message": f"Live Activity stream {key!r} not found."})
        act = self.activities.get(stream.activity_id) if stream.activity_id else None
        base = {"success": True, "operation": "ended", "stream_key": key}
        if act is None or act.state != "active":
            return {**base, **({"activity_id": act.activity_id} if act else {}), "ignored": True,
                    "message": "The stream has no active Live Activity; nothing was ended.",
                    "timestamp": self._now_iso()}
        self._end(act, body, _STREAM_DISMISS_DEFAULT)
        return {**base, "activity_id": act.activity_id, "devices_notified": 1, "timestamp": self._now_iso()}

    def on_start(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        self._check_capacity()
        act = self._start_activity(None, body, body["content_state"])
        return {"success": True, "activity_id": act.activity_id, **_delivery(act.channels, act.tags),
                "timestamp": self._now_iso()}

    def on_update(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        act = self._legacy_activity(body)
        if act.state != "active":
            raise Reply(409, {"error": "activity_ended",
                              "message": f"Live Activity {act.activity_id!r} has already ended."})
        self._apply(act, body)
        self._update(act)
        return {"success": True, "activity_id": act.activity_id, **_delivery(act.channels, act.tags),
                "timestamp": self._now_iso()}

    def on_end(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        act = self._legacy_activity(body)
        if act.state != "active":
            return {"success": True, "activity_id": act.activity_id, "ignored": True,
                    "message": "The Live Activity had already ended.", "timestamp": self._now_iso()}
        self._end(act, body, _LEGACY_DISMISS_DEFAULT)
        return {"success": True, "activity_id": act.activity_id, "devices_notified": 1,
                "timestamp": self._now_iso()}

    def on_metric(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        assert key is not None
        if self.settings.known_metrics is not None and key not in self.settings.known_metrics:
            raise Reply(404, {"error": "not_found",
                              "message": f"Metric {key!r} not found. Create it in the ActivitySmith app first."})
        self.metrics[key] = {"value": body["value"], "timestamp": body.get("timestamp") or self._now_iso(),
                             "received_at": self._now_iso()}
        self._event("metric", f"{key} = {body['value']}", label=key, value=body["value"])
        return {"success": True}

    def on_badge(self, key: str | None, body: dict[str, Any]) -> dict[str, Any]:
        self.badge = int(body["badge"])
        self._event("badge", f"app icon badge {self.badge}" if self.badge else "app icon badge cleared",
                    badge=self.badge)
        channels = _channels(body)
        return {"success": True, "badge": self.badge, "devices_updated": 1, "users_updated": 1,
                "effective_channel_slugs": channels or [], "timestamp": self._now_iso()}

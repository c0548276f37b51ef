"""Response objects: attribute access over the decoded JSON, unknown fields kept.

Like the official SDK's models, a field the API documents for that response reads as None when the
server left it out; any other missing name raises AttributeError. `to_dict()` returns the JSON as
received (including fields this version does not know).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["APIObject", "RESPONSE_FIELDS", "response_object"]

# response type name -> fields documented by the API (official SDK 1.14.0 models)
RESPONSE_FIELDS: dict[str, tuple[str, ...]] = {
    "PushNotificationResponse": (
        "success", "notification_id", "devices_notified", "users_notified", "effective_channel_slugs",
        "tags", "timestamp", "devices_targeted", "devices_deactivated", "devices_unregistered",
        "credential_test", "message",
    ),
    "PushNotificationReplaceResponse": (
        "success", "notification_id", "devices_notified", "users_notified", "effective_channel_slugs",
        "tags", "timestamp",
    ),
    "LiveActivityStartResponse": (
        "success", "devices_notified", "users_notified", "activity_id", "effective_channel_slugs", "tags",
        "timestamp", "ended_activity_id", "message", "errors",
    ),
    "LiveActivityUpdateResponse": (
        "success", "activity_id", "devices_queued", "devices_notified", "timestamp", "users_notified",
        "effective_channel_slugs", "tags", "operation", "stream_key", "previous_activity_id", "errors",
    ),
    "LiveActivityEndResponse": (
        "success", "activity_id", "devices_queued", "devices_notified", "timestamp", "ignored", "message",
        "end_reason", "forced_completion", "warning", "errors",
    ),
    "LiveActivityStreamPutResponse": (
        "success", "operation", "stream_key", "activity_id", "previous_activity_id", "devices_notified",
        "devices_queued", "users_notified", "effective_channel_slugs", "tags", "warning", "timestamp",
        "ignored", "remote_push_sent", "message", "errors",
    ),
    "LiveActivityStreamDeleteResponse": (
        "success", "operation", "stream_key", "activity_id", "devices_queued", "devices_notified",
        "timestamp", "ignored", "message", "forced_completion", "warning", "errors",
    ),
    "MetricValueUpdateResponse": ("success",),
    "AppIconBadgeCountUpdateResponse": (
        "success", "badge", "devices_updated", "users_updated", "devices_notified", "users_notified",
        "effective_channel_slugs", "timestamp", "devices_targeted", "devices_deactivated",
        "devices_unregistered",
    ),
}

_EMPTY: frozenset[str] = frozenset()
_KNOWN: dict[str, frozenset[str]] = {name: frozenset(fields) for name, fields in RESPONSE_FIELDS.items()}


class APIObject:
    """A read-only view of one JSON object returned by the API."""

    __slots__ = ("_data", "_type", "_known")

    def __init__(self, data: Mapping[str, Any], *, type_name: str = "APIObject",
                 known: frozenset[str] = _EMPTY) -> None:
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_known", known)

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if name in data:
            return _wrap(data[name])
        if name in object.__getattribute__(self, "_known"):
            return None
        raise AttributeError(f"{object.__getattribute__(self, '_type')} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._type} is read-only")

    def __getitem__(self, name: str) -> Any:
        return _wrap(self._data[name])

    def get(self, name: str, default: Any = None) -> Any:
        return _wrap(self._data[name]) if name in self._data else default

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def keys(self) -> Any:
        """The field names received (so ``dict(response)`` works too)."""
        return self._data.keys()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, APIObject):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as received (a deep copy)."""
        return _copy(self._data)

    def __dir__(self) -> list[str]:
        return sorted(set(self._data) | self._known | {"to_dict", "get", "keys"})

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._data.items())
        return f"{self._type}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._data, self._type))


def response_object(type_name: str, data: Mapping[str, Any]) -> APIObject:
    """The APIObject for a decoded response of `type_name` (a key of RESPONSE_FIELDS)."""
    return APIObject(data, type_name=type_name, known=_KNOWN.get(type_name, _EMPTY))


def _rebuild(data: Mapping[str, Any], type_name: str) -> APIObject:
    return response_object(type_name, data)


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return APIObject(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value

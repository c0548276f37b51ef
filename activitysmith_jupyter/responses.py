"""Response objects: one typed class per response kind, attribute access over the decoded JSON.

Like the official SDK's models, a field the API documents for that response reads as None when the
server left it out, ``timestamp`` reads as a timezone-aware `datetime`, and the SDK's reading methods
exist (``to_dict``, ``to_json``, ``to_str``, ``model_dump``, ``model_dump_json``, ``dict(resp)``).
Unlike them, fields this version does not know stay readable, and ``to_dict()`` returns the JSON as
received. The annotations below are for editors and type checkers; values are read lazily.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

__all__ = [
    "APIObject",
    "APIErrorBody",
    "AppIconBadgeCountUpdateResponse",
    "LiveActivityEndResponse",
    "LiveActivityStartResponse",
    "LiveActivityStreamDeleteResponse",
    "LiveActivityStreamPutResponse",
    "LiveActivityUpdateResponse",
    "MetricValueUpdateResponse",
    "PushNotificationReplaceResponse",
    "PushNotificationResponse",
    "RESPONSE_FIELDS",
    "response_object",
]

_METHODS = frozenset({"get", "keys", "to_dict", "to_json", "to_str", "model_dump", "model_dump_json"})


class APIObject:
    """A read-only view of one JSON object returned by the API (a nested object, or a base class)."""

    __slots__ = ("_data",)
    _data: dict[str, Any]
    _fields: ClassVar[tuple[str, ...]] = ()  # documented fields, in the API's order (None when absent)
    _known: ClassVar[frozenset[str]] = frozenset()
    _datetimes: ClassVar[frozenset[str]] = frozenset()  # fields read as datetime

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = {name: str(kind) for name, kind in cls.__dict__.get("__annotations__", {}).items()
               if "ClassVar" not in str(kind)}
        cls._fields = tuple(own)
        cls._known = frozenset(own)
        cls._datetimes = frozenset(name for name, kind in own.items() if "datetime" in kind)

    def __init__(self, data: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_data", dict(data))

    def _read(self, name: str) -> Any:
        value = self._data[name]
        if name in self._datetimes and isinstance(value, str):
            return _parse_datetime(value)
        return _wrap(value)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no API field starts with "_" (and copy/pickle probe such names)
            raise AttributeError(name)
        if name in self._data:
            return self._read(name)
        if name in self._known:
            return None
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __getitem__(self, name: str) -> Any:
        if name not in self._data and name in self._known:
            return None
        return self._read(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self._read(name) if name in self._data else default

    def __contains__(self, name: object) -> bool:
        """Whether the server sent this field."""
        return name in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        """The documented fields and any other field received: ``dict(response)`` gives what
        ``dict(sdk_model)`` gives (absent fields as None), plus fields the SDK would drop."""
        return [*self._fields, *(name for name in self._data if name not in self._known)]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, APIObject):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as received (a deep copy; ``timestamp`` stays the server's string)."""
        copied: dict[str, Any] = _copy(self._data)
        return copied

    def to_json(self) -> str:
        """``json.dumps(self.to_dict())``."""
        return json.dumps(self.to_dict())

    def model_dump(self, *, mode: str = "python", exclude_none: bool = False, exclude_unset: bool = False,
                   by_alias: bool = True) -> dict[str, Any]:
        """Like pydantic's: every documented field (None when absent) plus any other field received;
        ``mode="python"`` gives `datetime` timestamps, ``mode="json"`` ISO strings as pydantic writes them.
        ``by_alias`` is accepted for the SDK's calls (field names are the JSON names already)."""
        del by_alias
        if mode not in ("python", "json"):
            raise ValueError("mode must be 'python' or 'json'")
        names = list(self._data) if exclude_unset else [*self._fields, *(n for n in self._data if n not in self._known)]
        out: dict[str, Any] = {}
        for name in names:
            value = self._data.get(name)
            if name in self._datetimes and isinstance(value, str):
                parsed = _parse_datetime(value)
                value = parsed if mode == "python" else _format_datetime(parsed)
            if value is None and exclude_none:
                continue
            out[name] = _copy(value)
        return out

    def model_dump_json(self, *, indent: int | None = None, exclude_none: bool = False,
                        exclude_unset: bool = False, by_alias: bool = True) -> str:
        """``model_dump(mode="json")`` as compact JSON (pydantic's layout)."""
        dumped = self.model_dump(mode="json", exclude_none=exclude_none, exclude_unset=exclude_unset,
                                 by_alias=by_alias)
        separators = (",", ":") if indent is None else None
        return json.dumps(dumped, indent=indent, separators=separators, ensure_ascii=False)

    def to_str(self) -> str:
        """``pprint.pformat(self.model_dump())``, as the SDK's models."""
        import pprint  # only here: it costs more to import than the rest of this module

        return pprint.pformat(self.model_dump())

    def __dir__(self) -> list[str]:
        return sorted(set(self._data) | self._known | _METHODS)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._data.items())
        return f"{type(self).__name__}({fields})"

    def __str__(self) -> str:
        """pydantic's ``str(model)``: ``name=value`` pairs, every documented field (``print(response)``)."""
        return " ".join(f"{k}={v!r}" for k, v in self.model_dump().items())

    def __reduce__(self) -> tuple[Any, ...]:
        return (response_object, (type(self).__name__, self._data))


# ----------------------------------------------------------------- one class per response kind
# Field order and types follow the official SDK 1.14.0 models; `X | None` where the API may omit it.


class PushNotificationResponse(APIObject):
    __slots__ = ()
    success: bool
    notification_id: str | None
    devices_notified: int | None
    users_notified: int | None
    effective_channel_slugs: list[str] | None
    tags: list[str] | None
    timestamp: dt.datetime
    devices_targeted: int | None
    devices_deactivated: int | None
    devices_unregistered: int | None
    credential_test: bool | None
    message: str | None


class PushNotificationReplaceResponse(APIObject):
    __slots__ = ()
    success: bool
    notification_id: str
    devices_notified: int | None
    users_notified: int | None
    effective_channel_slugs: list[str] | None
    tags: list[str] | None
    timestamp: dt.datetime


class LiveActivityStartResponse(APIObject):
    __slots__ = ()
    success: bool
    devices_notified: int | None
    users_notified: int | None
    activity_id: str
    effective_channel_slugs: list[str] | None
    tags: list[str] | None
    timestamp: dt.datetime
    ended_activity_id: str | None
    message: str | None
    errors: list[str] | None


class LiveActivityUpdateResponse(APIObject):
    __slots__ = ()
    success: bool
    activity_id: str
    devices_queued: int | None
    devices_notified: int | None
    timestamp: dt.datetime
    users_notified: int | None
    effective_channel_slugs: list[str] | None
    tags: list[str] | None
    operation: str | None
    stream_key: str | None
    previous_activity_id: str | None
    errors: list[str] | None


class LiveActivityEndResponse(APIObject):
    __slots__ = ()
    success: bool
    activity_id: str
    devices_queued: int | None
    devices_notified: int | None
    timestamp: dt.datetime
    ignored: bool | None
    message: str | None
    end_reason: str | None
    forced_completion: bool | None
    warning: str | None
    errors: list[str] | None


class LiveActivityStreamPutResponse(APIObject):
    __slots__ = ()
    success: bool
    operation: str  # started, updated, rotated, noop, paused (or a newer word)
    stream_key: str
    activity_id: str | None
    previous_activity_id: str | None
    devices_notified: int | None
    devices_queued: int | None
    users_notified: int | None
    effective_channel_slugs: list[str] | None
    tags: list[str] | None
    warning: str | None
    timestamp: dt.datetime
    ignored: bool | None
    remote_push_sent: bool | None
    message: str | None
    errors: list[str] | None


class LiveActivityStreamDeleteResponse(APIObject):
    __slots__ = ()
    success: bool
    operation: str
    stream_key: str
    activity_id: str | None
    devices_queued: int | None
    devices_notified: int | None
    timestamp: dt.datetime
    ignored: bool | None
    message: str | None
    forced_completion: bool | None
    warning: str | None
    errors: list[str] | None


class MetricValueUpdateResponse(APIObject):
    __slots__ = ()
    success: bool


class AppIconBadgeCountUpdateResponse(APIObject):
    __slots__ = ()
    success: bool
    badge: int
    devices_updated: int
    users_updated: int
    devices_notified: int | None
    users_notified: int | None
    effective_channel_slugs: list[str]
    timestamp: dt.datetime
    devices_targeted: int | None
    devices_deactivated: int | None
    devices_unregistered: int | None


class APIErrorBody(APIObject):
    """The JSON of an error answer (``APIError.data``); other fields (``limit``, ``upgrade_url``) too."""

    __slots__ = ()
    error: str | None
    message: str | None


_RESPONSE_CLASSES: tuple[type[APIObject], ...] = (
    PushNotificationResponse, PushNotificationReplaceResponse, LiveActivityStartResponse,
    LiveActivityUpdateResponse, LiveActivityEndResponse, LiveActivityStreamPutResponse,
    LiveActivityStreamDeleteResponse, MetricValueUpdateResponse, AppIconBadgeCountUpdateResponse,
)
_CLASSES: dict[str, type[APIObject]] = {cls.__name__: cls for cls in (*_RESPONSE_CLASSES, APIErrorBody)}

# response type name -> fields documented by the API
RESPONSE_FIELDS: dict[str, tuple[str, ...]] = {cls.__name__: cls._fields for cls in _RESPONSE_CLASSES}


def response_object(type_name: str, data: Mapping[str, Any]) -> APIObject:
    """The response object for a decoded answer of `type_name` (a key of RESPONSE_FIELDS)."""
    return _CLASSES.get(type_name, APIObject)(data)


def _parse_datetime(text: str) -> dt.datetime | str:
    """ISO 8601 -> an aware datetime (UTC when the text has no offset); unparsable text is kept as is."""
    try:
        value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return text
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _format_datetime(value: dt.datetime | str) -> str:
    """pydantic's JSON form of a datetime: ISO 8601, UTC as "Z" (text that did not parse stays as is)."""
    if isinstance(value, str):
        return value
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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

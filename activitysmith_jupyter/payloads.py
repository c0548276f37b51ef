"""The ActivitySmith API's rules, in one place.

* constants (types, colors, levels, limits, key patterns),
* helpers with the official SDK's signatures (``content_state``, ``metric``, ``action``, ...),
* ``build_request``: the official SDK 1.14.0's request merging (dict + keywords, ``content_state=``,
  ``channels`` -> ``target``), on plain data, never mutating its inputs,
* ``validate``: every problem in a body, each with a field path and what is allowed,
* ``check`` / ``prepare``: the same, raising :class:`PayloadError`.

The client validates before sending, the simulator validates what it receives and the composer shows
the problems live, so this module is pure Python (no pydantic) and cheap enough for every update.
The facts come from ``/work/shared/activitysmith-api.md`` and the SDK's generated models.
"""
from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import PayloadError, Problem

__all__ = [
    # constants
    "Endpoint", "ENDPOINTS", "TYPES", "COLORS", "INTERRUPTION_LEVELS", "ACTION_TYPES", "WEBHOOK_METHODS",
    "STREAM_OPERATIONS", "STREAM_KEY_PATTERN", "METRIC_KEY_PATTERN", "REDIRECTION_PATTERN",
    "MAX_ACTIONS", "MIN_METRICS", "MAX_METRICS", "MAX_TAGS_UPDATE", "MAX_TAG_LENGTH", "MAX_STREAM_KEY_LENGTH",
    "MAX_METRIC_KEY_LENGTH", "MAX_METRIC_STRING_LENGTH", "MAX_REDIRECTION_LENGTH", "MAX_BADGE",
    "MAX_METADATA_ENTRIES", "MAX_METADATA_KEY_LENGTH", "MAX_METADATA_STRING_LENGTH", "MAX_METADATA_BYTES",
    "CONTENT_STATE_DEFAULTS", "END_AUTO_DISMISS_MINUTES_DEFAULT",
    # helpers
    "content_state", "metric", "action", "alert_icon", "alert_badge", "type_requirements", "stream_key_from",
    # building and validation
    "Problem", "PayloadError", "build_request", "validate", "check", "prepare", "keywords_for",
]

# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------

Endpoint = Literal["push", "replace", "start", "update", "end", "stream", "end_stream", "metric", "badge"]
ENDPOINTS: tuple[str, ...] = ("push", "replace", "start", "update", "end", "stream", "end_stream", "metric", "badge")

TYPES = ("segmented_progress", "progress", "metrics", "stats", "alert", "timer", "value")
COLORS = ("lime", "green", "cyan", "blue", "purple", "magenta", "red", "orange", "yellow", "gray")
INTERRUPTION_LEVELS = ("passive", "active", "time-sensitive")
ACTION_TYPES = ("open_url", "webhook")
WEBHOOK_METHODS = ("GET", "POST")
STREAM_OPERATIONS = ("started", "updated", "rotated", "noop", "paused", "ended")

STREAM_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
METRIC_KEY_PATTERN = re.compile(r"^[a-z0-9._-]+$")
REDIRECTION_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HTTPS = re.compile(r"^https://", re.IGNORECASE)
_LIVE_OPEN_URL = re.compile(r"^(https?|shortcuts)://", re.IGNORECASE)

MAX_ACTIONS = 4
MIN_METRICS = 1
MAX_METRICS = 8
MAX_TAGS_UPDATE = 20  # update and end only
MAX_TAG_LENGTH = 64
MAX_STREAM_KEY_LENGTH = 255
MAX_METRIC_KEY_LENGTH = 64
MAX_METRIC_STRING_LENGTH = 64
MAX_REDIRECTION_LENGTH = 2048
MAX_BADGE = 2_147_483_647
MAX_METADATA_ENTRIES = 50
MAX_METADATA_KEY_LENGTH = 100
MAX_METADATA_STRING_LENGTH = 4000
MAX_METADATA_BYTES = 16 * 1024

# Model defaults the official SDK injects into every body (a server applies them when omitted).
CONTENT_STATE_DEFAULTS: Mapping[str, Any] = {"counts_down": True, "is_running": True}
END_AUTO_DISMISS_MINUTES_DEFAULT = 3  # legacy `end` only

# --------------------------------------------------------------------------------------------------
# Helpers (official SDK signatures; None values are dropped)
# --------------------------------------------------------------------------------------------------


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def content_state(
    title: str,
    *,
    type: str | None = None,
    subtitle: str | None = None,
    message: str | None = None,
    icon: Any | None = None,
    badge: Any | None = None,
    metrics: Any | None = None,
    number_of_steps: int | None = None,
    current_step: int | None = None,
    percentage: int | float | None = None,
    value: str | int | float | None = None,
    upper_limit: int | float | None = None,
    duration_seconds: int | float | None = None,
    counts_down: bool | None = None,
    color: str | None = None,
    step_color: str | None = None,
    step_colors: list[str] | None = None,
    is_running: bool | None = None,
    auto_dismiss_seconds: int | None = None,
    auto_dismiss_minutes: int | None = None,
) -> dict[str, Any]:
    """A Live Activity content_state dict (the SDK's helper plus ``step_colors`` and ``is_running``)."""
    return _compact({
        "title": title, "subtitle": subtitle, "type": type, "message": message, "icon": icon,
        "badge": badge, "metrics": metrics, "number_of_steps": number_of_steps,
        "current_step": current_step, "percentage": percentage, "value": value,
        "upper_limit": upper_limit, "duration_seconds": duration_seconds, "counts_down": counts_down,
        "is_running": is_running, "color": color, "step_color": step_color, "step_colors": step_colors,
        "auto_dismiss_seconds": auto_dismiss_seconds, "auto_dismiss_minutes": auto_dismiss_minutes,
    })


def metric(label: str, value: Any, *, unit: str | None = None, color: str | None = None) -> dict[str, Any]:
    """One metric for ``metrics``/``stats`` activities."""
    return _compact({"label": label, "value": value, "unit": unit, "color": color})


def action(
    title: str, type: str, url: str, *, method: str | None = None, body: Any | None = None
) -> dict[str, Any]:
    """A button: ``open_url`` or ``webhook`` (webhooks take ``method`` and ``body``)."""
    return _compact({"title": title, "type": type, "url": url, "method": method, "body": body})


def alert_icon(symbol: str, *, color: str | None = None) -> dict[str, Any]:
    """An SF Symbol icon for a content_state."""
    return _compact({"symbol": symbol, "color": color})


def alert_badge(title: str, *, color: str | None = None) -> dict[str, Any]:
    """A small badge for a content_state."""
    return _compact({"title": title, "color": color})


# --------------------------------------------------------------------------------------------------
# Keyword sets per endpoint (the SDK's method signatures)
# --------------------------------------------------------------------------------------------------

_CONTENT_KEYWORDS = (
    "title", "subtitle", "type", "message", "icon", "badge", "metrics", "number_of_steps", "current_step",
    "percentage", "value", "upper_limit", "duration_seconds", "counts_down", "color", "step_color",
)
_PUSH_KEYWORDS = (
    "title", "message", "subtitle", "media", "redirection", "actions", "target", "channels", "tags",
    "metadata", "icon", "interruption_level",
)
_REPLACE_KEYWORDS = tuple(k for k in _PUSH_KEYWORDS if k not in ("target", "channels", "interruption_level"))

# endpoint -> (content_state keywords, request-level keywords)
_LIVE_KEYWORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "start": (_CONTENT_KEYWORDS,
              ("content_state", "action", "secondary_action", "alert", "target", "channels", "tags", "metadata")),
    "update": (_CONTENT_KEYWORDS,
               ("activity_id", "content_state", "action", "secondary_action", "tags", "metadata")),
    "end": (_CONTENT_KEYWORDS + ("auto_dismiss_minutes",),
            ("activity_id", "content_state", "action", "secondary_action", "tags", "metadata")),
    "stream": (_CONTENT_KEYWORDS,
               ("content_state", "action", "secondary_action", "alert", "target", "channels", "tags", "metadata")),
    # the SDK refuses auto_dismiss_seconds= on end_stream; we accept it (the model has the field)
    "end_stream": (_CONTENT_KEYWORDS + ("auto_dismiss_minutes", "auto_dismiss_seconds"),
                   ("content_state", "action", "secondary_action", "alert", "tags", "metadata")),
}
_CHANNEL_ENDPOINTS = frozenset({"push", "start", "stream", "badge"})
_KEYWORDS: dict[str, frozenset[str]] = {
    "push": frozenset(_PUSH_KEYWORDS),
    "replace": frozenset(_REPLACE_KEYWORDS),
    "metric": frozenset({"value", "timestamp"}),
    "badge": frozenset({"value", "badge", "channels", "target"}),
    **{ep: frozenset(content + request) for ep, (content, request) in _LIVE_KEYWORDS.items()},
}


def keywords_for(endpoint: str) -> frozenset[str]:
    """The keyword fields ``build_request`` accepts for ``endpoint``."""
    _require_endpoint(endpoint)
    return _KEYWORDS[endpoint]


# --------------------------------------------------------------------------------------------------
# build_request
# --------------------------------------------------------------------------------------------------


def build_request(endpoint: Endpoint | str, request: Any = None, **fields: Any) -> dict[str, Any]:
    """Merge a dict request and keyword fields exactly like the official SDK; does not validate.

    Keywords whose value is None are ignored (as in the SDK). Content-state keywords and
    ``content_state=`` are merged into ``content_state``. ``channels`` becomes ``target.channels`` on
    push/start/stream/badge. For ``metric``, ``request`` is the value (or a ``{"value": ...}`` dict);
    for ``badge`` it is the count (or a dict). The result shares nothing mutable with the inputs.
    """
    _require_endpoint(endpoint)
    _refuse_unknown_keywords(endpoint, fields)
    if endpoint in ("push", "replace"):
        body = _merge_fields(endpoint, request, _compact(fields))
    elif endpoint == "metric":
        body = _build_metric(request, fields)
    elif endpoint == "badge":
        body = _build_badge(request, fields)
    else:
        body = _build_live(endpoint, request, fields)
    if endpoint in _CHANNEL_ENDPOINTS:
        body = _channels_to_target(body, keep_with_target=endpoint == "stream")
    return _drop_nulls(body)


def _require_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")


def _refuse_unknown_keywords(endpoint: str, fields: Mapping[str, Any]) -> None:
    allowed = _KEYWORDS[endpoint]
    problems = [
        Problem(name, f"not a keyword of {endpoint}{_hint(name, allowed)}")
        for name in fields if name not in allowed
    ]
    if problems:
        raise PayloadError(problems, endpoint=endpoint)


def _merge_fields(endpoint: str, request: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` (a mapping or None) with ``fields`` merged over it."""
    request = _as_plain(request)
    if request is None:
        body: dict[str, Any] = {}
    elif isinstance(request, Mapping):
        body = _clone(request)
    else:
        raise TypeError(f"{endpoint}: the request must be a dict (got {type(request).__name__})")
    body.update(_clone(fields))
    return body


def _as_plain(request: Any) -> Any:
    """An official-SDK model object (anything with ``to_dict()``) becomes its dict."""
    to_dict = getattr(request, "to_dict", None)
    return to_dict() if callable(to_dict) and not isinstance(request, Mapping) else request


def _build_live(endpoint: str, request: Any, fields: dict[str, Any]) -> dict[str, Any]:
    content_names, _ = _LIVE_KEYWORDS[endpoint]
    state_fields = _compact({k: v for k, v in fields.items() if k in content_names})
    explicit_state = fields.get("content_state")
    request_fields = _compact({k: v for k, v in fields.items() if k not in content_names and k != "content_state"})
    body = _merge_fields(endpoint, request, {})
    for extra in (explicit_state, state_fields or None):
        if extra is not None:
            body["content_state"] = _merge_state(body.get("content_state"), extra)
    body.update(_clone(request_fields))
    return body


def _merge_state(existing: Any, extra: Any) -> Any:
    extra = _as_plain(extra)
    if existing is None:
        return _clone(extra)
    if isinstance(existing, Mapping) and isinstance(extra, Mapping):
        return {**existing, **_clone(extra)}
    raise PayloadError(Problem("content_state", "must be an object to merge content-state fields into it"))


def _channels_to_target(body: dict[str, Any], *, keep_with_target: bool) -> dict[str, Any]:
    """``channels`` (list or comma string) -> ``target.channels``, unless ``target`` is present.

    With ``target`` present, ``channels`` is left alone: stream sends both, while the push, start and
    badge models have no such field, so the SDK drops it from the wire.
    """
    if "channels" not in body:
        return body
    if "target" in body:
        if not keep_with_target:
            del body["channels"]
        return body
    raw = body.pop("channels")
    if isinstance(raw, str):
        items: Iterable[Any] = raw.split(",")
    elif isinstance(raw, (list, tuple)):
        items = raw
    else:
        items = ()
    channels = [item.strip() for item in items if isinstance(item, str) and item.strip()]
    if channels:
        body["target"] = {"channels": channels}
    return body


def _build_metric(request: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """SDK ``metrics.update(key, value_or_request, timestamp)``: a bare value becomes {"value": v}."""
    request = _as_plain(request)
    if isinstance(request, Mapping) and "value" in request:
        body = _clone(request)
    else:
        body = {} if request is None else {"value": _clone(request)}
    if fields.get("value") is not None:
        body["value"] = _clone(fields["value"])
    timestamp = fields.get("timestamp")
    if timestamp is not None:
        body["timestamp"] = timestamp
    if "timestamp" in body:
        body["timestamp"] = _iso_timestamp(body["timestamp"])
    return body


def _iso_timestamp(value: Any) -> Any:
    """datetime / ISO string / epoch seconds -> ISO 8601 (``Z`` becomes ``+00:00``), like the SDK.

    A naive datetime stays naive (the SDK sends it without an offset). Anything unparseable is
    returned unchanged for ``validate`` to report.
    """
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if abs(value) > 2e10 else value  # pydantic reads big numbers as ms
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
        except (OverflowError, OSError, ValueError):
            return value
    if isinstance(value, str):
        parsed = _parse_iso(value)
        return parsed.isoformat() if parsed is not None else value
    return value


def _parse_iso(text: str) -> datetime | None:
    candidate = text.strip()
    if candidate[-1:] in ("Z", "z"):
        candidate = candidate[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _build_badge(request: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """SDK ``badge_count(value, channels=None)``; ``request`` may also be a whole body dict."""
    request = _as_plain(request)
    if isinstance(request, Mapping):
        body = _clone(request)
    else:
        body = _compact({"badge": request})
    body.update(_compact({"badge": fields.get("value")}))
    body.update(_clone(_compact({k: fields.get(k) for k in ("badge", "channels", "target")})))
    return body


_FREE_FORM = frozenset({"payload", "body", "metadata"})  # kept verbatim (metadata nulls are reported)


def _drop_nulls(value: Any) -> Any:
    """Remove null fields from the model objects (the SDK never puts them on the wire)."""
    if isinstance(value, dict):
        return {k: (v if k in _FREE_FORM else _drop_nulls(v)) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _clone(value: Any) -> Any:
    """Copy plain JSON-like data (mappings become dicts, tuples become lists).

    NumPy scalars (``np.int64(3)`` from a DataFrame or a loop) become the Python numbers they hold,
    so notebook values pass the strict int/float checks and serialize as JSON.
    """
    if isinstance(value, Mapping):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clone(v) for v in value]
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


# --------------------------------------------------------------------------------------------------
# Validation: small checkers composed into per-endpoint tables
# --------------------------------------------------------------------------------------------------

Check = Callable[[Any, str, list[Problem]], None]


def _hint(name: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _string(*, min_len: int = 0, max_len: int | None = None) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, str):
            out.append(Problem(path, f"must be a string; got {_kind(value)}"))
        elif len(value) < min_len or (max_len is not None and len(value) > max_len):
            got = "an empty string" if not value else f"{len(value)} characters"
            out.append(Problem(path, f"must be {_length_rule(min_len, max_len)}; got {got}"))
    return check


def _length_rule(min_len: int, max_len: int | None) -> str:
    if max_len is None:
        return "a non-empty string" if min_len == 1 else f"at least {min_len} characters"
    return f"{min_len}-{max_len} characters" if min_len else f"at most {max_len} characters"


def _enum(choices: tuple[str, ...]) -> Check:
    allowed = ", ".join(choices)

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if value not in choices or not isinstance(value, str):
            got = repr(value) if isinstance(value, str) else _kind(value)
            hint = _hint(value, choices) if isinstance(value, str) else ""
            out.append(Problem(path, f"must be one of {allowed}; got {got}{hint}"))
    return check


def _integer(low: int | None = None, high: int | None = None) -> Check:
    if low is None:
        rule = "an integer"
    else:
        rule = f"an integer >= {low}" if high is None else f"an integer {low}-{high}"

    def check(value: Any, path: str, out: list[Problem]) -> None:
        in_range = _is_int(value) and (low is None or value >= low) and (high is None or value <= high)
        if not in_range:
            got = value if _is_int(value) else _kind(value)
            out.append(Problem(path, f"must be {rule}; got {got}"))
    return check


def _number(low: float | None = None, high: float | None = None) -> Check:
    if low is not None and high is not None:
        rule = f"a number {low:g}-{high:g}"
    elif low is not None:
        rule = f"a number >= {low:g}"
    else:
        rule = "a finite number"

    def check(value: Any, path: str, out: list[Problem]) -> None:
        ok = _is_number(value) and (low is None or value >= low) and (high is None or value <= high)
        if not ok:
            got = value if _is_number(value) else _kind(value)
            out.append(Problem(path, f"must be {rule}; got {got}"))
    return check


def _boolean(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, bool):
        out.append(Problem(path, f"must be true or false; got {_kind(value)}"))


def _https_url(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append(Problem(path, f"must be an https:// URL string; got {_kind(value)}"))
    elif not _HTTPS.match(value):
        out.append(Problem(path, f"must be an https:// URL; got {value[:60]!r}"))


def _icon_url(value: Any, path: str, out: list[Problem]) -> None:
    before = len(out)
    _https_url(value, path, out)
    if len(out) == before and _has_credentials(value):
        out.append(Problem(path, "must not contain credentials (user:password@)"))


def _has_credentials(url: str) -> bool:
    try:
        return urlsplit(url).username is not None
    except ValueError:  # e.g. a broken IPv6 host; the server will judge the rest
        return False


def _redirection(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append(Problem(path, f"must be a URL string; got {_kind(value)}"))
    elif len(value) > MAX_REDIRECTION_LENGTH:
        out.append(Problem(path, f"must be at most {MAX_REDIRECTION_LENGTH} characters; got {len(value)}"))
    elif not REDIRECTION_PATTERN.match(value):
        out.append(Problem(path, f"must be a URL with a scheme (https://, shortcuts://, app:...); got {value[:60]!r}"))


def _json_data(value: Any, path: str, out: list[Problem]) -> None:
    """Free-form JSON (payload, webhook body): JSON types only, no NaN/Infinity."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                out.append(Problem(path, f"object keys must be strings; got {_kind(k)}"))
            else:
                _json_data(v, _join(path, k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _json_data(v, f"{path}[{i}]", out)
    elif isinstance(value, float) and not math.isfinite(value):
        out.append(Problem(path, f"must be a finite number (NaN/Infinity are not JSON); got {value!r}"))
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        out.append(Problem(path, f"must be JSON data (object, list, string, number, bool, null); got {_kind(value)}"))


def _json_object(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, Mapping):
        out.append(Problem(path, f"must be an object; got {_kind(value)}"))
    else:
        _json_data(value, path, out)


def _list_of(item: Check, *, min_items: int = 0, max_items: int | None = None, what: str = "items") -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, (list, tuple)):
            out.append(Problem(path, f"must be a list of {what}; got {_kind(value)}"))
            return
        if len(value) < min_items:
            out.append(Problem(path, f"must have at least {min_items} {what}; got {len(value)}"))
        if max_items is not None and len(value) > max_items:
            out.append(Problem(path, f"must have at most {max_items} {what}; got {len(value)}"))
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]", out)
    return check


class _Object:
    """An object with known fields: checks each field, required ones, and refuses unknown ones."""

    def __init__(
        self,
        fields: Mapping[str, Check],
        *,
        required: tuple[str, ...] = (),
        elsewhere: Callable[[str], str | None] | None = None,
        notes: Mapping[str, str] | None = None,
    ) -> None:
        self.fields = dict(fields)
        self.required = required
        self.notes = notes or {}  # field -> what to say when a required field is missing
        self.elsewhere = elsewhere  # explains a field that belongs somewhere else

    def __call__(self, value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, Mapping):
            out.append(Problem(path or "request", f"must be an object; got {_kind(value)}"))
            return
        for name in self.required:
            if value.get(name) is None:
                out.append(Problem(_join(path, name), self.notes.get(name, "is required")))
        for name, field_value in value.items():
            check = self.fields.get(name)
            if check is None:
                out.append(Problem(_join(path, str(name)), self._unknown(str(name))))
            elif field_value is not None:  # null means omitted (the SDK never sends it)
                check(field_value, _join(path, name), out)

    def _unknown(self, name: str) -> str:
        reason = self.elsewhere(name) if self.elsewhere else None
        if reason:
            return reason
        hint = _hint(name, self.fields)
        return f"unknown field{hint}" if hint else f"unknown field; allowed: {', '.join(self.fields)}"


# -- shared sub-objects ---------------------------------------------------------------------------

_COLOR = _enum(COLORS)
_TAG = _string(min_len=1, max_len=MAX_TAG_LENGTH)
_TAGS = _list_of(_TAG, what="tags")
_TAGS_MAX20 = _list_of(_TAG, max_items=MAX_TAGS_UPDATE, what="tags")
_CHANNELS = _list_of(_string(), min_items=1, what="channel slugs")
_TARGET = _Object({"channels": _CHANNELS}, required=("channels",))
_ICON = _Object({"symbol": _string(min_len=1), "color": _COLOR}, required=("symbol",))
_BADGE = _Object({"title": _string(min_len=1), "color": _COLOR}, required=("title",))
_ALERT = _Object({"title": _string(), "body": _string()})


_METRIC_STRING = _string(min_len=1, max_len=MAX_METRIC_STRING_LENGTH)


def _metric_value(value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, str):
        _METRIC_STRING(value, path, out)
    elif not (_is_number(value) and value >= 0):
        got = value if _is_number(value) else _kind(value)
        rule = f"a number >= 0 or a string of 1-{MAX_METRIC_STRING_LENGTH} characters"
        out.append(Problem(path, f"must be {rule}; got {got}"))


_METRIC = _Object(
    {"label": _string(min_len=1), "value": _metric_value, "unit": _string(), "color": _COLOR},
    required=("label", "value"),
)


def _display_value(value: Any, path: str, out: list[Problem]) -> None:
    if not (isinstance(value, str) or _is_number(value)):
        out.append(Problem(path, f"must be a string or a finite number; got {_kind(value)}"))


def _metadata(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, Mapping):
        out.append(Problem(path, f"must be an object of string/number/bool values; got {_kind(value)}"))
        return
    before = len(out)
    if len(value) > MAX_METADATA_ENTRIES:
        out.append(Problem(path, f"must have at most {MAX_METADATA_ENTRIES} entries; got {len(value)}"))
    for key, item in value.items():
        item_path = _join(path, str(key))
        if not isinstance(key, str) or len(key) > MAX_METADATA_KEY_LENGTH:
            out.append(Problem(item_path, f"keys must be strings of at most {MAX_METADATA_KEY_LENGTH} characters"))
        _metadata_value(item, item_path, out)
    if len(out) == before:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > MAX_METADATA_BYTES:
            out.append(Problem(path, f"must serialize to at most {MAX_METADATA_BYTES} bytes of JSON; got {size}"))


def _metadata_value(value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, str):
        if len(value) > MAX_METADATA_STRING_LENGTH:
            out.append(Problem(path, f"must be at most {MAX_METADATA_STRING_LENGTH} characters; got {len(value)}"))
    elif isinstance(value, bool) or _is_number(value):
        return
    elif value is None:
        out.append(Problem(path, "must be a string, finite number or bool; null is not allowed"))
    elif isinstance(value, (Mapping, list, tuple)):
        out.append(Problem(path, "must be a string, finite number or bool; nested objects and lists are not allowed"))
    else:
        out.append(Problem(path, f"must be a string, finite number or bool; got {_kind(value)}"))


# -- actions ------------------------------------------------------------------------------------------

_ACTION_FIELDS: dict[str, Check] = {
    "title": _string(), "type": _enum(ACTION_TYPES), "url": _string(),
    "method": _enum(WEBHOOK_METHODS), "body": _json_object,
}


def _action_check(*, push: bool) -> Check:
    shape = _Object(_ACTION_FIELDS, required=("title", "type", "url"),
                    notes={"type": f"is required: one of {', '.join(ACTION_TYPES)}"})

    def check(value: Any, path: str, out: list[Problem]) -> None:
        shape(value, path, out)
        if isinstance(value, Mapping) and value.get("type") in ACTION_TYPES and isinstance(value.get("url"), str):
            _action_url(value, path, out, push=push)
    return check


def _action_url(value: Mapping[str, Any], path: str, out: list[Problem], *, push: bool) -> None:
    url, url_path = value["url"], _join(path, "url")
    if value["type"] == "webhook":
        if not _HTTPS.match(url):
            out.append(Problem(url_path, f"a webhook URL must be https://; got {url[:60]!r}"))
    elif push:
        _redirection(url, url_path, out)
    elif not _LIVE_OPEN_URL.match(url):
        out.append(Problem(url_path, f"an open_url URL must be http(s):// or shortcuts://; got {url[:60]!r}"))


_PUSH_ACTION = _action_check(push=True)
_LIVE_ACTION = _action_check(push=False)

# -- content_state variants --------------------------------------------------------------------------

_STATE_BASE: dict[str, Check] = {
    "title": _string(), "subtitle": _string(),
    "number_of_steps": _integer(1), "current_step": _integer(0),
    "percentage": _number(0, 100), "value": _display_value, "upper_limit": _number(),
    "duration_seconds": _number(), "counts_down": _boolean, "is_running": _boolean,
    "type": _enum(TYPES), "color": _COLOR, "step_color": _COLOR,
    "step_colors": _list_of(_COLOR, what="colors"),
    "metrics": _list_of(_METRIC, min_items=MIN_METRICS, max_items=MAX_METRICS, what="metrics"),
    "message": _string(min_len=1), "icon": _ICON, "badge": _BADGE,
}
_STATE_FIELDS: dict[str, dict[str, Check]] = {
    "start": _STATE_BASE,
    "update": _STATE_BASE,
    "end": {**_STATE_BASE, "auto_dismiss_minutes": _integer(0)},
    "stream": {**_STATE_BASE, "auto_dismiss_seconds": _integer(0), "auto_dismiss_minutes": _integer(0)},
    "end_stream": {**_STATE_BASE, "auto_dismiss_seconds": _integer(0), "auto_dismiss_minutes": _integer(0)},
}


def _state_elsewhere(endpoint: str) -> Callable[[str], str | None]:
    def explain(name: str) -> str | None:
        others = [ep for ep, fields in _STATE_FIELDS.items() if name in fields and ep != endpoint]
        if others:
            return f"not accepted in content_state on {endpoint}; only on {', '.join(others)}"
        if name in _BODY_FIELDS.get(endpoint, {}):
            return "belongs at the top level of the request, not inside content_state"
        return None
    return explain


_TYPE_IS_REQUIRED = f"is required to start a Live Activity: one of {', '.join(TYPES)}"


def _state_check(endpoint: str) -> Check:
    required = ("title", "type") if endpoint == "start" else ("title",)
    notes = {"type": _TYPE_IS_REQUIRED}
    shape = _Object(_STATE_FIELDS[endpoint], required=required, elsewhere=_state_elsewhere(endpoint), notes=notes)

    def check(value: Any, path: str, out: list[Problem]) -> None:
        shape(value, path, out)
        if isinstance(value, Mapping):
            _state_cross_fields(endpoint, value, path, out)
    return check


def _state_cross_fields(endpoint: str, state: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    steps, current = state.get("number_of_steps"), state.get("current_step")
    if _is_int(steps) and _is_int(current) and steps >= 1 and current > steps:
        out.append(Problem(_join(path, "current_step"), f"must be <= number_of_steps ({steps}); got {current}"))
    kind = state.get("type")
    if endpoint == "start" and isinstance(kind, str) and kind in TYPES:
        _type_requirements(kind, state, path, out)


def type_requirements(state: Any, *, path: str = "content_state") -> list[Problem]:
    """What a content_state lacks to *start* an activity of its ``type`` (``type`` itself included).

    ``validate`` applies this on ``start``; a server applies it to the PUT that starts a stream,
    which only it can know.
    """
    if not isinstance(state, Mapping):
        return [Problem(path, f"must be an object; got {_kind(state)}")]
    kind = state.get("type")
    if kind is None:
        return [Problem(_join(path, "type"), _TYPE_IS_REQUIRED)]
    out: list[Problem] = []
    if isinstance(kind, str) and kind in TYPES:
        _type_requirements(kind, state, path, out)
    return out


def _type_requirements(kind: str, state: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    def missing(name: str, why: str) -> None:
        out.append(Problem(_join(path, name), f"is required for type {kind!r} ({why})"))

    def has(name: str) -> bool:
        return state.get(name) is not None

    if kind == "segmented_progress":
        for name in ("number_of_steps", "current_step"):
            if not has(name):
                missing(name, "needs number_of_steps and current_step")
    elif kind == "progress":
        if not has("percentage"):
            if not (has("value") and has("upper_limit")):
                missing("percentage", "send percentage 0-100, or value with upper_limit")
            elif isinstance(state["value"], str):
                message = "must be a number for type 'progress' (used with upper_limit)"
                out.append(Problem(_join(path, "value"), message))
    elif kind in ("metrics", "stats"):
        if not has("metrics"):
            missing("metrics", f"send {MIN_METRICS}-{MAX_METRICS} metrics")
    elif kind == "value":
        if not has("value"):
            missing("value", "the string or number to show")
    elif kind == "alert":
        if not has("message"):
            missing("message", "the alert text")
    elif kind == "timer":
        if not has("duration_seconds") and state.get("counts_down") is not False:
            missing("duration_seconds", "a countdown needs it; send counts_down: false for a count-up timer")


# -- request bodies per endpoint -------------------------------------------------------------------

def _metric_endpoint_value(value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, str):
        _METRIC_STRING(value, path, out)
    elif not _is_number(value):
        rule = f"a finite number or a string of 1-{MAX_METRIC_STRING_LENGTH} characters"
        out.append(Problem(path, f"must be {rule}; got {_kind(value)}"))


def _timestamp(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or _parse_iso(value) is None:
        got = repr(value[:40]) if isinstance(value, str) else _kind(value)
        rule = "an ISO 8601 date-time string (e.g. 2026-01-02T03:04:05+00:00)"
        out.append(Problem(path, f"must be {rule}; got {got}"))


_PUSH_COMMON: dict[str, Check] = {
    "metadata": _metadata, "title": _string(), "message": _string(), "subtitle": _string(),
    "icon": _icon_url, "media": _https_url, "redirection": _redirection,
    "actions": _list_of(_PUSH_ACTION, max_items=MAX_ACTIONS, what="actions"),
    "payload": _json_object, "badge": _integer(), "tags": _TAGS,
}
_LIVE_COMMON: dict[str, Check] = {
    "metadata": _metadata, "action": _LIVE_ACTION, "secondary_action": _LIVE_ACTION,
}
_BODY_FIELDS: dict[str, dict[str, Check]] = {
    "push": {**_PUSH_COMMON, "interruption_level": _enum(INTERRUPTION_LEVELS), "sound": _string(),
             "target": _TARGET},
    "replace": dict(_PUSH_COMMON),
    "start": {**_LIVE_COMMON, "content_state": _state_check("start"), "alert": _ALERT, "target": _TARGET,
              "tags": _TAGS},
    "update": {**_LIVE_COMMON, "activity_id": _string(min_len=1), "content_state": _state_check("update"),
               "tags": _TAGS_MAX20},
    "end": {**_LIVE_COMMON, "activity_id": _string(min_len=1), "content_state": _state_check("end"),
            "tags": _TAGS_MAX20},
    "stream": {**_LIVE_COMMON, "content_state": _state_check("stream"), "alert": _ALERT,
               "channels": _CHANNELS, "target": _TARGET, "tags": _TAGS},
    "end_stream": {**_LIVE_COMMON, "content_state": _state_check("end_stream"), "alert": _ALERT, "tags": _TAGS},
    "metric": {"value": _metric_endpoint_value, "timestamp": _timestamp},
    "badge": {"badge": _integer(0, MAX_BADGE), "target": _TARGET},
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "push": ("title",), "replace": ("title",), "start": ("content_state",),
    "update": ("activity_id", "content_state"), "end": ("activity_id", "content_state"),
    "stream": ("content_state",), "end_stream": (), "metric": ("value",), "badge": ("badge",),
}


def _body_elsewhere(endpoint: str) -> Callable[[str], str | None]:
    def explain(name: str) -> str | None:
        if endpoint in _STATE_FIELDS and name in _STATE_FIELDS[endpoint]:
            return "belongs inside content_state"
        if name in ("channels", "target") and endpoint not in _CHANNEL_ENDPOINTS:
            return f"not accepted on {endpoint}: recipients are chosen by push/start/stream (channels or target)"
        if name == "channels" and endpoint in _CHANNEL_ENDPOINTS:
            return 'send target: {"channels": [...]} (a top-level channels list is only accepted on stream)'
        others = [ep for ep, fields in _BODY_FIELDS.items() if name in fields and ep != endpoint]
        if others:
            return f"not accepted on {endpoint}; only on {', '.join(others)}"
        return None
    return explain


_BODY_NOTES = {
    "activity_id": "is required: the activity_id returned by start",
    "content_state": 'is required: the Live Activity state, e.g. {"title": "...", "type": "progress", ...}',
    "badge": f"is required: the count to show, an integer 0-{MAX_BADGE} (0 clears it)",
}
_BODIES: dict[str, _Object] = {
    ep: _Object(fields, required=_REQUIRED[ep], elsewhere=_body_elsewhere(ep), notes=_BODY_NOTES)
    for ep, fields in _BODY_FIELDS.items()
}


# -- cross-field rules on the body and the path parameter -------------------------------------------

def _body_cross_fields(endpoint: str, body: Mapping[str, Any], out: list[Problem]) -> None:
    if endpoint in ("push", "replace") and _has_media(body) and _has_actions(body):
        out.append(Problem("actions", "cannot be combined with media; send one or the other"))
    if endpoint == "stream":
        channels, target = body.get("channels"), body.get("target")
        target_channels = target.get("channels") if isinstance(target, Mapping) else None
        if (isinstance(channels, (list, tuple)) and isinstance(target_channels, (list, tuple))
                and _channel_set(channels) != _channel_set(target_channels)):
            out.append(Problem("channels", "must match target.channels when both are sent"))


def _channel_set(items: Iterable[Any]) -> set[str]:
    return {item for item in items if isinstance(item, str)}


def _has_media(body: Mapping[str, Any]) -> bool:
    media = body.get("media")
    return media.strip() != "" if isinstance(media, str) else media is not None


def _has_actions(body: Mapping[str, Any]) -> bool:
    actions = body.get("actions")
    if actions is None:
        return False
    return len(actions) > 0 if isinstance(actions, (list, tuple, Mapping)) else True


_KEY_NAMES = {"stream": "stream_key", "end_stream": "stream_key", "metric": "key", "replace": "notification_id"}


def _key_problems(endpoint: str, key: Any, out: list[Problem]) -> None:
    name = _KEY_NAMES.get(endpoint)
    if name is None or key is None:
        return
    if not isinstance(key, str):
        out.append(Problem(name, f"must be a string; got {_kind(key)}"))
    elif name == "stream_key":
        _key_rule(key, name, MAX_STREAM_KEY_LENGTH, STREAM_KEY_PATTERN, "letters, digits, '_' and '-'", out)
    elif name == "key":
        _key_rule(key, name, MAX_METRIC_KEY_LENGTH, METRIC_KEY_PATTERN,
                  "lowercase letters, digits, '.', '_' and '-'", out)
    elif not key:
        out.append(Problem(name, "must be the non-empty notification_id returned by send"))


def _key_rule(key: str, name: str, max_len: int, pattern: re.Pattern[str], chars: str, out: list[Problem]) -> None:
    if not 1 <= len(key) <= max_len:
        out.append(Problem(name, f"must be 1-{max_len} characters; got {len(key)}"))
    elif not pattern.match(key):
        out.append(Problem(name, f"may only contain {chars}; got {key!r}"))


# --------------------------------------------------------------------------------------------------
# Public validation API
# --------------------------------------------------------------------------------------------------


def validate(endpoint: Endpoint | str, body: Any, *, key: Any = None) -> list[Problem]:
    """Every problem in ``body`` for ``endpoint`` (and in the path parameter ``key``); [] when valid."""
    _require_endpoint(endpoint)
    out: list[Problem] = []
    _key_problems(endpoint, key, out)
    if endpoint == "end_stream" and body is None:
        return out  # DELETE without a body is allowed
    _BODIES[endpoint](body, "", out)
    if isinstance(body, Mapping):
        _body_cross_fields(endpoint, body, out)
    return out


def check(endpoint: Endpoint | str, body: Any, *, key: Any = None) -> None:
    """Raise :class:`PayloadError` listing every problem, if there is any."""
    problems = validate(endpoint, body, key=key)
    if problems:
        raise PayloadError(problems, endpoint=endpoint)


def prepare(endpoint: Endpoint | str, request: Any = None, *, key: Any = None, **fields: Any) -> dict[str, Any]:
    """``build_request`` + ``check``: the body to send, or PayloadError before anything is sent."""
    body = build_request(endpoint, request, **fields)
    check(endpoint, body, key=key)
    return body


_NOT_STREAM_KEY_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def stream_key_from(text: str | None, *, default: str, max_length: int = MAX_STREAM_KEY_LENGTH) -> str:
    """A valid stream key made from free text (a bar's description, a cell's title): every run of other
    characters becomes '-', the ends are trimmed, and `default` stands in when nothing is left."""
    slug = _NOT_STREAM_KEY_CHARS.sub("-", text or "").strip("-_")
    return slug[:max_length].rstrip("-_") or default

"""Request building with the official SDK 1.14.0's merging rules, on plain data.

* helpers with the SDK's signatures (``content_state``, ``metric``, ``action``, ``alert_icon``, ``alert_badge``),
* ``build_request``: dict (or SDK model) + keywords, ``content_state=``, ``channels`` -> ``target``;
  never mutates its inputs and does not validate (``bodies.validate`` does), except for what the
  merge itself cannot carry: unknown keywords, a request that is not an object, unusable ``channels``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..errors import PayloadError, Problem
from .checks import hint, kind_of
from .plain import compact, drop_nulls, parse_iso, to_plain
from .rules import CHANNEL_ENDPOINTS, ENDPOINTS, KEYWORDS, LIVE_KEYWORDS, Endpoint

__all__ = ["PayloadTypeError", "action", "alert_badge", "alert_icon", "build_request", "content_state",
           "keywords_for", "metric", "require_endpoint"]


class PayloadTypeError(PayloadError, TypeError):
    """The request is not an object (a string, bytes, a list...). A PayloadError, and a TypeError as
    the official SDK raises for it."""


# -- helpers (official SDK signatures; None values are dropped) -------------------------------------

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
    return compact({
        "title": title, "subtitle": subtitle, "type": type, "message": message, "icon": icon,
        "badge": badge, "metrics": metrics, "number_of_steps": number_of_steps,
        "current_step": current_step, "percentage": percentage, "value": value,
        "upper_limit": upper_limit, "duration_seconds": duration_seconds, "counts_down": counts_down,
        "is_running": is_running, "color": color, "step_color": step_color, "step_colors": step_colors,
        "auto_dismiss_seconds": auto_dismiss_seconds, "auto_dismiss_minutes": auto_dismiss_minutes,
    })


def metric(label: str, value: Any, *, unit: str | None = None, color: str | None = None) -> dict[str, Any]:
    """One metric for ``metrics``/``stats`` activities."""
    return compact({"label": label, "value": value, "unit": unit, "color": color})


def action(
    title: str, type: str, url: str, *, method: str | None = None, body: Any | None = None
) -> dict[str, Any]:
    """A button: ``open_url`` or ``webhook`` (webhooks take ``method`` and ``body``)."""
    return compact({"title": title, "type": type, "url": url, "method": method, "body": body})


def alert_icon(symbol: str, *, color: str | None = None) -> dict[str, Any]:
    """An SF Symbol icon for a content_state."""
    return compact({"symbol": symbol, "color": color})


def alert_badge(title: str, *, color: str | None = None) -> dict[str, Any]:
    """A small badge for a content_state."""
    return compact({"title": title, "color": color})


# -- build_request ----------------------------------------------------------------------------------

def require_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {', '.join(ENDPOINTS)}")


def keywords_for(endpoint: str) -> frozenset[str]:
    """The keyword fields ``build_request`` accepts for ``endpoint``."""
    require_endpoint(endpoint)
    return KEYWORDS[endpoint]


def build_request(endpoint: Endpoint | str, request: Any = None, **fields: Any) -> dict[str, Any]:
    """Merge a dict request and keyword fields exactly like the official SDK; does not validate.

    Keywords whose value is None are ignored (as in the SDK). Content-state keywords and
    ``content_state=`` are merged into ``content_state``. ``channels`` becomes ``target.channels`` on
    push/start/stream/badge. For ``metric``, ``request`` is the value (or a ``{"value": ...}`` dict);
    for ``badge`` it is the count (or a dict). SDK model objects are accepted at any depth. The
    result shares nothing mutable with the inputs.
    """
    require_endpoint(endpoint)
    _refuse_unknown_keywords(endpoint, fields)
    if endpoint in ("push", "replace"):
        body = _merge_fields(endpoint, request, compact(fields))
    elif endpoint == "metric":
        body = _build_metric(request, fields)
    elif endpoint == "badge":
        body = _build_badge(request, fields)
    else:
        body = _build_live(endpoint, request, fields)
    if endpoint in CHANNEL_ENDPOINTS:
        body = _channels_to_target(endpoint, body, keep_with_target=endpoint == "stream")
    result: dict[str, Any] = drop_nulls(body)
    return result


def _refuse_unknown_keywords(endpoint: str, fields: Mapping[str, Any]) -> None:
    allowed = KEYWORDS[endpoint]
    problems = [
        Problem(name, f"not a keyword of {endpoint}{hint(name, allowed)}")
        for name in fields if name not in allowed
    ]
    if problems:
        raise PayloadError(problems, endpoint=endpoint)


def _merge_fields(endpoint: str, request: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """A plain copy of ``request`` (a mapping, an SDK model or None) with ``fields`` merged over it."""
    plain = to_plain(request)
    if plain is None:
        body: dict[str, Any] = {}
    elif isinstance(plain, Mapping):
        body = dict(plain)
    else:
        raise PayloadTypeError(Problem("request", _not_an_object(endpoint, request)), endpoint=endpoint)
    body.update(to_plain(fields))
    return body


def _not_an_object(endpoint: str, request: Any) -> str:
    got = "bytes" if isinstance(request, (bytes, bytearray)) else kind_of(request)
    text = " (JSON text? pass json.loads(text))" if isinstance(request, (str, bytes, bytearray)) else ""
    return f"the {endpoint} request must be a dict of its fields (or an SDK request model); got {got}{text}"


def _build_live(endpoint: str, request: Any, fields: dict[str, Any]) -> dict[str, Any]:
    content_names, _ = LIVE_KEYWORDS[endpoint]
    state_fields = compact({k: v for k, v in fields.items() if k in content_names})
    explicit_state = fields.get("content_state")
    request_fields = compact({k: v for k, v in fields.items() if k not in content_names and k != "content_state"})
    body = _merge_fields(endpoint, request, {})
    for extra in (explicit_state, state_fields or None):
        if extra is not None:
            body["content_state"] = _merge_state(body.get("content_state"), extra)
    body.update(to_plain(request_fields))
    return body


def _merge_state(existing: Any, extra: Any) -> Any:
    extra = to_plain(extra)
    if existing is None:
        return extra
    if isinstance(existing, Mapping) and isinstance(extra, Mapping):
        return {**existing, **extra}
    raise PayloadError(Problem("content_state", "must be an object to merge content-state fields into it"))


_CHANNELS_RULE = "a list of channel slugs (strings) or one comma-separated string"


def _channels_to_target(endpoint: str, body: dict[str, Any], *, keep_with_target: bool) -> dict[str, Any]:
    """``channels`` (list or comma string) -> ``target.channels``, unless ``target`` is present.

    With ``target`` present, ``channels`` is left alone: stream sends both, while the push, start and
    badge models have no such field, so the SDK drops it from the wire. ``channels`` holding anything
    but strings are refused: dropping them, as the SDK does, would send to every device on the key.
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
        strangers = [i for i, item in enumerate(raw) if not isinstance(item, str)]
        if strangers:
            first = strangers[0]
            message = f"must be {_CHANNELS_RULE}; item {first} is {kind_of(raw[first])}"
            raise PayloadError(Problem("channels", message), endpoint=endpoint)
    else:
        raise PayloadError(Problem("channels", f"must be {_CHANNELS_RULE}; got {kind_of(raw)}"), endpoint=endpoint)
    channels = [item.strip() for item in items if item.strip()]
    if channels:  # blank channels mean none, as in the SDK
        body["target"] = {"channels": channels}
    return body


def _build_metric(request: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """SDK ``metrics.update(key, value_or_request, timestamp)``: a bare value becomes {"value": v}."""
    plain = to_plain(request)
    if isinstance(plain, Mapping) and "value" in plain:
        body = dict(plain)
    else:
        body = {} if plain is None else {"value": plain}
    if fields.get("value") is not None:
        body["value"] = to_plain(fields["value"])
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
        parsed = parse_iso(value)
        return parsed.isoformat() if parsed is not None else value
    return value


def _build_badge(request: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """SDK ``badge_count(value, channels=None)``; ``request`` may also be a whole body dict."""
    plain = to_plain(request)
    body = dict(plain) if isinstance(plain, Mapping) else compact({"badge": plain})
    body.update(compact({"badge": to_plain(fields.get("value"))}))
    body.update(to_plain(compact({k: fields.get(k) for k in ("badge", "channels", "target")})))
    return body

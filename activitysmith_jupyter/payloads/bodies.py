"""The per-endpoint rule tables and the validation API (``validate``, ``check``, ``prepare``).

Each endpoint's body is an :class:`ObjectCheck` of its fields; content_state has one variant per
endpoint; ``type_requirements`` says what a type needs to *start*; cross-field rules and the path
parameter (stream key, metric key, notification id) are checked last. ``validate`` reports every problem.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import PayloadError, Problem
from .build import build_request, require_endpoint
from .checks import (
    ALERT,
    BADGE,
    CHANNELS,
    COLOR,
    ICON,
    METRIC,
    METRIC_STRING,
    TAGS,
    TAGS_MAX20,
    TARGET,
    Check,
    ObjectCheck,
    boolean,
    display_value,
    enum,
    https_url,
    icon_url,
    integer,
    is_int,
    is_number,
    join,
    json_object,
    kind_of,
    list_of,
    metadata_check,
    number,
    redirection,
    string,
)
from .plain import parse_iso
from .rules import (
    ACTION_TYPES,
    CHANNEL_ENDPOINTS,
    INTERRUPTION_LEVELS,
    MAX_ACTIONS,
    MAX_BADGE,
    MAX_METRIC_KEY_LENGTH,
    MAX_METRIC_STRING_LENGTH,
    MAX_METRICS,
    METRIC_KEY_PATTERN,
    MIN_METRICS,
    TYPES,
    WEBHOOK_METHODS,
    Endpoint,
    stream_key_problem,
)

__all__ = ["check", "prepare", "type_requirements", "validate"]

_HTTPS = re.compile(r"^https://", re.IGNORECASE)
_LIVE_OPEN_URL = re.compile(r"^(https?|shortcuts)://", re.IGNORECASE)

# -- actions ------------------------------------------------------------------------------------------

_ACTION_FIELDS: dict[str, Check] = {
    "title": string(), "type": enum(ACTION_TYPES), "url": string(),
    "method": enum(WEBHOOK_METHODS), "body": json_object,
}


def _action_check(*, push: bool) -> Check:
    shape = ObjectCheck(_ACTION_FIELDS, required=("title", "type", "url"),
                        notes={"type": f"is required: one of {', '.join(ACTION_TYPES)}"})

    def check(value: Any, path: str, out: list[Problem]) -> None:
        shape(value, path, out)
        if isinstance(value, Mapping) and value.get("type") in ACTION_TYPES and isinstance(value.get("url"), str):
            _action_url(value, path, out, push=push)
    return check


def _action_url(value: Mapping[str, Any], path: str, out: list[Problem], *, push: bool) -> None:
    url, url_path = value["url"], join(path, "url")
    if value["type"] == "webhook":
        if not _HTTPS.match(url):
            out.append(Problem(url_path, f"a webhook URL must be https://; got {url[:60]!r}"))
    elif push:
        redirection(url, url_path, out)
    elif not _LIVE_OPEN_URL.match(url):
        out.append(Problem(url_path, f"an open_url URL must be http(s):// or shortcuts://; got {url[:60]!r}"))


_PUSH_ACTION = _action_check(push=True)
_LIVE_ACTION = _action_check(push=False)

# -- content_state variants --------------------------------------------------------------------------

_STATE_BASE: dict[str, Check] = {
    "title": string(), "subtitle": string(),
    "number_of_steps": integer(1), "current_step": integer(0),
    "percentage": number(0, 100), "value": display_value, "upper_limit": number(),
    "duration_seconds": number(), "counts_down": boolean, "is_running": boolean,
    "type": enum(TYPES), "color": COLOR, "step_color": COLOR,
    "step_colors": list_of(COLOR, what="colors"),
    "metrics": list_of(METRIC, min_items=MIN_METRICS, max_items=MAX_METRICS, what="metrics"),
    "message": string(min_len=1), "icon": ICON, "badge": BADGE,
}
_STATE_FIELDS: dict[str, dict[str, Check]] = {
    "start": _STATE_BASE,
    "update": _STATE_BASE,
    "end": {**_STATE_BASE, "auto_dismiss_minutes": integer(0)},
    "stream": {**_STATE_BASE, "auto_dismiss_seconds": integer(0), "auto_dismiss_minutes": integer(0)},
    "end_stream": {**_STATE_BASE, "auto_dismiss_seconds": integer(0), "auto_dismiss_minutes": integer(0)},
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
    shape = ObjectCheck(_STATE_FIELDS[endpoint], required=required, elsewhere=_state_elsewhere(endpoint), notes=notes)

    def check(value: Any, path: str, out: list[Problem]) -> None:
        shape(value, path, out)
        if isinstance(value, Mapping):
            _state_cross_fields(endpoint, value, path, out)
    return check


def _state_cross_fields(endpoint: str, state: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    steps, current = state.get("number_of_steps"), state.get("current_step")
    if is_int(steps) and is_int(current) and steps >= 1 and current > steps:
        out.append(Problem(join(path, "current_step"), f"must be <= number_of_steps ({steps}); got {current}"))
    kind = state.get("type")
    if endpoint == "start" and isinstance(kind, str) and kind in TYPES:
        _type_requirements(kind, state, path, out)


def type_requirements(state: Any, *, path: str = "content_state") -> list[Problem]:
    """What a content_state lacks to *start* an activity of its ``type`` (``type`` itself included).

    ``validate`` applies this on ``start``; a server applies it to the PUT that starts a stream,
    which only it can know.
    """
    if not isinstance(state, Mapping):
        return [Problem(path, f"must be an object; got {kind_of(state)}")]
    kind = state.get("type")
    if kind is None:
        return [Problem(join(path, "type"), _TYPE_IS_REQUIRED)]
    out: list[Problem] = []
    if isinstance(kind, str) and kind in TYPES:
        _type_requirements(kind, state, path, out)
    return out


def _type_requirements(kind: str, state: Mapping[str, Any], path: str, out: list[Problem]) -> None:
    def missing(name: str, why: str) -> None:
        out.append(Problem(join(path, name), f"is required for type {kind!r} ({why})"))

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
                out.append(Problem(join(path, "value"), message))
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
        METRIC_STRING(value, path, out)
    elif not is_number(value):
        rule = f"a finite number or a string of 1-{MAX_METRIC_STRING_LENGTH} characters"
        out.append(Problem(path, f"must be {rule}; got {kind_of(value)}"))


def _timestamp(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str) or parse_iso(value) is None:
        got = repr(value[:40]) if isinstance(value, str) else kind_of(value)
        rule = "an ISO 8601 date-time string (e.g. 2026-01-02T03:04:05+00:00)"
        out.append(Problem(path, f"must be {rule}; got {got}"))


_PUSH_COMMON: dict[str, Check] = {
    "metadata": metadata_check, "title": string(), "message": string(), "subtitle": string(),
    "icon": icon_url, "media": https_url, "redirection": redirection,
    "actions": list_of(_PUSH_ACTION, max_items=MAX_ACTIONS, what="actions"),
    "payload": json_object, "badge": integer(), "tags": TAGS,
}
_LIVE_COMMON: dict[str, Check] = {
    "metadata": metadata_check, "action": _LIVE_ACTION, "secondary_action": _LIVE_ACTION,
}
_BODY_FIELDS: dict[str, dict[str, Check]] = {
    "push": {**_PUSH_COMMON, "interruption_level": enum(INTERRUPTION_LEVELS), "sound": string(),
             "target": TARGET},
    "replace": dict(_PUSH_COMMON),
    "start": {**_LIVE_COMMON, "content_state": _state_check("start"), "alert": ALERT, "target": TARGET,
              "tags": TAGS},
    "update": {**_LIVE_COMMON, "activity_id": string(min_len=1), "content_state": _state_check("update"),
               "tags": TAGS_MAX20},
    "end": {**_LIVE_COMMON, "activity_id": string(min_len=1), "content_state": _state_check("end"),
            "tags": TAGS_MAX20},
    "stream": {**_LIVE_COMMON, "content_state": _state_check("stream"), "alert": ALERT,
               "channels": CHANNELS, "target": TARGET, "tags": TAGS},
    "end_stream": {**_LIVE_COMMON, "content_state": _state_check("end_stream"), "alert": ALERT, "tags": TAGS},
    "metric": {"value": _metric_endpoint_value, "timestamp": _timestamp},
    "badge": {"badge": integer(0, MAX_BADGE), "target": TARGET},
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
        if name in ("channels", "target") and endpoint not in CHANNEL_ENDPOINTS:
            return f"not accepted on {endpoint}: recipients are chosen by push/start/stream (channels or target)"
        if name == "channels" and endpoint in CHANNEL_ENDPOINTS:
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
_BODIES: dict[str, ObjectCheck] = {
    ep: ObjectCheck(fields, required=_REQUIRED[ep], elsewhere=_body_elsewhere(ep), notes=_BODY_NOTES)
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
    if not isinstance(key, str) and name != "stream_key":
        out.append(Problem(name, f"must be a string; got {kind_of(key)}"))
    elif name == "stream_key":
        problem = stream_key_problem(key)
        if problem:
            out.append(Problem(name, problem))
    elif name == "key":
        if not 1 <= len(key) <= MAX_METRIC_KEY_LENGTH:
            out.append(Problem(name, f"must be 1-{MAX_METRIC_KEY_LENGTH} characters; got {len(key)}"))
        elif not METRIC_KEY_PATTERN.match(key):
            out.append(Problem(name, f"may only contain lowercase letters, digits, '.', '_' and '-'; got {key!r}"))
    elif not key:
        out.append(Problem(name, "must be the non-empty notification_id returned by send"))


# -- the validation API ------------------------------------------------------------------------------


def validate(endpoint: Endpoint | str, body: Any, *, key: Any = None) -> list[Problem]:
    """Every problem in ``body`` for ``endpoint`` (and in the path parameter ``key``); [] when valid."""
    require_endpoint(endpoint)
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

"""The API's facts as data: endpoints, enums, limits, key rules, the keyword fields of each call and
which content-state fields each Live Activity type uses."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

__all__ = [
    "Endpoint", "ENDPOINTS", "TYPES", "COLORS", "INTERRUPTION_LEVELS", "ACTION_TYPES", "WEBHOOK_METHODS",
    "STREAM_OPERATIONS", "STREAM_KEY_PATTERN", "METRIC_KEY_PATTERN", "REDIRECTION_PATTERN", "SCRIPT_SCHEMES",
    "MAX_ACTIONS", "MIN_METRICS", "MAX_METRICS", "MAX_TAGS_UPDATE", "MAX_TAG_LENGTH", "MAX_STREAM_KEY_LENGTH",
    "MAX_METRIC_KEY_LENGTH", "MAX_METRIC_STRING_LENGTH", "MAX_REDIRECTION_LENGTH", "MAX_BADGE",
    "MAX_METADATA_ENTRIES", "MAX_METADATA_KEY_LENGTH", "MAX_METADATA_STRING_LENGTH", "MAX_METADATA_BYTES",
    "CONTENT_STATE_DEFAULTS", "END_AUTO_DISMISS_MINUTES_DEFAULT", "TYPE_FIELDS", "CHANNEL_ENDPOINTS",
    "CONTENT_KEYWORDS", "LIVE_KEYWORDS", "KEYWORDS", "STREAM_KEY_RULE", "stream_key_problem", "stream_key_from",
]

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
# URL schemes a tap must never open: they run script or show inline data (the API blocks them too).
SCRIPT_SCHEMES = ("javascript", "data", "vbscript")

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

# Which content-state fields (and secondary_action) each Live Activity type uses, from the API's
# feature matrix: icon on all types; badge and secondary_action on alert, progress, segmented, value.
_EVERY_TYPE = ("title", "subtitle", "icon")
TYPE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "segmented_progress": (*_EVERY_TYPE, "number_of_steps", "current_step", "color", "step_color", "step_colors",
                           "badge", "secondary_action"),
    "progress": (*_EVERY_TYPE, "percentage", "value", "upper_limit", "color", "badge", "secondary_action"),
    "metrics": (*_EVERY_TYPE, "metrics", "color"),
    "stats": (*_EVERY_TYPE, "metrics"),
    "value": (*_EVERY_TYPE, "value", "color", "badge", "secondary_action"),
    "alert": (*_EVERY_TYPE, "message", "color", "badge", "secondary_action"),
    "timer": (*_EVERY_TYPE, "duration_seconds", "counts_down", "is_running", "color"),
}

# -- keyword fields per endpoint (the SDK's method signatures) --------------------------------------

CONTENT_KEYWORDS = (
    "title", "subtitle", "type", "message", "icon", "badge", "metrics", "number_of_steps", "current_step",
    "percentage", "value", "upper_limit", "duration_seconds", "counts_down", "color", "step_color",
)
_PUSH_KEYWORDS = (
    "title", "message", "subtitle", "media", "redirection", "actions", "target", "channels", "tags",
    "metadata", "icon", "interruption_level",
)
_REPLACE_KEYWORDS = tuple(k for k in _PUSH_KEYWORDS if k not in ("target", "channels", "interruption_level"))

# endpoint -> (content_state keywords, request-level keywords)
LIVE_KEYWORDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "start": (CONTENT_KEYWORDS,
              ("content_state", "action", "secondary_action", "alert", "target", "channels", "tags", "metadata")),
    "update": (CONTENT_KEYWORDS,
               ("activity_id", "content_state", "action", "secondary_action", "tags", "metadata")),
    "end": (CONTENT_KEYWORDS + ("auto_dismiss_minutes",),
            ("activity_id", "content_state", "action", "secondary_action", "tags", "metadata")),
    "stream": (CONTENT_KEYWORDS,
               ("content_state", "action", "secondary_action", "alert", "target", "channels", "tags", "metadata")),
    # the SDK refuses auto_dismiss_seconds= on end_stream; we accept it (the model has the field)
    "end_stream": (CONTENT_KEYWORDS + ("auto_dismiss_minutes", "auto_dismiss_seconds"),
                   ("content_state", "action", "secondary_action", "alert", "tags", "metadata")),
}
CHANNEL_ENDPOINTS = frozenset({"push", "start", "stream", "badge"})
KEYWORDS: Mapping[str, frozenset[str]] = {
    "push": frozenset(_PUSH_KEYWORDS),
    "replace": frozenset(_REPLACE_KEYWORDS),
    "metric": frozenset({"value", "timestamp"}),
    "badge": frozenset({"value", "badge", "channels", "target"}),
    **{ep: frozenset(content + request) for ep, (content, request) in LIVE_KEYWORDS.items()},
}

# -- the stream-key rule, worded once (validation, the magic's --key, tqdm's stream_key=, the Composer) --

_STREAM_KEY_CHARS = "letters, digits, '_' and '-'"
STREAM_KEY_RULE = f"1-{MAX_STREAM_KEY_LENGTH} characters: {_STREAM_KEY_CHARS}"


def stream_key_problem(key: object) -> str | None:
    """What is wrong with ``key`` as a stream key (None when it is valid), in the words every caller uses."""
    if not isinstance(key, str):
        kind = "null" if key is None else type(key).__name__
        return f"must be a string of {STREAM_KEY_RULE}; got {kind}"
    if not 1 <= len(key) <= MAX_STREAM_KEY_LENGTH:
        return f"must be 1-{MAX_STREAM_KEY_LENGTH} characters; got {len(key)}"
    if not STREAM_KEY_PATTERN.match(key):
        return f"may only contain {_STREAM_KEY_CHARS}; got {key!r}"
    return None


_NOT_STREAM_KEY_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def stream_key_from(text: str | None, *, default: str, max_length: int = MAX_STREAM_KEY_LENGTH) -> str:
    """A valid stream key made from free text (a bar's description, a cell's title): every run of other
    characters becomes '-', the ends are trimmed, and `default` stands in when nothing is left."""
    slug = _NOT_STREAM_KEY_CHARS.sub("-", text or "").strip("-_")
    return slug[:max_length].rstrip("-_") or default

"""The ActivitySmith API's rules, in one place (pure Python, no pydantic; cheap enough for every update).

* ``rules``: constants (types, colors, levels, limits, key patterns), the per-type field matrix
  ``TYPE_FIELDS``, the keyword fields of each call, the stream-key rule (``stream_key_problem``),
* ``plain``: SDK model objects, enums and NumPy scalars -> plain JSON-like data, at any depth,
* ``build``: helpers with the official SDK's signatures (``content_state``, ``metric``, ``action``, ...)
  and ``build_request``, the SDK 1.14.0's request merging on plain data,
* ``checks`` + ``bodies``: ``validate`` (every problem, each with a field path and what is allowed),
  ``check`` / ``prepare`` (the same, raising :class:`PayloadError`).

The client validates before sending, the simulator validates what it receives and the Composer
shows the problems live. The facts come from ``/work/shared/activitysmith-api.md`` and the SDK's models.
"""
from __future__ import annotations

from ..errors import PayloadError, Problem
from .bodies import check, prepare, type_requirements, validate
from .build import (
    PayloadTypeError,
    action,
    alert_badge,
    alert_icon,
    build_request,
    content_state,
    keywords_for,
    metric,
)
from .plain import to_plain
from .rules import (
    ACTION_TYPES,
    COLORS,
    CONTENT_STATE_DEFAULTS,
    END_AUTO_DISMISS_MINUTES_DEFAULT,
    ENDPOINTS,
    INTERRUPTION_LEVELS,
    MAX_ACTIONS,
    MAX_BADGE,
    MAX_METADATA_BYTES,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_STRING_LENGTH,
    MAX_METRIC_KEY_LENGTH,
    MAX_METRIC_STRING_LENGTH,
    MAX_METRICS,
    MAX_REDIRECTION_LENGTH,
    MAX_STREAM_KEY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_UPDATE,
    METRIC_KEY_PATTERN,
    MIN_METRICS,
    REDIRECTION_PATTERN,
    SCRIPT_SCHEMES,
    STREAM_KEY_PATTERN,
    STREAM_KEY_RULE,
    STREAM_OPERATIONS,
    TYPE_FIELDS,
    TYPES,
    WEBHOOK_METHODS,
    Endpoint,
    stream_key_from,
    stream_key_problem,
)

__all__ = [
    # constants
    "Endpoint", "ENDPOINTS", "TYPES", "COLORS", "INTERRUPTION_LEVELS", "ACTION_TYPES", "WEBHOOK_METHODS",
    "STREAM_OPERATIONS", "STREAM_KEY_PATTERN", "METRIC_KEY_PATTERN", "REDIRECTION_PATTERN", "SCRIPT_SCHEMES",
    "MAX_ACTIONS", "MIN_METRICS", "MAX_METRICS", "MAX_TAGS_UPDATE", "MAX_TAG_LENGTH", "MAX_STREAM_KEY_LENGTH",
    "MAX_METRIC_KEY_LENGTH", "MAX_METRIC_STRING_LENGTH", "MAX_REDIRECTION_LENGTH", "MAX_BADGE",
    "MAX_METADATA_ENTRIES", "MAX_METADATA_KEY_LENGTH", "MAX_METADATA_STRING_LENGTH", "MAX_METADATA_BYTES",
    "CONTENT_STATE_DEFAULTS", "END_AUTO_DISMISS_MINUTES_DEFAULT", "TYPE_FIELDS", "STREAM_KEY_RULE",
    # helpers
    "content_state", "metric", "action", "alert_icon", "alert_badge", "type_requirements", "stream_key_from",
    "stream_key_problem", "to_plain",
    # building and validation
    "Problem", "PayloadError", "PayloadTypeError", "build_request", "validate", "check", "prepare", "keywords_for",
]

"""Small composable checkers: each ``check(value, path, out)`` appends a :class:`Problem` per fault,
naming the field path and what is allowed. ``ObjectCheck`` composes them into an object shape;
the shared sub-objects (colors, tags, target, icon, badge, alert, metric, metadata) live here too.
"""
from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from ..errors import Problem
from .rules import (
    COLORS,
    MAX_METADATA_BYTES,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_LENGTH,
    MAX_METADATA_STRING_LENGTH,
    MAX_METRIC_STRING_LENGTH,
    MAX_REDIRECTION_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_UPDATE,
    REDIRECTION_PATTERN,
    SCRIPT_SCHEMES,
)

__all__ = [
    "ALERT", "BADGE", "CHANNELS", "COLOR", "Check", "ICON", "METRIC", "METRIC_STRING", "ObjectCheck", "TAGS",
    "TAGS_MAX20", "TARGET", "boolean", "display_value", "enum", "hint", "https_url", "icon_url", "integer",
    "is_int", "is_number", "join", "json_object", "kind_of", "list_of", "metadata_check", "number",
    "redirection", "string",
]

_HTTPS = re.compile(r"^https://", re.IGNORECASE)

Check = Callable[[Any, str, list[Problem]], None]


def hint(name: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def kind_of(value: Any) -> str:
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


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def string(*, min_len: int = 0, max_len: int | None = None) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, str):
            out.append(Problem(path, f"must be a string; got {kind_of(value)}"))
        elif len(value) < min_len or (max_len is not None and len(value) > max_len):
            got = "an empty string" if not value else f"{len(value)} characters"
            out.append(Problem(path, f"must be {_length_rule(min_len, max_len)}; got {got}"))
    return check


def _length_rule(min_len: int, max_len: int | None) -> str:
    if max_len is None:
        return "a non-empty string" if min_len == 1 else f"at least {min_len} characters"
    return f"{min_len}-{max_len} characters" if min_len else f"at most {max_len} characters"


def enum(choices: tuple[str, ...]) -> Check:
    allowed = ", ".join(choices)

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if value not in choices or not isinstance(value, str):
            got = repr(value) if isinstance(value, str) else kind_of(value)
            suggestion = hint(value, choices) if isinstance(value, str) else ""
            out.append(Problem(path, f"must be one of {allowed}; got {got}{suggestion}"))
    return check


def integer(low: int | None = None, high: int | None = None) -> Check:
    if low is None:
        rule = "an integer"
    else:
        rule = f"an integer >= {low}" if high is None else f"an integer {low}-{high}"

    def check(value: Any, path: str, out: list[Problem]) -> None:
        in_range = is_int(value) and (low is None or value >= low) and (high is None or value <= high)
        if not in_range:
            got = value if is_int(value) else kind_of(value)
            out.append(Problem(path, f"must be {rule}; got {got}"))
    return check


def number(low: float | None = None, high: float | None = None) -> Check:
    if low is not None and high is not None:
        rule = f"a number {low:g}-{high:g}"
    elif low is not None:
        rule = f"a number >= {low:g}"
    else:
        rule = "a finite number"

    def check(value: Any, path: str, out: list[Problem]) -> None:
        ok = is_number(value) and (low is None or value >= low) and (high is None or value <= high)
        if not ok:
            got = value if is_number(value) else kind_of(value)
            out.append(Problem(path, f"must be {rule}; got {got}"))
    return check


def boolean(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, bool):
        out.append(Problem(path, f"must be true or false; got {kind_of(value)}"))


def https_url(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append(Problem(path, f"must be an https:// URL string; got {kind_of(value)}"))
    elif not _HTTPS.match(value):
        out.append(Problem(path, f"must be an https:// URL; got {value[:60]!r}"))


def icon_url(value: Any, path: str, out: list[Problem]) -> None:
    before = len(out)
    https_url(value, path, out)
    if len(out) == before and _has_credentials(value):
        out.append(Problem(path, "must not contain credentials (user:password@)"))


def _has_credentials(url: str) -> bool:
    try:
        return urlsplit(url).username is not None
    except ValueError:  # e.g. a broken IPv6 host; the server will judge the rest
        return False


def redirection(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, str):
        out.append(Problem(path, f"must be a URL string; got {kind_of(value)}"))
    elif len(value) > MAX_REDIRECTION_LENGTH:
        out.append(Problem(path, f"must be at most {MAX_REDIRECTION_LENGTH} characters; got {len(value)}"))
    elif not (scheme := REDIRECTION_PATTERN.match(value)):
        out.append(Problem(path, f"must be a URL with a scheme (https://, shortcuts://, app:...); got {value[:60]!r}"))
    elif scheme.group()[:-1].lower() in SCRIPT_SCHEMES:
        name = scheme.group().lower()
        out.append(Problem(path, f"must not be a {name} URL (a tap must never run script or open inline data); "
                                 f"use https://, shortcuts:// or an app's URL scheme"))


def _json_data(value: Any, path: str, out: list[Problem]) -> None:
    """Free-form JSON (payload, webhook body): JSON types only, no NaN/Infinity."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                out.append(Problem(path, f"object keys must be strings; got {kind_of(k)}"))
            else:
                _json_data(v, join(path, k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _json_data(v, f"{path}[{i}]", out)
    elif isinstance(value, float) and not math.isfinite(value):
        out.append(Problem(path, f"must be a finite number (NaN/Infinity are not JSON); got {value!r}"))
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        out.append(Problem(path, f"must be JSON data (object, list, string, number, bool, null); got {kind_of(value)}"))


def json_object(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, Mapping):
        out.append(Problem(path, f"must be an object; got {kind_of(value)}"))
    else:
        _json_data(value, path, out)


def list_of(item: Check, *, min_items: int = 0, max_items: int | None = None, what: str = "items") -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if not isinstance(value, (list, tuple)):
            out.append(Problem(path, f"must be a list of {what}; got {kind_of(value)}"))
            return
        if len(value) < min_items:
            out.append(Problem(path, f"must have at least {min_items} {what}; got {len(value)}"))
        if max_items is not None and len(value) > max_items:
            out.append(Problem(path, f"must have at most {max_items} {what}; got {len(value)}"))
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]", out)
    return check


class ObjectCheck:
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
            out.append(Problem(path or "request", f"must be an object; got {kind_of(value)}"))
            return
        for name in self.required:
            if value.get(name) is None:
                out.append(Problem(join(path, name), self.notes.get(name, "is required")))
        for name, field_value in value.items():
            check = self.fields.get(name)
            if check is None:
                out.append(Problem(join(path, str(name)), self._unknown(str(name))))
            elif field_value is not None:  # null means omitted (the SDK never sends it)
                check(field_value, join(path, name), out)

    def _unknown(self, name: str) -> str:
        reason = self.elsewhere(name) if self.elsewhere else None
        if reason:
            return reason
        suggestion = hint(name, self.fields)
        return f"unknown field{suggestion}" if suggestion else f"unknown field; allowed: {', '.join(self.fields)}"


# -- shared sub-objects ---------------------------------------------------------------------------

COLOR = enum(COLORS)
_TAG = string(min_len=1, max_len=MAX_TAG_LENGTH)
TAGS = list_of(_TAG, what="tags")
TAGS_MAX20 = list_of(_TAG, max_items=MAX_TAGS_UPDATE, what="tags")
CHANNELS = list_of(string(), min_items=1, what="channel slugs")
TARGET = ObjectCheck({"channels": CHANNELS}, required=("channels",))
ICON = ObjectCheck({"symbol": string(min_len=1), "color": COLOR}, required=("symbol",))
BADGE = ObjectCheck({"title": string(min_len=1), "color": COLOR}, required=("title",))
ALERT = ObjectCheck({"title": string(), "body": string()})


METRIC_STRING = string(min_len=1, max_len=MAX_METRIC_STRING_LENGTH)


def _metric_value(value: Any, path: str, out: list[Problem]) -> None:
    if isinstance(value, str):
        METRIC_STRING(value, path, out)
    elif not (is_number(value) and value >= 0):
        got = value if is_number(value) else kind_of(value)
        rule = f"a number >= 0 or a string of 1-{MAX_METRIC_STRING_LENGTH} characters"
        out.append(Problem(path, f"must be {rule}; got {got}"))


METRIC = ObjectCheck(
    {"label": string(min_len=1), "value": _metric_value, "unit": string(), "color": COLOR},
    required=("label", "value"),
)


def display_value(value: Any, path: str, out: list[Problem]) -> None:
    if not (isinstance(value, str) or is_number(value)):
        out.append(Problem(path, f"must be a string or a finite number; got {kind_of(value)}"))


def metadata_check(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, Mapping):
        out.append(Problem(path, f"must be an object of string/number/bool values; got {kind_of(value)}"))
        return
    before = len(out)
    if len(value) > MAX_METADATA_ENTRIES:
        out.append(Problem(path, f"must have at most {MAX_METADATA_ENTRIES} entries; got {len(value)}"))
    for key, item in value.items():
        item_path = join(path, str(key))
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
    elif isinstance(value, bool) or is_number(value):
        return
    elif value is None:
        out.append(Problem(path, "must be a string, finite number or bool; null is not allowed"))
    elif isinstance(value, (Mapping, list, tuple)):
        out.append(Problem(path, "must be a string, finite number or bool; nested objects and lists are not allowed"))
    else:
        out.append(Problem(path, f"must be a string, finite number or bool; got {kind_of(value)}"))


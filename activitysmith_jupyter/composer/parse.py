"""Text typed into the Composer -> JSON values, and back (pure; no widgets).

Parsing never decides whether a value is allowed: an unparsable number is passed on as the typed
string so that `payloads.validate` (the one home of the rules) reports it with its field path.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["format_json_object", "format_list", "format_scalar", "parse_json_object", "parse_scalar", "split_list"]


def split_list(text: str) -> list[str]:
    """"a, b\\nc" -> ["a", "b", "c"] (blank items dropped)."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def format_list(items: Iterable[Any] | None) -> str:
    return ", ".join(str(item) for item in items or ())


def parse_scalar(text: str, *, strings: bool = False) -> Any:
    """"" -> None (omit); "12" -> 12; "1.5" -> 1.5; "true"/"false" -> bool; anything else -> the text.

    With ``strings=True`` a quoted text (``"9"``) stays a string, so a string readout that looks
    like a number can still be typed.
    """
    text = text.strip()
    if not text:
        return None
    if strings and len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def format_scalar(value: Any, *, strings: bool = False) -> str:
    """The inverse of `parse_scalar`: what to show in a text field for a loaded value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if strings and parse_scalar(value) != value:
            return json.dumps(value, ensure_ascii=False)
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def parse_json_object(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(object, None) for a JSON object, (None, None) for blank, (None, "what is wrong") otherwise."""
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"must be a JSON object {{...}}, not {type(value).__name__}"
    return value, None


def format_json_object(value: Mapping[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)

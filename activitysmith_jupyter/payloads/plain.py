"""Anything a user passes in a request -> plain JSON-like data (dicts, lists, scalars).

The official SDK's generated models (``PushNotificationAction``, ``ChannelTarget``, ``ActivityMetric``,
``ContentStateStart``, the ``oneOf`` value wrappers, ...) are read by duck typing, at any depth, without
importing pydantic or the SDK: an object with ``to_dict()`` gives that (the SDK's own wire view), else
one with ``model_dump()`` gives ``model_dump(by_alias=True, exclude_none=True)``. Enum members (the
SDK's ``LiveActivityColor.RED``) become their values, NumPy scalars the Python numbers they hold,
tuples lists. The result never shares a mutable object with the input.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = ["compact", "drop_nulls", "parse_iso", "to_plain", "FREE_FORM"]

_SCALARS = (str, int, float, bool, type(None), datetime)
_PLAIN_SCALARS = frozenset(_SCALARS)


def to_plain(value: Any) -> Any:
    """A deep, plain copy of ``value`` (see the module docstring); anything else is returned as is."""
    kind = type(value)  # exact built-in types first: most requests hold nothing else
    if kind in _PLAIN_SCALARS:
        return value
    if kind is dict:
        return {k: to_plain(v) for k, v in value.items()}
    if kind is list:
        return [to_plain(v) for v in value]
    if isinstance(value, Enum):
        return to_plain(value.value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    model = _model_data(value)
    return value if model is _NOT_A_MODEL else to_plain(model)


_NOT_A_MODEL = object()


def _model_data(value: Any) -> Any:
    """The data of a model object (an instance with ``to_dict``/``model_dump``), or _NOT_A_MODEL."""
    if isinstance(value, type):
        return _NOT_A_MODEL  # a model class, not an instance
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(by_alias=True, exclude_none=True)
    return _NOT_A_MODEL


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the None ones (a None keyword means "not given", as in the SDK)."""
    return {k: v for k, v in values.items() if v is not None}


FREE_FORM = frozenset({"payload", "body", "metadata"})  # kept verbatim (metadata nulls are reported)


def drop_nulls(value: Any) -> Any:
    """Remove null fields from the model objects (the SDK never puts them on the wire)."""
    if isinstance(value, dict):
        return {k: (v if k in FREE_FORM else drop_nulls(v)) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)[.,](\d+)")


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 date-time (``Z`` allowed), or None."""
    candidate = text.strip()
    if candidate[-1:] in ("Z", "z"):
        candidate = candidate[:-1] + "+00:00"
    # Python 3.10 reads only 3 or 6 digits of a fraction (3.11+ any, as the SDK's pydantic): make it 6
    candidate = _FRACTION.sub(lambda m: m.group(1) + "." + (m.group(2) + "000000")[:6], candidate, count=1)
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None

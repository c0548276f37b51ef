"""The official SDK's constant classes, as plain classes of strings (no enum or pydantic import).

``LiveActivityColor.GREEN == "green"``, so a constant goes wherever the API takes the string.
"""
from __future__ import annotations

from typing import Final

__all__ = ["LiveActivityColor", "PushInterruptionLevel"]


class PushInterruptionLevel:
    """Push Notification interruption levels (``interruption_level=``)."""

    PASSIVE: Final = "passive"
    ACTIVE: Final = "active"
    TIME_SENSITIVE: Final = "time-sensitive"


class LiveActivityColor:
    """Accent colors of a Live Activity, its metrics, icons and badges (``color=``, ``step_color=``)."""

    LIME: Final = "lime"
    GREEN: Final = "green"
    CYAN: Final = "cyan"
    BLUE: Final = "blue"
    PURPLE: Final = "purple"
    MAGENTA: Final = "magenta"
    RED: Final = "red"
    ORANGE: Final = "orange"
    YELLOW: Final = "yellow"
    GRAY: Final = "gray"

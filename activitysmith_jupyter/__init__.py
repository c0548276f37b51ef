"""activitysmith-jupyter: long notebook work as iOS Live Activities and push notifications.

Importing this package stays light: IPython, ipywidgets and tqdm load only when the names that need
them are used (``%load_ext activitysmith_jupyter``, ``Composer``, ``activitysmith_jupyter.tqdm``).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "ActivitySmith": "client",
    "AsyncActivitySmith": "client",
    "default_client": "client",
    "set_default_client": "client",
    "APIObject": "responses",
    "content_state": "payloads",
    "metric": "payloads",
    "action": "payloads",
    "alert_icon": "payloads",
    "alert_badge": "payloads",
    "validate": "payloads",
    "build_request": "payloads",
    "prepare": "payloads",
    "Problem": "payloads",
    "ActivitySmithError": "errors",
    "PayloadError": "errors",
    "APIError": "errors",
    "APIConnectionError": "errors",
    "APITimeoutError": "errors",
    "RateLimitError": "errors",
    "LiveActivityLimitError": "errors",
    "Simulator": "simulator",
    "SimulatorServer": "simulator",
    "shared_simulator": "simulator",
    "Dispatcher": "dispatch",
    "dispatcher_for": "dispatch",
    "UpdatePolicy": "policy",
    "Activity": "hub",
    "current_activity": "hub",
    "activity": "script",
    "Composer": "widgets",
    "LiveActivityColor": "_constants",
    "PushInterruptionLevel": "_constants",
}

# Written out for linters and editors; tests/test_package_names.py checks it against _LAZY.
__all__ = [
    "__version__",
    "load_ipython_extension",
    "unload_ipython_extension",
    "ActivitySmith",
    "AsyncActivitySmith",
    "default_client",
    "set_default_client",
    "APIObject",
    "content_state",
    "metric",
    "action",
    "alert_icon",
    "alert_badge",
    "validate",
    "build_request",
    "prepare",
    "Problem",
    "ActivitySmithError",
    "PayloadError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "RateLimitError",
    "LiveActivityLimitError",
    "Simulator",
    "SimulatorServer",
    "shared_simulator",
    "Dispatcher",
    "dispatcher_for",
    "UpdatePolicy",
    "Activity",
    "current_activity",
    "activity",
    "Composer",
    "LiveActivityColor",
    "PushInterruptionLevel",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'activitysmith_jupyter' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext activitysmith_jupyter`: register the magics (idempotent)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext activitysmith_jupyter`."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)


if TYPE_CHECKING:  # pragma: no cover - the lazy names, for type checkers and IDEs
    from ._constants import LiveActivityColor, PushInterruptionLevel
    from .hub import Activity, current_activity
    from .script import activity
    from .client import ActivitySmith, AsyncActivitySmith, default_client, set_default_client
    from .dispatch import Dispatcher, dispatcher_for
    from .errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        ActivitySmithError,
        LiveActivityLimitError,
        PayloadError,
        RateLimitError,
    )
    from .payloads import (
        Problem,
        action,
        alert_badge,
        alert_icon,
        build_request,
        content_state,
        metric,
        prepare,
        validate,
    )
    from .policy import UpdatePolicy
    from .responses import APIObject
    from .simulator import Simulator, SimulatorServer, shared_simulator
    from .widgets import Composer

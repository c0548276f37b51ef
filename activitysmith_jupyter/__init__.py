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
    "ActivitySmith": "api.client",
    "AsyncActivitySmith": "api.client",
    "default_client": "api.client",
    "set_default_client": "api.client",
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
    "Dispatcher": "delivery.dispatcher",
    "dispatcher_for": "delivery.dispatcher",
    "UpdatePolicy": "delivery.policy",
    "Activity": "hub.activity",
    "current_activity": "hub.activity",
    "activity": "hub.script",
    "Composer": "composer.widget",
    "LiveActivityColor": "api.constants",
    "PushInterruptionLevel": "api.constants",
}

# Written out for linters and editors; tests/api/test_package_names.py checks it against _LAZY.
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
    from .notebook.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext activitysmith_jupyter`."""
    from .notebook.magics import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension (the run pages and their Stop; ``notebook/server``), enabled on
    install by ``jupyter_server_config.d/activitysmith_jupyter.json``."""
    return [{"module": "activitysmith_jupyter.notebook.server.extension"}]


if TYPE_CHECKING:  # pragma: no cover - the lazy names, for type checkers and IDEs
    from .api.constants import LiveActivityColor, PushInterruptionLevel
    from .hub.activity import Activity, current_activity
    from .hub.script import activity
    from .api.client import ActivitySmith, AsyncActivitySmith, default_client, set_default_client
    from .delivery.dispatcher import Dispatcher, dispatcher_for
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
    from .delivery.policy import UpdatePolicy
    from .responses import APIObject
    from .simulator import Simulator, SimulatorServer, shared_simulator
    from .composer.widget import Composer

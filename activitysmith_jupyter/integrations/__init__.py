"""One module per third-party library, each importing its library lazily (only on demand).

``import activitysmith_jupyter`` never imports this package's modules; ``INTEGRATIONS`` maps a library's
import name to the module that meets it.
"""
from __future__ import annotations

__all__ = ["INTEGRATIONS"]

INTEGRATIONS: dict[str, str] = {
    "keras": "activitysmith_jupyter.integrations.keras",
    "xgboost": "activitysmith_jupyter.integrations.xgboost",
    "lightgbm": "activitysmith_jupyter.integrations.lightgbm",
    "optuna": "activitysmith_jupyter.integrations.optuna",
}

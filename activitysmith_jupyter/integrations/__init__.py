"""Everything that meets a third-party library, one module per library, listed in one table.

Each module imports its library itself and is imported only on demand: ``import activitysmith_jupyter``
imports none of them. A framework module exposes ``ActivitySmithCallback``; one whose library has a
global registration hook also exposes ``install() -> Callable[[], None]`` (returns the uninstall).
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["INTEGRATIONS", "load"]

# library import name -> our module for it
INTEGRATIONS: dict[str, str] = {
    "tqdm": "activitysmith_jupyter.integrations.tqdm",
    "keras": "activitysmith_jupyter.integrations.keras",
    "xgboost": "activitysmith_jupyter.integrations.xgboost",
    "lightgbm": "activitysmith_jupyter.integrations.lightgbm",
    "optuna": "activitysmith_jupyter.integrations.optuna",
    "transformers": "activitysmith_jupyter.integrations.transformers",
    "lightning": "activitysmith_jupyter.integrations.lightning",
    "rich": "activitysmith_jupyter.integrations.rich",
    "dask": "activitysmith_jupyter.integrations.dask",
    "papermill": "activitysmith_jupyter.integrations.papermill",
    "distributed": "activitysmith_jupyter.integrations.distributed",
    "pyspark": "activitysmith_jupyter.integrations.spark",
    "ray": "activitysmith_jupyter.integrations.ray",
}


def load(library: str) -> ModuleType:
    """Our module for `library` (imports it, and so the library). ``KeyError`` names the known ones."""
    try:
        name = INTEGRATIONS[library]
    except KeyError:
        raise KeyError(f"no integration for {library!r}; known: {', '.join(sorted(INTEGRATIONS))}") from None
    return importlib.import_module(name)

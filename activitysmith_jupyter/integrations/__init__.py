"""Where each third-party library is met: library import name -> our module (imported on demand only)."""
from __future__ import annotations

__all__ = ["INTEGRATIONS"]

INTEGRATIONS: dict[str, str] = {
    "rich": "activitysmith_jupyter.integrations.rich",
    "dask": "activitysmith_jupyter.integrations.dask",
    "papermill": "activitysmith_jupyter.integrations.papermill",
}

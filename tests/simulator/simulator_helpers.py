"""Shared bits for the simulator tests: an httpx client on a simulator and typical request bodies."""
from __future__ import annotations

from typing import Any

import httpx

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
BASE = "https://activitysmith.com/api"


def api(sim: Any, **kwargs: Any) -> httpx.Client:
    """An httpx client that talks to `sim` in-process, authenticated like the SDK."""
    kwargs.setdefault("headers", AUTH)
    return httpx.Client(transport=sim.transport(), base_url=BASE, **kwargs)


def progress(percentage: float = 42, *, title: str = "Search Reindex", typed: bool = True, **extra: Any) -> dict:
    cs: dict[str, Any] = {"title": title, "subtitle": "catalog-v2", "percentage": percentage, **extra}
    if typed:
        cs["type"] = "progress"
    return {"content_state": cs}


def steps(current: int, total: int = 3, *, title: str = "Nightly Backup") -> dict:
    return {"content_state": {"title": title, "type": "segmented_progress", "number_of_steps": total,
                              "current_step": current}}

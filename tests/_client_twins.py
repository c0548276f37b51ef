"""One fixture, `api`, that runs the same test against `ActivitySmith` and `AsyncActivitySmith`.

Tests are `async def` (anyio) and wrap every client call in `await call(...)`: the sync client's
result is returned as is, the async client's awaitable is awaited.
"""
from __future__ import annotations

import inspect
from typing import Any

import pytest

KEY = "ask_live_0123456789abcdefSECRET"


async def call(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


@pytest.fixture(params=["sync", "async"])
async def api(request, sim, clock):
    """A client on the test's simulator and fake clock, with a real-looking key; `rng` gives no jitter."""
    from activitysmith_jupyter.api.client import ActivitySmith, AsyncActivitySmith

    kwargs = {"transport": sim.transport(), "clock": clock, "rng": lambda: 0.0}
    if request.param == "sync":
        with ActivitySmith(KEY, **kwargs) as c:
            yield c
    else:
        async with AsyncActivitySmith(KEY, **kwargs) as c:
            yield c


def make_client(kind: str, *args: Any, **kwargs: Any) -> Any:
    from activitysmith_jupyter.api.client import ActivitySmith, AsyncActivitySmith

    return (ActivitySmith if kind == "sync" else AsyncActivitySmith)(*args, **kwargs)


async def close(client: Any) -> None:
    await call(client.close() if hasattr(client, "close") else client.aclose())

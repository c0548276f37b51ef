"""Shared fixtures: a fresh simulator per test, clients and a dispatcher on it, and a real loopback server."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from activitysmith_jupyter.clock import FakeClock


@pytest.fixture(autouse=True)
def _no_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a real key or base URL from the developer's environment."""
    monkeypatch.delenv("ACTIVITYSMITH_API_KEY", raising=False)
    monkeypatch.delenv("ACTIVITYSMITH_BASE_URL", raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock):
    from activitysmith_jupyter.simulator import Simulator

    return Simulator(clock=clock)


@pytest.fixture
def client(sim) -> Iterator:
    from activitysmith_jupyter.api.client import ActivitySmith

    with ActivitySmith(transport=sim.transport()) as c:
        yield c


@pytest.fixture
async def aclient(sim):
    from activitysmith_jupyter.api.client import AsyncActivitySmith

    async with AsyncActivitySmith(transport=sim.transport()) as c:
        yield c


@pytest.fixture
def dispatcher(client, clock) -> Iterator:
    """A Dispatcher for `client` pacing on the fake clock (test_dispatch and test_tqdm define their own,
    on a client that uses the fake clock too)."""
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher

    d = Dispatcher(client, clock=clock)
    yield d
    d.close(timeout=5)


@pytest.fixture
def server(sim) -> Iterator:
    """The same simulator behind a real HTTP server on 127.0.0.1; `server.url` is the base URL."""
    with sim.serve() as srv:
        yield srv


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The CI legs' markers (browser, framework, packaging), set by path: see leg_markers.py."""
    from leg_markers import mark_legs

    mark_legs(items, config.rootpath)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under -m "not browser and not framework ..." (the core legs) such files are not even imported."""
    from leg_markers import ruled_out

    return True if ruled_out(collection_path, config.rootpath, config.getoption("markexpr") or "") else None

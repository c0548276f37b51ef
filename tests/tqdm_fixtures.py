"""Fixtures shared by the tqdm drop-in's tests: import them by name into a test module."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, Any

import pytest

from activitysmith_jupyter.api.client import ActivitySmith
from activitysmith_jupyter.delivery.dispatcher import Dispatcher
from activitysmith_jupyter.tqdm import settle


@pytest.fixture
def null() -> Iterator[IO[str]]:
    """Where the bars draw: nothing reaches the test's output."""
    with open(os.devnull, "w") as f:
        yield f


@pytest.fixture
def dispatcher(sim: Any, clock: Any) -> Iterator[Dispatcher]:
    """A dispatcher on a client that paces and retries on the fake clock. At the end, ends still resting
    for a following bar (a streak of short bars) are sent before it closes."""
    with ActivitySmith(transport=sim.transport(), clock=clock) as c:
        d = Dispatcher(c, clock=clock)
        yield d
        settle()
        d.close(timeout=5)

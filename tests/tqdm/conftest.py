"""What the tqdm drop-in's tests add to the shared fixtures: a finished bar may leave its activity open for a
following bar (a streak of short bars); those ends are sent before the test's dispatcher closes."""
from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _settle_resting_bars(request: pytest.FixtureRequest) -> Iterator[None]:
    if "dispatcher" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("dispatcher")  # so this ends first, then the dispatcher closes
    yield
    from activitysmith_jupyter.tqdm import settle

    settle()

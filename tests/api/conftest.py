"""What the API-layer tests add to the shared fixtures: the official SDK, pointed at the loopback simulator."""
from __future__ import annotations

from typing import Any

import pytest

SDK_KEY = "test-key"


@pytest.fixture
def sdk(server: Any) -> Any:
    """The official SDK (`activitysmith`, a test-only dependency) talking to `server` with key "test-key"."""
    activitysmith = pytest.importorskip("activitysmith")
    client = activitysmith.ActivitySmith(api_key=SDK_KEY)
    client.notifications._api.api_client.configuration.host = server.url
    return client

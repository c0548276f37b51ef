"""What the browser tests share: Debian's chromium through Playwright (one browser per module) and a
real-clock simulator behind a loopback server (the kernels' ACTIVITYSMITH_BASE_URL). Each module starts
its own Jupyter server as `jupyter` (JupyterLab + Notebook 7, or a bare jupyter_server)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _require_browser() -> None:
    """Skip without chromium or Playwright; fail instead under ACTIVITYSMITH_REQUIRE_BROWSER=1 (CI)."""
    problem = None
    if not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "python playwright is not installed"
    if problem:
        if os.environ.get("ACTIVITYSMITH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ACTIVITYSMITH_REQUIRE_BROWSER=1 but {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="module")
def sim_server() -> Iterator[Any]:
    """A real-clock simulator behind a loopback server, without a rate limit."""
    _require_browser()
    from activitysmith_jupyter.simulator import Simulator

    with Simulator(rate_limit_per_minute=None).serve() as server:
        yield server


@pytest.fixture(scope="module")
def browser(jupyter: dict[str, Any]) -> Iterator[Any]:
    """Headless chromium, launched once the module's Jupyter server is up."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()

"""Shared bits for the watchdog tests: a simulator on real time behind a loopback server, the
environment that points a child process at it, and ways to find and wait for the watchdog."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

KEY = "sk-watchdog-test-key-5f2a9c17e3"  # long enough that a leak would be recognisable
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def live_server() -> Iterator[tuple[Any, Any]]:
    """(simulator on real time, its loopback server)."""
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator()
    with sim.serve() as srv:
        yield sim, srv


def child_env(srv: Any, **extra: str) -> dict[str, str]:
    env = dict(os.environ, ACTIVITYSMITH_API_KEY=KEY, ACTIVITYSMITH_BASE_URL=srv.url, PYTHONUNBUFFERED="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.pop("ACTIVITYSMITH_WATCHDOG", None)
    return env


def wait_for(condition: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll real time (another process is at work; there is no clock to inject across processes)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def watchdogs_of(pid: int) -> list[psutil.Process]:
    """The watchdog processes `pid` started."""
    try:
        children = psutil.Process(pid).children()
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "activitysmith_jupyter.watchdog" in " ".join(_cmdline(c))]


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def requests_for(sim: Any, key: str, method: str) -> list[Any]:
    return [r for r in sim.requests if r.key == key and r.method == method]


def script(tmp_path: Path, body: str, name: str = "job.py") -> list[str]:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]

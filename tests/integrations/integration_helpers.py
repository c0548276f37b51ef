"""What the framework-callback tests share: what the phone showed, whether updates kept to the policy, and a
child script run against the loopback simulator (the fake-clock `dispatcher` is tests/conftest.py's)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any


def shown(sim: Any) -> list[dict[str, Any]]:
    """Every activity the phone showed, dismissed ones included."""
    return [a.view() for a in sim.activities.values()]


def the_activity(sim: Any, key: str) -> dict[str, Any]:
    found = [a for a in shown(sim) if a["stream_key"] == key]
    assert len(found) == 1, shown(sim)
    return found[0]


def pushes(sim: Any) -> list[dict[str, Any]]:
    """The push requests the phone got (title, message ...), oldest first."""
    return [n["request"] for n in sim.notifications]


def stream_puts(sim: Any, key: str) -> list[Any]:
    return [r for r in sim.requests if r.method == "PUT" and r.key == key]


def assert_paced(sim: Any, key: str, policy: Any) -> int:
    """Every PUT of `key` went no earlier than the policy allows; returns how many there were. What waits
    when the run ends goes at once, just before the end (its time), as does what a `flush()` sends."""
    puts = stream_puts(sim, key)
    assert puts, "the activity never started"
    start = puts[0].time
    ended = min((r.time for r in sim.requests if r.method == "DELETE" and r.key == key), default=float("inf"))
    paced = [r for r in puts if r.time < ended]
    for k, r in enumerate(paced[:-1] if ended == float("inf") else paced, start=1):
        # one release step of slack: with the dispatcher's waits advancing the same fake clock as the loop, a
        # coalesced state can go one step early (seen at k=215 of an 8-hour schedule); never an iOS warning
        assert r.time >= start + policy.release_time(max(1, k - 1)) - 1e-6, (k, r.time - start)
    assert not [r for r in sim.requests if (r.response or {}).get("warning")]
    return len(puts)


def run_child(script: str, server: Any, tmp_path: Any, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter that talks to `server` (the loopback simulator)."""
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_integrations", "ACTIVITYSMITH_BASE_URL": server.url,
           "KERAS_BACKEND": "jax"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env, timeout=timeout,
                          cwd=tmp_path, capture_output=True, text=True)

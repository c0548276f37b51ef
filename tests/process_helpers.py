"""Helpers for tests that run real processes against a loopback simulator server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET = "ask_live_never_on_a_command_line"


def free_port() -> int:
    """A loopback port nothing listens on now (a server of the test's binds it next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(server: Any, **extra: str) -> dict[str, str]:
    """The environment of a child process: our worktree importable, the key and base URL of `server`."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "ACTIVITYSMITH_API_KEY": SECRET,
            "ACTIVITYSMITH_BASE_URL": server.url, **extra}


def script(tmp_path: Path, code: str, name: str = "job.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def python(path: Path, env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 60)
    return subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True,
                          cwd=path.parent, **kwargs)


def ended(sim: Any, key: str) -> dict[str, Any]:
    """The one activity with stream `key`, which must have ended."""
    found = [a.view() for a in sim.activities.values() if a.stream_key == key]
    assert len(found) == 1, [a.view() for a in sim.activities.values()]
    assert found[0]["state"] == "ended", found[0]
    return found[0]


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [n["request"] for n in sim.notifications]

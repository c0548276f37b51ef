"""Helpers for the `activitysmith setup` / `doctor` tests: a user's home in a temporary folder, the API on
a loopback simulator that accepts one key only, and the real console script run in subprocesses."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = Path(__file__).resolve().parents[1]  # json_keyring.py, a keyring backend for the tests
GOOD_KEY = "ask_setup_test_key_7f3a9c21d4e8"
BAD_KEY = "ask_not_the_right_key_00000000"
CLI = Path(sys.executable).with_name("activitysmith")
IPYTHON = Path(sys.executable).with_name("ipython")
# Where the real user's settings would otherwise leak in (or be written to).
_PRIVATE = ("ACTIVITYSMITH_", "IPYTHON", "JUPYTER", "XDG_", "PYTHON_KEYRING", "TEST_KEYRING", "HTTP_PROXY",
            "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def api() -> Iterator[Any]:
    """The simulator behind a real loopback server, accepting GOOD_KEY only (any other key: 401)."""
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator(api_key=GOOD_KEY, rate_limit_per_minute=None)
    with sim.serve() as server:
        sim.url = server.url
        yield sim


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def user_env(home: Path, api: Any, *, keyring: Path | None = None, **extra: str) -> dict[str, str]:
    """A user whose every config folder is inside `home`; no keyring backend unless `keyring` (a file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE)}
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
        XDG_CACHE_HOME=str(home / ".cache"), IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home.parent / "jupyter-runtime"),
        ACTIVITYSMITH_BASE_URL=api.url,
        PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]),
        PYTHON_KEYRING_BACKEND="json_keyring.JsonKeyring" if keyring else "keyring.backends.fail.Keyring",
    )
    if keyring is not None:
        env["TEST_KEYRING_FILE"] = str(keyring)
    env.update(extra)
    return env


def cli(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real `activitysmith` console script of this venv."""
    return subprocess.run([str(CLI), *args], env=env, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])


def setup(env: dict[str, str], key: str = GOOD_KEY, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(env, "setup", *args, stdin=key + "\n")


def ipython(env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(IPYTHON), "--colors=nocolor", "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, cwd=env["HOME"])


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | str | None]]:
    """Every path under `folder` with its mode and content (directories: None, links: their target)."""
    found: dict[str, tuple[int, bytes | str | None]] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content: bytes | str | None = os.readlink(path)
        else:
            content = None if path.is_dir() else path.read_bytes()
        found[str(path.relative_to(folder))] = (stat.S_IMODE(info.st_mode), content)
    return found


def pushes(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.method == "POST" and r.path.endswith("/push-notification")]


def key_file(home: Path) -> Path:
    return home / ".config" / "activitysmith" / "api_key"


def startup_file(home: Path) -> Path:
    return home / ".ipython" / "profile_default" / "startup" / "50-activitysmith.py"

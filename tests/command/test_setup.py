"""`activitysmith setup`: the real console script in a user's home made of temporary folders, the API on a
loopback simulator that accepts one key only. A checked key is stored where only the user can read it,
every fresh IPython and Jupyter kernel then loads the extension with auto mode on, and `--undo` leaves
the home exactly as it was."""
from __future__ import annotations

import json
import os
import socket
import stat
import time
from pathlib import Path

import pytest
from setup_helpers import (BAD_KEY, GOOD_KEY, api, cli, home, ipython, key_file, pushes, setup,  # noqa: F401
                           snapshot, startup_file, user_env)

pytest.importorskip("IPython")


def test_a_piped_key_is_checked_with_one_push_then_stored_in_a_file_only_the_user_can_read(api, home) -> None:
    result = setup(user_env(home, api))
    assert result.returncode == 0, result.stderr
    [push] = pushes(api)
    assert push.status == 200 and push.headers["authorization"] == f"Bearer {GOOD_KEY}"
    assert push.json["title"] == f"ActivitySmith is set up on {socket.gethostname()}"
    assert len(api.requests) == 1  # the check is one push, nothing else
    path = key_file(home)
    assert path.read_text() == GOOD_KEY + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert GOOD_KEY not in result.stdout + result.stderr
    assert str(path) in result.stdout and "Auto mode is on" in result.stdout
    assert len(result.stdout.splitlines()) <= 6  # says what it did in a few lines


def test_on_a_terminal_the_key_is_asked_for_with_hidden_input(api, home) -> None:
    pexpect = pytest.importorskip("pexpect")
    from setup_helpers import CLI

    child = pexpect.spawn(str(CLI), ["setup"], env=user_env(home, api), cwd=str(home), timeout=60,
                          encoding="utf-8")
    try:
        child.expect_exact("ActivitySmith API key (input hidden): ")
        child.sendline(GOOD_KEY)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    assert GOOD_KEY not in child.before  # the terminal never echoed it
    assert "Stored the key in the file" in child.before
    assert key_file(home).read_text() == GOOD_KEY + "\n" and len(pushes(api)) == 1


def test_a_refused_key_stores_nothing_and_says_so_in_one_line(api, home) -> None:
    before = snapshot(home)
    result = setup(user_env(home, api), BAD_KEY)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "activitysmith setup: the API refused this key (401); nothing was stored."]
    assert [r.status for r in api.requests] == [401]
    assert snapshot(home) == before
    assert BAD_KEY not in result.stderr


@pytest.mark.parametrize("text", ["", "\n"], ids=["no-input", "empty-line"])
def test_no_key_on_standard_input_sends_and_stores_nothing(api, home, text) -> None:
    result = cli(user_env(home, api), "setup", stdin=text)
    assert result.returncode == 2 and "no key given" in result.stderr
    assert api.requests == [] and snapshot(home) == {}


def test_an_unreachable_api_stores_nothing(api, home) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = setup(user_env(home, api, ACTIVITYSMITH_BASE_URL=dead))
    assert result.returncode == 1 and "cannot reach the API" in result.stderr
    assert snapshot(home) == {}


def test_a_fresh_ipython_loads_the_extension_with_auto_mode_and_names_the_key_source(api, home) -> None:
    env = user_env(home, api)
    assert setup(env, GOOD_KEY, "--threshold", "45").returncode == 0
    shown = ipython(env, "%activitysmith status\n%config ActivitySmithMagics\n"
                         "import activitysmith_jupyter as a; print(repr(a.default_client()))")
    assert shown.returncode == 0, shown.stderr
    assert "mode:       live" in shown.stdout and api.url in shown.stdout
    assert f"API key:    ask_… from the file {key_file(home)}" in shown.stdout
    assert "auto mode:  on, after 45s" in shown.stdout
    assert "auto_after" in shown.stdout  # %config shows the threshold ...
    assert GOOD_KEY not in shown.stdout + shown.stderr  # ... and nowhere the key


def test_no_auto_loads_the_extension_with_auto_mode_off(api, home) -> None:
    env = user_env(home, api)
    result = setup(env, GOOD_KEY, "--no-auto")
    assert result.returncode == 0 and "Auto mode stays off" in result.stdout
    shown = ipython(env, "%activitysmith status")
    assert "auto mode:  off" in shown.stdout and "API key:    ask_… from the file" in shown.stdout


def test_the_environment_key_wins_over_the_stored_key_and_a_threshold_in_the_environment_wins(api, home) -> None:
    env = user_env(home, api)
    assert setup(env).returncode == 0
    shown = ipython({**env, "ACTIVITYSMITH_API_KEY": "ask_from_the_environment_123",
                     "ACTIVITYSMITH_AUTO_AFTER": "7"}, "%activitysmith status")
    assert "API key:    ask_… from ACTIVITYSMITH_API_KEY" in shown.stdout
    assert "auto mode:  on, after 7" in shown.stdout


def test_a_fresh_kernel_watches_a_long_cell_with_the_stored_key(api, home, monkeypatch) -> None:
    from jupyter_client.manager import start_new_kernel

    env = user_env(home, api)
    assert setup(env, GOOD_KEY, "--threshold", "1").returncode == 0
    api.reset()
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():  # the kernelspec is looked up here: as that user, too
        monkeypatch.setenv(name, value)
    km, kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=60)
    try:
        status = _run(kc, "%activitysmith status")
        _run(kc, "import time; time.sleep(2.5)")
        deadline = time.monotonic() + 20  # the run ends auto_gap (1 s) after its last cell, then pushes
        while not pushes(api) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert f"API key:    ask_… from the file {key_file(home)}" in status
    assert "auto mode:  on, after 1" in status and GOOD_KEY not in status
    streams = [r for r in api.requests if r.method == "PUT"]
    assert streams and all(r.headers["authorization"] == f"Bearer {GOOD_KEY}" for r in api.requests)
    assert pushes(api) and pushes(api)[0].status == 200 and pushes(api)[0].json["title"].startswith("✅")


def _run(kc, code: str) -> str:
    printed: list[str] = []

    def collect(message) -> None:
        if message["header"]["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = kc.execute_interactive(code, timeout=60, output_hook=collect)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(printed)


def test_undo_leaves_the_home_as_it_was(api, home) -> None:
    profile = home / ".ipython" / "profile_default"  # the user's own things, which must survive
    (profile / "startup").mkdir(parents=True)
    (profile / "ipython_config.py").write_text("c.InteractiveShell.colors = 'nocolor'\n")
    (profile / "startup" / "00-mine.py").write_text("x = 1\n")
    (home / ".config" / "other").mkdir(parents=True)
    before = snapshot(home)
    env = user_env(home, api)
    assert setup(env).returncode == 0
    assert setup(env, GOOD_KEY, "--threshold", "5").returncode == 0  # a second run changes the threshold
    assert "5.0" in startup_file(home).read_text()
    assert snapshot(home) != before
    undone = cli(env, "setup", "--undo")
    assert undone.returncode == 0 and "Removed the key file" in undone.stdout and "startup file" in undone.stdout
    assert snapshot(home) == before
    again = cli(env, "setup", "--undo")
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_undo_from_an_empty_home_removes_every_folder_setup_made(api, home) -> None:
    env = user_env(home, api)
    assert setup(env).returncode == 0
    assert cli(env, "setup", "--undo").returncode == 0
    assert snapshot(home) == {}


def test_undo_keeps_a_folder_something_else_wrote_into_since(api, home) -> None:
    env = user_env(home, api)
    assert setup(env).returncode == 0
    (home / ".ipython" / "profile_default" / "history.sqlite").write_bytes(b"IPython's own")
    assert cli(env, "setup", "--undo").returncode == 0
    assert sorted(snapshot(home)) == [".ipython", ".ipython/profile_default", ".ipython/profile_default/history.sqlite"]


def test_a_real_keyring_holds_the_key_when_one_exists(api, home, tmp_path) -> None:
    pytest.importorskip("keyring")
    import json_keyring

    store = tmp_path / "keyring.json"
    env = user_env(home, api, keyring=store)
    before = snapshot(home)
    result = setup(env)
    assert result.returncode == 0, result.stderr
    assert "Stored the key in the keyring (json keyring JsonKeyring)" in result.stdout
    os.environ["TEST_KEYRING_FILE"] = str(store)
    try:
        assert json_keyring.secrets() == {"activitysmith-jupyter/api-key": GOOD_KEY}
    finally:
        del os.environ["TEST_KEYRING_FILE"]
    assert not key_file(home).exists()
    assert GOOD_KEY not in "".join(p.read_text() for p in home.rglob("*") if p.is_file())
    shown = ipython(env, "%activitysmith status")
    assert "API key:    ask_… from the keyring (json keyring JsonKeyring)" in shown.stdout
    assert cli(env, "setup", "--undo").returncode == 0
    assert json.loads(store.read_text())["secrets"] == {}
    assert not startup_file(home).exists()
    # IPython itself wrote its history into the profile meanwhile: that stays, the rest is as it was
    assert {k: v for k, v in snapshot(home).items() if not k.startswith(".ipython")} == before


def test_a_stored_key_file_is_created_owner_only_whatever_the_umask(tmp_path) -> None:
    from activitysmith_jupyter.api.key_store import write_private_file

    path = tmp_path / "api_key"
    path.write_text("old\n")
    path.chmod(0o644)
    old = os.umask(0)
    try:
        write_private_file(path, "new\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api_key"]  # no temporary file left


def test_the_startup_file_does_nothing_where_the_package_is_missing(tmp_path) -> None:
    """Another Python environment's kernel reads the same profile: it must start without a traceback.
    `python -I -S` is such an environment (no site-packages: no activitysmith_jupyter)."""
    import subprocess
    import sys

    from activitysmith_jupyter.command.ipython_startup import MARKER, startup_text

    path = tmp_path / "50-activitysmith.py"
    path.write_text(startup_text(60.0))
    code = ("import sys; ns = {'get_ipython': lambda: sys.exit('looked for a shell')}; "
            f"exec(open({str(path)!r}).read(), ns); print(sorted(k for k in ns if not k.startswith('__')))")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['get_ipython']"  # nothing left in the user's namespace
    assert path.read_text().startswith(MARKER)

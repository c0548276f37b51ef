"""`activitysmith doctor`: the real console script against a loopback simulator that accepts one key only,
in a user's home made of temporary folders. Exit 0 when all is well; 1 with a named next step otherwise."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from setup_helpers import BAD_KEY, GOOD_KEY, api, cli, home, key_file, setup, user_env  # noqa: F401

from activitysmith_jupyter.command.doctor import (PROBE_STREAM, Check, check_key, check_proxy,
                                                  check_server_extension, check_versions, render)

pytest.importorskip("IPython")


def lines(text: str, name: str) -> list[str]:
    """The line of check `name` and its `next:` line, if any."""
    out = text.splitlines()
    for i, line in enumerate(out):
        if line[6:].startswith(name + " "):
            return out[i:i + 2] if i + 1 < len(out) and "next:" in out[i + 1] else out[i:i + 1]
    raise AssertionError(f"no {name!r} line in:\n{text}")


def test_all_well_after_setup_exits_0_with_one_authenticated_call(api, home) -> None:
    env = user_env(home, api)
    assert setup(env).returncode == 0
    api.reset()
    result = cli(env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.rstrip().endswith("All well.")
    assert lines(out, "key") == [f"  ok  key       ask_… from the file {key_file(home)}"]
    assert lines(out, "API") == [f"  ok  API       {api.url} accepted the key"]
    assert "loads the extension; auto mode on (60 s); the same key" in lines(out, "kernel")[0]
    assert lines(out, "versions")[0].startswith("  ok  versions  Python ")
    assert "IPython" in out and "ipykernel" in out and "tqdm" in out
    assert lines(out, "proxy") == ["  --  proxy     none: 127.0.0.1 is reached directly"]
    assert "server" in out
    [probe] = api.requests  # one cheap authenticated call, nothing a phone would show
    assert (probe.method, probe.key, probe.status) == ("DELETE", PROBE_STREAM, 404)
    assert probe.headers["authorization"] == f"Bearer {GOOD_KEY}"
    assert GOOD_KEY not in out + result.stderr
    assert result.stderr == ""  # the kernel's own chatter stays out of the screen


def test_without_a_key_exits_1_and_names_setup(api, home) -> None:
    result = cli(user_env(home, api), "doctor")
    assert result.returncode == 1
    assert lines(result.stdout, "key") == [
        "  !!  key       none: the embedded simulator answers, nothing reaches your phone",
        "                next: run `activitysmith setup` (or set ACTIVITYSMITH_API_KEY)"]
    assert lines(result.stdout, "kernel")[1].endswith("next: run `activitysmith setup`")
    assert result.stdout.rstrip().endswith("2 problems: see `next:` above.")
    assert api.requests == []


def test_a_refused_stored_key_exits_1_and_names_setup(api, home) -> None:
    """Set up with one key, then the API stops accepting it (a revoked key: a server wanting another)."""
    from activitysmith_jupyter.simulator import Simulator

    env = user_env(home, api)
    assert setup(env).returncode == 0
    other = Simulator(api_key="ask_some_other_key_99999999")
    with other.serve() as server:
        result = cli({**env, "ACTIVITYSMITH_BASE_URL": server.url}, "doctor", "--no-kernel")
    assert result.returncode == 1
    assert lines(result.stdout, "API") == [
        f"  !!  API       {server.url} refused the key (401)",
        "                next: run `activitysmith setup` with a current key from the ActivitySmith app"]
    assert [r.status for r in other.requests] == [401]
    assert GOOD_KEY not in result.stdout + result.stderr


def test_a_refused_environment_key_names_the_variable(api, home) -> None:
    result = cli(user_env(home, api, ACTIVITYSMITH_API_KEY=BAD_KEY), "doctor", "--no-kernel")
    assert result.returncode == 1
    assert lines(result.stdout, "key")[0] == "  ok  key       ask_… from ACTIVITYSMITH_API_KEY"
    assert lines(result.stdout, "API")[1].endswith("next: replace or unset ACTIVITYSMITH_API_KEY")
    assert BAD_KEY not in result.stdout + result.stderr


def test_offline_makes_no_request(api, home) -> None:
    env = user_env(home, api)
    assert setup(env).returncode == 0
    api.reset()
    result = cli(env, "doctor", "--offline", "--no-kernel")
    assert result.returncode == 0, result.stdout
    assert lines(result.stdout, "API") == [f"  --  API       {api.url}: not checked (--offline)"]
    assert api.requests == []


def test_an_unreachable_api_is_a_problem_pointing_at_network_and_proxy(api, home) -> None:
    env = user_env(home, api, ACTIVITYSMITH_API_KEY=GOOD_KEY, ACTIVITYSMITH_BASE_URL="http://127.0.0.1:9")
    result = cli(env, "doctor", "--no-kernel")
    assert result.returncode == 1
    problem, fix = lines(result.stdout, "API")
    assert problem.startswith("  !!  API       cannot reach http://127.0.0.1:9")
    assert "proxy" in fix


def test_a_kernel_without_the_startup_file_says_run_setup(api, home) -> None:
    """The key is set, but no kernel loads the extension: the kernel line is the one problem."""
    result = cli(user_env(home, api, ACTIVITYSMITH_API_KEY=GOOD_KEY), "doctor", "--offline")
    assert result.returncode == 1
    assert lines(result.stdout, "kernel") == [
        "  !!  kernel    a fresh python3 kernel does not load the extension",
        "                next: run `activitysmith setup`"]


# ------------------------------------------------------------------------------ the checks, in process


def test_a_key_file_others_can_read_is_a_problem(tmp_path, monkeypatch) -> None:
    from activitysmith_jupyter.api.settings import resolve_settings

    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    monkeypatch.setenv("ACTIVITYSMITH_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "api_key"
    path.write_text(GOOD_KEY + "\n")
    path.chmod(0o644)
    check = check_key(resolve_settings())
    assert check.ok is False and check.fix == f"chmod 600 {path}" and GOOD_KEY not in check.text
    path.chmod(0o600)
    assert check_key(resolve_settings()).ok is True


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "none: activitysmith.com is reached directly"),
    ({"HTTPS_PROXY": "http://alice:s3cret@proxy.corp:3128"},
     "activitysmith.com is reached through http://***@proxy.corp:3128 (HTTPS_PROXY set)"),
    ({"https_proxy": "http://proxy.corp:3128", "no_proxy": "activitysmith.com"},
     "activitysmith.com is reached directly: NO_PROXY covers it (HTTPS_PROXY, NO_PROXY set)"),
    ({"HTTP_PROXY": "http://proxy.corp:3128"},
     "none: activitysmith.com is reached directly (HTTP_PROXY set)"),  # an https URL: HTTP_PROXY does not apply
], ids=["none", "https-proxy-credentials-masked", "no-proxy", "http-proxy-only"])
def test_the_proxy_line_is_what_httpx_will_use(monkeypatch, env, expected) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    check = check_proxy("https://activitysmith.com/api")
    assert check.text == expected and check.ok is None and "s3cret" not in check.text


def test_the_proxy_line_agrees_with_the_client() -> None:
    """The doctor and the client decide "through a proxy" the same way (api/transport.proxy_applies)."""
    from activitysmith_jupyter.api.transport import proxy_applies

    url = "https://activitysmith.com/api"
    assert ("through" in check_proxy(url).text) == proxy_applies(url)


def test_the_server_extension_line(monkeypatch, tmp_path) -> None:
    """Installed, the package enables its server extension (jupyter_server_config.d in the environment);
    a user's own config that turns it off is a problem with the command that fixes it."""
    pytest.importorskip("jupyter_server")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")  # the user's folder first, as outside a venv
    assert check_server_extension() == Check(
        "server", True, "Jupyter server extension activitysmith_jupyter: enabled")
    folder = tmp_path / "jupyter_server_config.d"
    folder.mkdir()
    (folder / "activitysmith_jupyter.json").write_text(
        '{"ServerApp": {"jpserver_extensions": {"activitysmith_jupyter": false}}}')
    check = check_server_extension()
    assert check.ok is False and check.fix == "jupyter server extension enable activitysmith_jupyter"


def test_missing_ipython_is_a_problem_with_the_install_line() -> None:
    check = check_versions(lambda dist: None if dist == "ipykernel" else "1.0")
    assert check.ok is False and "ipykernel missing" in check.text
    assert check.fix == "pip install 'activitysmith-jupyter[jupyter]'"


def test_the_screen_counts_problems_and_puts_the_next_step_under_each() -> None:
    screen = render([Check("key", True, "fine"), Check("API", False, "refused", "do this"),
                     Check("proxy", None, "none")])
    assert screen.splitlines()[1:] == ["  ok  key       fine", "  !!  API       refused",
                                       "                next: do this", "  --  proxy     none",
                                       "1 problem: see `next:` above."]

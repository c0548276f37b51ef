"""%%activitysmith_progress and %activitysmith in a real InteractiveShell and in a real kernel.

Every shell test talks to the simulator through a Dispatcher on the fake clock, so pacing and
retry backoff cost no real time. The kernel tests point a python3 kernel at the loopback server.
"""
from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shell_helpers import fresh_shell

pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from activitysmith_jupyter.hub.activity import current_activity  # noqa: E402
from activitysmith_jupyter.notebook.magics import ActivitySmithMagics, derive_title, transform_progress_cell  # noqa: E402

ENV_VARS = ("ACTIVITYSMITH_NOTIFY", "ACTIVITYSMITH_CHANNELS", "ACTIVITYSMITH_COLOR", "JPY_SESSION_NAME")


@pytest.fixture
def ip(dispatcher, monkeypatch) -> Iterator[InteractiveShell]:
    """A fresh InteractiveShell (the singleton cleared around it) with the extension loaded."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as shell:
        shell.user_ns["sim_dispatcher"] = dispatcher
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        yield shell


def run(ip: InteractiveShell, code: str) -> Any:
    return ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)


def settle(ip: InteractiveShell) -> None:
    dispatcher = ip.user_ns["sim_dispatcher"]
    assert dispatcher.flush(timeout=10), dispatcher.stats


def puts(sim, key: str) -> list[dict]:
    return [r.json for r in sim.requests if r.method == "PUT" and r.key == key and r.status == 200]


def end_state(sim, key: str) -> dict:
    ends = [r.json for r in sim.requests if r.method == "DELETE" and r.key == key and r.status == 200]
    assert len(ends) == 1, sim.timeline()
    return ends[0]["content_state"]


def pushes(sim) -> list[dict]:
    return [r.json for r in sim.requests if r.path == "/push-notification" and r.status == 200]


# ------------------------------------------------------------------------------ extension


def test_load_ext_is_idempotent_and_unload_removes_everything(ip) -> None:
    from activitysmith_jupyter import load_ipython_extension

    before = list(ip.configurables)
    load_ipython_extension(ip)
    assert ip.configurables == before
    assert sum(isinstance(c, ActivitySmithMagics) for c in ip.configurables) == 1
    assert ip.input_transformers_cleanup.count(transform_progress_cell) == 1
    assert "activitysmith_progress" in ip.magics_manager.magics["cell"]

    ip.run_line_magic("unload_ext", "activitysmith_jupyter")
    assert "activitysmith_progress" not in ip.magics_manager.magics["cell"]
    assert "activitysmith" not in ip.magics_manager.magics["line"]
    assert transform_progress_cell not in ip.input_transformers_cleanup
    assert not any(isinstance(c, ActivitySmithMagics) for c in ip.configurables)
    ip.run_line_magic("load_ext", "activitysmith_jupyter")
    assert "activitysmith_progress" in ip.magics_manager.magics["cell"]


def test_importing_the_package_and_activity_does_not_import_ipython() -> None:
    import subprocess

    code = (
        "import sys, activitysmith_jupyter, activitysmith_jupyter.hub.activity; "
        "bad = [m for m in ('IPython', 'tqdm', 'ipywidgets') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------ cell outcomes


def test_success_starts_at_once_then_ends_done_with_a_push(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress --key train
        # Train the model
        x = 41
        x + 1
    """)
    assert result.success and result.result == 42
    settle(ip)
    start = puts(sim, "train")[0]["content_state"]
    assert start["title"] == "Train the model" and start["type"] == "progress"
    assert start["percentage"] == 0 and start["subtitle"] == "Running…"
    end = end_state(sim, "train")
    assert end["percentage"] == 100 and end["color"] == "green"
    assert end["subtitle"].startswith("Done in ")
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Train the model finished in ")
    assert current_activity() is None


def test_failure_propagates_and_sends_failure_end_and_push(ip, sim, capsys) -> None:
    result = run(ip, """
        %%activitysmith_progress -k etl
        rows = 10
        rows / 0
        after = True
    """)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "after" not in ip.user_ns
    assert "ZeroDivisionError" in capsys.readouterr().out  # IPython's own traceback
    settle(ip)
    end = end_state(sim, "etl")
    assert end["color"] == "red" and end["subtitle"].startswith("Failed after ")
    assert end["subtitle"].endswith(": ZeroDivisionError")
    [push] = pushes(sim)
    assert push["title"].startswith("❌ ") and " failed after " in push["title"]
    assert push["message"].splitlines()[0] == "ZeroDivisionError: division by zero"
    assert "line 3" in push["message"] and push["message"].endswith(": rows / 0")


def test_failure_names_the_last_frame_of_user_code_not_the_library(ip, sim, tmp_path, monkeypatch) -> None:
    (tmp_path / "userlib.py").write_text(
        "import json\n\ndef load(text):\n    return json.loads(text)\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run(ip, """
        %%activitysmith_progress -k load
        import userlib
        userlib.load("{not json")
    """)
    assert type(result.error_in_exec).__name__ == "JSONDecodeError"
    settle(ip)
    message = pushes(sim)[0]["message"]
    assert message.startswith("JSONDecodeError: Expecting property name")
    assert "userlib.py, line 4, in load: return json.loads(text)" in message


def test_long_exception_messages_are_truncated_in_plain_text(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -k long
        raise ValueError("x" * 5000)
    """)
    assert isinstance(result.error_in_exec, ValueError)
    settle(ip)
    message = pushes(sim)[0]["message"]
    assert len(message) <= 400 and "…" in message and "\x1b" not in message


def test_keyboard_interrupt_ends_interrupted_and_still_interrupts_the_cell(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -k ctrlc
        raise KeyboardInterrupt
        after = True
    """)
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert "after" not in ip.user_ns
    settle(ip)
    end = end_state(sim, "ctrlc")
    assert end["subtitle"].startswith("Interrupted after ") and end["color"] == "orange"
    assert pushes(sim)[0]["title"].startswith("⏹️ ")


def test_top_level_await_shell_commands_magics_and_display_work_as_without_magic(ip, sim, capfd) -> None:
    result = run(ip, """
        %%activitysmith_progress -k asyncjob
        import asyncio
        await asyncio.sleep(0)
        !echo from-the-shell
        %time y = 2
        files = !echo captured
        {"y": y, "files": list(files)}
    """)
    assert result.success, result.error_in_exec
    assert result.result == {"y": 2, "files": ["captured"]}
    out = capfd.readouterr().out
    assert "from-the-shell" in out and "Wall time" in out
    settle(ip)
    assert end_state(sim, "asyncjob")["subtitle"].startswith("Done in ")


def test_line_numbers_in_tracebacks_match_the_cell(ip) -> None:
    result = run(ip, """
        %%activitysmith_progress -k lines
        a = 1

        b = undefined_name
    """)
    tb = result.error_in_exec.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_lineno == 4


def test_a_syntax_error_in_the_body_starts_nothing(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -k syntax
        def broken(:
    """)
    assert isinstance(result.error_before_exec, SyntaxError)
    settle(ip)
    assert sim.requests == []


def test_no_options_just_works_with_a_generic_title(ip, sim) -> None:
    result = run(ip, "%%activitysmith_progress\nvalue = 3")
    assert result.success and ip.user_ns["value"] == 3
    settle(ip)
    [put] = puts(sim, put_key := sim.requests[0].key)
    assert put_key.startswith("nb-notebook-cell")
    assert put["content_state"]["title"].startswith("Notebook cell [")


def test_nested_run_cell_does_not_end_the_outer_activity(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -k outer
        inner = get_ipython().run_cell("1 + 1")
        assert current_activity_is_open()
    """.replace("current_activity_is_open()", "__import__('activitysmith_jupyter').current_activity() is not None"))
    assert result.success, result.error_in_exec
    settle(ip)
    assert end_state(sim, "outer")["subtitle"].startswith("Done in ")


# ------------------------------------------------------------------------------ handle and bars


def test_handle_steps_drive_a_segmented_activity(ip, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -k deploy -t Deploy --type segmented_progress --steps 3
        from activitysmith_jupyter import current_activity
        act = current_activity()
        assert sim_dispatcher.flush(timeout=10)  # the start is out before the steps come
        act.step("build")
        act.step("test")
        seen = act.content_state
        act.update(message="almost")
    """)
    assert result.success, result.error_in_exec
    seen = ip.user_ns["seen"]
    assert seen["current_step"] == 2 and seen["number_of_steps"] == 3 and seen["subtitle"] == "test"
    settle(ip)
    assert puts(sim, "deploy")[0]["content_state"]["current_step"] == 0
    end = end_state(sim, "deploy")
    assert end["current_step"] == 3 and end["number_of_steps"] == 3
    assert current_activity() is None


def test_handle_update_with_a_bad_field_raises_in_the_cell(ip, sim) -> None:
    from activitysmith_jupyter.errors import PayloadError

    result = run(ip, """
        %%activitysmith_progress -k badfield
        __import__("activitysmith_jupyter").current_activity().update(percentage=250)
    """)
    assert isinstance(result.error_in_exec, PayloadError)
    settle(ip)
    assert end_state(sim, "badfield")["color"] == "red"


def test_third_party_module_that_imported_tqdm_first_drives_the_activity(ip, sim, tmp_path, monkeypatch) -> None:
    pytest.importorskip("tqdm")
    (tmp_path / "thirdparty.py").write_text(textwrap.dedent("""
        from tqdm.auto import tqdm

        def work(n, until):
            for _ in tqdm(range(n), desc="thirdparty", total=n):
                until()
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import thirdparty  # imported before the cell runs, as a library would be  # noqa: F401

    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    result = run(ip, """
        %%activitysmith_progress -k bars -t Bars
        import time, thirdparty
        from activitysmith_jupyter import current_activity
        act = current_activity()
        def until(deadline=[None]):
            # wait (bounded) for the observer thread to mirror the bar: event-driven, not a fixed sleep
            end = time.monotonic() + 10
            while "thirdparty" not in act.content_state.get("subtitle", "") and time.monotonic() < end:
                time.sleep(0.005)
        thirdparty.work(4, until)
        seen = act.content_state
    """)
    assert result.success, result.error_in_exec
    seen = ip.user_ns["seen"]
    assert seen["subtitle"].startswith("thirdparty: ") and seen["percentage"] < 100
    settle(ip)
    assert end_state(sim, "bars")["percentage"] == 100


def test_a_bar_left_open_by_an_earlier_cell_is_not_mirrored(ip, sim) -> None:
    pytest.importorskip("tqdm")
    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    assert run(ip, "from tqdm.auto import tqdm\nleftover = tqdm(total=10, desc='leftover')\nleftover.update(3)").success
    result = run(ip, """
        %%activitysmith_progress -k fresh
        from activitysmith_jupyter import current_activity
        act = current_activity()
        act._observer.poll()  # one look at the live bars, right now
        seen = act.content_state
    """)
    ip.user_ns["leftover"].close()
    assert result.success, result.error_in_exec
    assert ip.user_ns["seen"]["subtitle"] == "Running…"


def test_no_bars_option_switches_mirroring_off(ip, sim) -> None:
    pytest.importorskip("tqdm")
    ip.run_line_magic("config", "ActivitySmithMagics.bar_interval = 0.01")
    result = run(ip, """
        %%activitysmith_progress -k nobars --no-bars
        from tqdm.auto import tqdm
        from activitysmith_jupyter import current_activity
        bar = tqdm(total=10, desc="ignored")
        bar.update(5)
        act = current_activity()
        mirrored = act._observer is not None
        bar.close()
    """)
    assert result.success, result.error_in_exec
    assert ip.user_ns["mirrored"] is False


# ------------------------------------------------------------------------------ options and config


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus", "unrecognized arguments"),
        ("--type pie", "--type='pie' is not one of"),
        ("--type segmented_progress", "needs --steps"),
        ("--steps 0", "at least 1"),
        ("--steps many", "invalid int value"),
        ("-k 'bad key!'", "stream key"),
        ("--notify sometimes", "notify='sometimes' is not one of"),
        ("--color pink", "color='pink' is not one of"),
        ("--client nowhere", "no such variable"),
        ("--client ran", "not an ActivitySmith client"),
        ("-c ' , '", "at least one channel"),
        ("--title ''", "must not be empty"),
    ],
    ids=["unknown", "type", "segmented-no-steps", "steps-zero", "steps-nan", "key", "notify", "color",
         "client-missing", "client-wrong", "channels-empty", "title-empty"],
)
def test_bad_options_raise_usage_error_and_the_cell_does_not_run(ip, sim, line, message, capsys) -> None:
    ip.user_ns["ran"] = 0
    result = run(ip, f"%%activitysmith_progress {line}\nran += 1")
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)
    assert ip.user_ns["ran"] == 0
    assert "UsageError" in capsys.readouterr().err
    settle(ip)
    assert sim.requests == []


def test_config_round_trip_and_listing(ip, sim, capsys) -> None:
    ip.run_line_magic("config", "")
    assert "ActivitySmithMagics" in capsys.readouterr().out
    ip.run_line_magic("config", "ActivitySmithMagics")
    help_text = capsys.readouterr().out
    for trait in ("notify", "channels", "color", "success_color", "mirror_bars", "client", "update_policy"):
        assert f"ActivitySmithMagics.{trait}" in help_text
    assert ip.run_line_magic("config", "ActivitySmithMagics.notify") is None
    ip.run_line_magic("config", "ActivitySmithMagics.notify = 'failure'")
    ip.run_line_magic("config", "ActivitySmithMagics.channels = ['ops', 'ml']")
    assert ip.run_line_magic("config", "ActivitySmithMagics.notify") == "failure"
    assert ip.run_line_magic("config", "ActivitySmithMagics.channels") == ["ops", "ml"]
    run(ip, "%%activitysmith_progress -k cfg\npass")
    settle(ip)
    assert pushes(sim) == []  # success under 'failure'
    assert puts(sim, "cfg")[0]["target"] == {"channels": ["ops", "ml"]}


@pytest.mark.parametrize(
    ("option", "config", "env", "expected_pushes"),
    [
        (None, None, None, 1),
        (None, None, "never", 0),
        (None, "always", "never", 1),
        ("never", "always", "always", 0),
        ("always", "never", "never", 1),
    ],
    ids=["default", "env", "config-over-env", "option-over-config", "option-over-all"],
)
def test_notify_precedence_option_config_env_default(ip, sim, monkeypatch, option, config, env, expected_pushes) -> None:
    if env is not None:
        monkeypatch.setenv("ACTIVITYSMITH_NOTIFY", env)
    if config is not None:
        ip.run_line_magic("config", f"ActivitySmithMagics.notify = {config!r}")
    line = f"-k prec --notify {option}" if option else "-k prec"
    assert run(ip, f"%%activitysmith_progress {line}\npass").success
    settle(ip)
    assert len(pushes(sim)) == expected_pushes


def test_the_same_line_run_again_follows_a_changed_config_and_environment(ip, sim, monkeypatch) -> None:
    """The magic checks each distinct line and set of options once; a change below the line still counts."""
    cell = "%%activitysmith_progress -k again\npass"
    assert run(ip, cell).success
    ip.run_line_magic("config", "ActivitySmithMagics.notify = 'never'")
    assert run(ip, cell).success
    monkeypatch.setenv("ACTIVITYSMITH_COLOR", "purple")
    ip.run_line_magic("config", "ActivitySmithMagics.notify = None")
    assert run(ip, cell).success
    settle(ip)
    assert len(pushes(sim)) == 2  # the first and the third run
    assert [p["content_state"].get("color") for p in puts(sim, "again") if p.get("content_state")][-1] == "purple"
    assert not run(ip, "%%activitysmith_progress -k again --color mauve\npass").success  # refused every time
    assert not run(ip, "%%activitysmith_progress -k again --color mauve\npass").success


def test_channels_from_the_environment_target_activity_and_push(ip, sim, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_CHANNELS", "ops, ml")
    assert run(ip, "%%activitysmith_progress -k chan\npass").success
    settle(ip)
    assert puts(sim, "chan")[0]["target"] == {"channels": ["ops", "ml"]}
    assert pushes(sim)[0]["target"] == {"channels": ["ops", "ml"]}


@pytest.mark.parametrize(
    ("outcome_code", "policy", "expected"),
    [
        ("pass", "failure", 0),
        ("1/0", "failure", 1),
        ("raise KeyboardInterrupt", "failure", 0),
        ("1/0", "never", 0),
        ("raise KeyboardInterrupt", "always", 1),
    ],
    ids=["ok-failure", "error-failure", "interrupt-failure", "error-never", "interrupt-always"],
)
def test_notify_policy(ip, sim, outcome_code, policy, expected) -> None:
    run(ip, f"%%activitysmith_progress -k pol -n {policy}\n{outcome_code}")
    settle(ip)
    assert len(pushes(sim)) == expected
    assert len([r for r in sim.requests if r.method == "DELETE"]) == 1


def test_update_policy_from_config_reaches_the_dispatcher(ip) -> None:
    from activitysmith_jupyter.delivery.dispatcher import UpdatePolicy

    ip.user_ns["UpdatePolicy"] = UpdatePolicy
    ip.run_line_magic("config", "ActivitySmithMagics.update_policy = UpdatePolicy(min_interval=7.0)")
    assert run(ip, "%%activitysmith_progress -k pacing\npass").success
    assert ip.user_ns["sim_dispatcher"].policy == UpdatePolicy(min_interval=7.0)


def test_direct_run_cell_magic_call_runs_the_body_and_raises_its_error(ip, sim) -> None:
    ip.run_cell_magic("activitysmith_progress", "-k direct", "made = 1")
    assert ip.user_ns["made"] == 1
    with pytest.raises(ZeroDivisionError):
        ip.run_cell_magic("activitysmith_progress", "-k direct2 -n never", "1/0")
    settle(ip)
    assert end_state(sim, "direct")["percentage"] == 100
    assert end_state(sim, "direct2")["color"] == "red"


def test_help_is_the_docstring_with_the_options(ip, capsys) -> None:
    ip.run_cell("%%activitysmith_progress?")
    out = capsys.readouterr().out
    assert "Live Activity" in out and "--notify" in out and "--no-bars" in out


# ------------------------------------------------------------------------------ network down


@pytest.mark.filterwarnings("ignore:activitysmith_jupyter. sending to ActivitySmith failed:RuntimeWarning")
def test_network_down_while_the_cell_ends_then_recovery_delivers_end_and_push(ip, sim) -> None:
    ip.user_ns["sim"] = sim
    result = run(ip, """
        %%activitysmith_progress -k offline
        assert sim_dispatcher.flush(timeout=10)   # the start is out
        sim.inject(refuse=True, times=4)          # the network drops before the cell ends
        1/0
    """)
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    settle(ip)
    refused = [r for r in sim.requests if r.status != 200]
    assert sim.requests[0].method == "PUT" and len(sim.requests) >= 3
    assert end_state(sim, "offline")["color"] == "red"
    assert pushes(sim)[0]["title"].startswith("❌ ")
    assert ip.user_ns["sim_dispatcher"].stats.failed == 0
    assert ip.user_ns["sim_dispatcher"].stats.retried >= 1 or refused


# ------------------------------------------------------------------------------ %activitysmith


def test_status_shows_mode_url_masked_key_and_counts(ip, sim, capsys) -> None:
    run(ip, "%%activitysmith_progress -k st\npass")
    settle(ip)
    capsys.readouterr()
    ip.run_line_magic("activitysmith", "status")
    out = capsys.readouterr().out
    assert "mode:       simulator" in out
    assert "base URL:" in out and "API key:" in out
    assert "pending 0, sent 3, failed 0" in out
    assert "last error: none" in out


def test_status_in_live_mode_masks_the_key(ip, server, capsys) -> None:
    from activitysmith_jupyter.api.client import ActivitySmith

    secret = "ask_live_secret_0123456789"
    with ActivitySmith(secret, base_url=server.url) as live:
        ip.user_ns["live"] = live
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'live'")
        ip.run_line_magic("activitysmith", "status")
    out = capsys.readouterr().out
    assert "mode:       live" in out and server.url in out
    assert secret not in out and "ask_…" in out


def test_notify_sends_a_quick_push(ip, sim, capsys) -> None:
    ip.run_line_magic("activitysmith", 'notify "Coffee is ready"')
    settle(ip)
    assert pushes(sim)[0]["title"] == "Coffee is ready"
    assert "queued push" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "title"),
    [("notify It's done", "It's done"), ('notify  "done" ', "done"), ("notify 'a' and 'b'", "'a' and 'b'"),
     ('notify say "hi" now', 'say "hi" now'), ("notify\tdone", "done")],
    ids=["apostrophe", "quoted", "two-quoted", "inner-quotes", "tab"],
)
def test_notify_takes_the_text_as_typed(ip, sim, line, title) -> None:
    ip.run_line_magic("activitysmith", line)  # an apostrophe used to raise shlex's "No closing quotation"
    settle(ip)
    assert pushes(sim)[0]["title"] == title


@pytest.mark.parametrize(("line", "ok"), [("", True), ("help", True), ("frobnicate", False), ("notify", False),
                                          ("status now", False)], ids=["bare", "help", "unknown", "notify-empty",
                                                                         "status-args"])
def test_activitysmith_help_and_mistakes(ip, capsys, line, ok) -> None:
    if ok:
        ip.run_line_magic("activitysmith", line)
        assert "%activitysmith status" in capsys.readouterr().out
    else:
        with pytest.raises(UsageError):
            ip.run_line_magic("activitysmith", line)


# ------------------------------------------------------------------------------ pure helpers


@pytest.mark.parametrize(
    ("raw", "user_ns", "env", "expected"),
    [
        ("%%activitysmith_progress\n# Train\nx", {"__vsc_ipynb_file__": "/w/exp/train.ipynb"}, {}, "train"),
        ("%%activitysmith_progress\n# Train\nx", {}, {"JPY_SESSION_NAME": "/w/etl/nightly.ipynb"}, "nightly"),
        ("%%activitysmith_progress\n# NBVAL_IGNORE_OUTPUT\n#  Reindex  \nx", {}, {}, "Reindex"),
        ("%%activitysmith_progress\nx = 1", {}, {}, "Notebook cell [7]"),
    ],
    ids=["vscode", "jupyter-session", "first-comment", "generic"],
)
def test_title_derivation(raw, user_ns, env, expected) -> None:
    assert derive_title(raw, user_ns, env, 7) == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["%%activitysmith_progress -k a\n", "x\n"],
         ["get_ipython().run_line_magic('activitysmith_progress', '-k a')\n", "x\n"]),
        (["%%activitysmith_progress\n"], ["get_ipython().run_line_magic('activitysmith_progress', '')\n"]),
        (["%%activitysmith_progress?\n"], ["%%activitysmith_progress?\n"]),
        (["%%activitysmith_progressive\n", "x\n"], ["%%activitysmith_progressive\n", "x\n"]),
        (["%%time\n", "x\n"], ["%%time\n", "x\n"]),
        (["%%activitysmith_progress\n", "%%time\n", "x\n"],
         ["get_ipython().run_line_magic('activitysmith_progress', '')\n",
          "get_ipython().run_cell_magic('time', '', 'x\\n')\n"]),
    ],
    ids=["args", "bare", "help", "other-name", "other-magic", "stacked-magic"],
)
def test_transformer_rewrites_only_the_magic_line(lines, expected) -> None:
    assert transform_progress_cell(lines) == expected


def test_stacked_cell_magic_runs(ip, sim, capsys) -> None:
    result = run(ip, "%%activitysmith_progress -k stacked\n%%capture cap\nprint('hidden')")
    assert result.success, result.error_in_exec
    assert ip.user_ns["cap"].stdout == "hidden\n"
    settle(ip)
    assert end_state(sim, "stacked")["percentage"] == 100


# ------------------------------------------------------------------------------ real kernel


def _kernel_env(monkeypatch, server) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", "ask_kernel_test_key_123456")
    monkeypatch.setenv("ACTIVITYSMITH_BASE_URL", server.url)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH", "")]))
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    """Bounded wait for a kernel subprocess: real time is unavoidable there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _notebook(*sources: str):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(s).strip("\n")) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


THIRD_PARTY = """
from tqdm.auto import tqdm  # bound at import, before the extension is loaded


def work(n, until):
    for _ in tqdm(range(n), desc="thirdparty"):
        until()
"""


def test_kernel_run_all_stops_at_the_failing_cell(monkeypatch, server, sim, tmp_path) -> None:
    nbclient = pytest.importorskip("nbclient")
    _kernel_env(monkeypatch, server)
    (tmp_path / "thirdparty.py").write_text(THIRD_PARTY, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ["PYTHONPATH"]]))
    nb = _notebook(
        "import thirdparty\n%load_ext activitysmith_jupyter\n%config ActivitySmithMagics.bar_interval = 0.02",
        """
        %%activitysmith_progress -k kbar -t "Kernel bar"
        import time
        from activitysmith_jupyter import current_activity
        act = current_activity()
        def until():
            end = time.monotonic() + 20  # bounded wait for the observer thread to mirror the bar
            while "thirdparty" not in act.content_state["subtitle"] and time.monotonic() < end:
                time.sleep(0.01)
        thirdparty.work(3, until)
        print(act.content_state["subtitle"])
        """,
        """
        %%activitysmith_progress -k kok -t "Kernel ok"
        import asyncio
        await asyncio.sleep(0.01)
        6 * 7
        """,
        """
        %%activitysmith_progress -k kfail -t "Kernel fail"
        def train():
            raise RuntimeError("diverged")
        train()
        """,
        "print('must not run')",
    )
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=60)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
        client.execute()
    assert "RuntimeError" in str(info.value) and "diverged" in str(info.value)
    assert [o["text"] for o in nb.cells[1].outputs if o.get("name") == "stdout"][0].startswith("thirdparty: ")
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "42"
    assert nb.cells[4].get("execution_count") is None and not nb.cells[4].outputs  # Run-All stopped
    assert _wait_for(lambda: len(pushes(sim)) == 3), sim.timeline()
    assert end_state(sim, "kbar")["percentage"] == 100
    assert end_state(sim, "kok")["percentage"] == 100
    assert end_state(sim, "kfail")["color"] == "red"
    failure = pushes(sim)[2]
    assert failure["title"].startswith("❌ Kernel fail failed after ")
    assert failure["message"].startswith("RuntimeError: diverged\n") and "in train" in failure["message"]
    assert all(r.headers.get("authorization") for r in sim.requests)


@pytest.mark.parametrize(
    ("wait", "error"),
    [
        ("time.sleep(60)", "KeyboardInterrupt"),
        # ipykernel cancels an interrupted async cell only when it next yields: CancelledError
        ("await asyncio.sleep(3)", "CancelledError"),
    ],
    ids=["sync", "async"],
)
def test_kernel_interrupt_ends_interrupted(monkeypatch, server, sim, tmp_path, wait, error) -> None:
    nbclient = pytest.importorskip("nbclient")
    _kernel_env(monkeypatch, server)
    marker = tmp_path / "started"
    nb = _notebook(
        "%load_ext activitysmith_jupyter",
        f"""
        %%activitysmith_progress -k kint -t Sleeper
        import asyncio, pathlib, time
        pathlib.Path({str(marker)!r}).touch()
        {wait}
        """,
        "print('after')",
    )
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=60)

    def interrupt_when_started() -> None:
        if _wait_for(marker.exists, 30):
            # AsyncKernelManager.interrupt_kernel (signal mode: SIGINT), from this thread's own loop
            asyncio.run(client.km.interrupt_kernel())

    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        watcher = threading.Thread(target=interrupt_when_started, daemon=True)
        watcher.start()
        with pytest.raises(nbclient.exceptions.CellExecutionError) as info:
            client.execute_cell(nb.cells[1], 1)
        watcher.join(5)
    assert error in str(info.value)
    assert _wait_for(lambda: any(r.method == "DELETE" for r in sim.requests)), sim.timeline()
    end = end_state(sim, "kint")
    assert end["subtitle"].startswith("Interrupted after ")
    assert _wait_for(lambda: pushes(sim)) and pushes(sim)[0]["title"].startswith("⏹️ Sleeper interrupted")


def test_a_long_notebook_name_titles_the_activity_cut_where_every_made_up_title_is() -> None:
    from activitysmith_jupyter.hub.wording import MAX_TITLE
    from activitysmith_jupyter.notebook.cell_text import derive_title

    name = "quarterly-revenue-forecast-" + "with-every-region-" * 5
    title = derive_title("pass", {}, {"JPY_SESSION_NAME": f"reports/{name}.ipynb"}, 3)
    assert len(title) == MAX_TITLE and title.endswith("…") and title.startswith("quarterly-revenue-forecast-with")
    assert derive_title("pass", {}, {"JPY_SESSION_NAME": "reports/short.ipynb"}, 3) == "short"

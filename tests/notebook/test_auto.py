"""Auto mode in a real InteractiveShell, on a fake clock: the test plays the timer thread (``on_timer``)
after moving the clock inside a cell, so a "40 s" cell costs no real time. Real kernels, nbclient and
terminal IPython are in test_auto_kernel.py."""
from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from shell_helpers import fresh_shell

pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from activitysmith_jupyter.notebook.auto import AutoMode, install_auto, is_magic_cell, parse_after, uninstall_auto  # noqa: E402
from activitysmith_jupyter.hub.activity import current_activity  # noqa: E402

ENV_VARS = ("ACTIVITYSMITH_NOTIFY", "ACTIVITYSMITH_CHANNELS", "ACTIVITYSMITH_COLOR", "JPY_SESSION_NAME",
            "ACTIVITYSMITH_AUTO_AFTER")


def _magics(shell: InteractiveShell) -> Any:
    return shell.magics_manager.registry["ActivitySmithMagics"]


@pytest.fixture
def ip(dispatcher, monkeypatch) -> Iterator[InteractiveShell]:
    """A shell with the extension loaded and auto mode on a fake clock of its own (no timer thread;
    the dispatcher's pacing moves the simulator's clock, not this one)."""
    from activitysmith_jupyter.clock import FakeClock

    clock = FakeClock()
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as shell:
        magics = _magics(shell)
        uninstall_auto(shell, magics)
        auto = install_auto(shell, magics, clock=clock, timer=False)
        shell.user_ns.update(sim_dispatcher=dispatcher, clock=clock, auto=auto)
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        shell.run_line_magic("config", "ActivitySmithMagics.elapsed_updates = False")
        yield shell


def run(ip: InteractiveShell, code: str) -> Any:
    return ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)


def auto(ip: InteractiveShell) -> AutoMode:
    found: AutoMode = ip.user_ns["auto"]
    return found


def settle(ip: InteractiveShell) -> None:
    dispatcher = ip.user_ns["sim_dispatcher"]
    assert dispatcher.flush(timeout=10), dispatcher.stats


def sent(sim) -> list[Any]:
    return [r for r in sim.requests if r.status == 200]


def pushes(sim) -> list[dict]:
    return [r.json for r in sent(sim) if r.path == "/push-notification"]


def ends(sim) -> list[Any]:
    return [r for r in sent(sim) if r.method == "DELETE"]


LONG = "clock.advance({s}); auto.on_timer()"  # the cell runs {s} seconds, the timer thread looks


# ------------------------------------------------------------------------------ threshold


@pytest.mark.parametrize("body", ["x = 1", "1 / 0", "clock.advance(29); auto.on_timer()"],
                         ids=["success", "failure", "just-under"])
def test_runs_shorter_than_the_threshold_send_nothing(ip, sim, body) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, body)
    auto(ip).clock.advance(5)
    auto(ip).on_timer()  # the gap passes: the run is over
    settle(ip)
    assert sent(sim) == [], sim.timeline()
    assert auto(ip).activity is None


def test_a_cell_past_the_threshold_becomes_an_activity_that_ends_with_a_push(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    result = run(ip, f"{LONG.format(s=40)}\nfrom activitysmith_jupyter import current_activity\nact = current_activity()")
    assert result.success
    act = ip.user_ns["act"]
    assert act is not None and act.started and not act.ended
    assert act.content_state["subtitle"] == "cell 2 · 40s"  # the run's time, not the activity's
    auto(ip).clock.advance(1.5)
    auto(ip).on_timer()  # the gap after the last cell passed
    settle(ip)
    assert act.outcome == "completed" and current_activity() is None
    assert len(ends(sim)) == 1 and ends(sim)[0].json["content_state"]["subtitle"] == "Done in 40s"
    assert [p["title"] for p in pushes(sim)] == ["✅ Notebook cell [2] finished in 40s"]  # to the cell's end


def test_cells_back_to_back_are_one_run_and_the_push_names_the_failing_cell(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, "# Nightly features\nimport time")
    run(ip, LONG.format(s=20))
    run(ip, LONG.format(s=20))  # the run passes 30 s here: the activity starts
    act = auto(ip).activity
    assert act is not None and act.title == "Nightly features"  # the run's first cell's comment
    auto(ip).clock.advance(0.2)  # Run All: the next cell is already queued
    run(ip, "clock.advance(5); auto.on_timer()")
    assert act.cell == 5 and act.content_state["subtitle"] == "cell 5 · 45s"
    run(ip, "def train():\n    raise RuntimeError('diverged')\ntrain()")
    settle(ip)
    assert act.outcome == "failed"
    assert len([r for r in sent(sim) if r.method == "PUT"]) >= 1 and len(ends(sim)) == 1
    (push,) = pushes(sim)
    assert push["title"] == "❌ Nightly features failed after 45s"
    assert push["message"].startswith("RuntimeError: diverged\nCell In[6], line 2, in train")


def test_a_cell_after_the_gap_starts_a_new_run(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, LONG.format(s=31))
    first = auto(ip).activity
    auto(ip).clock.advance(3)  # the user comes back later: more than auto_gap (1 s)
    run(ip, "x = 1")  # a new, short run: the old one ended, nothing new starts
    settle(ip)
    assert first is not None and first.outcome == "completed"
    assert auto(ip).activity is None and len(pushes(sim)) == 1


def test_the_gap_comes_from_config(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, "%config ActivitySmithMagics.auto_gap = 10")
    run(ip, LONG.format(s=31))
    first = auto(ip).activity
    auto(ip).clock.advance(3)
    run(ip, "x = 1")
    assert auto(ip).activity is first and not first.ended  # 3 s < 10 s: the same run


def test_ctrl_c_ends_the_run_interrupted(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    result = run(ip, f"{LONG.format(s=31)}\nraise KeyboardInterrupt")
    settle(ip)
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    assert ends(sim)[0].json["content_state"]["subtitle"].startswith("Interrupted after 31s")
    assert pushes(sim)[0]["title"].startswith("⏹️ Notebook cell [2] interrupted")


def test_notify_config_applies_to_runs(ip, sim) -> None:
    run(ip, "%config ActivitySmithMagics.notify = 'failure'")
    run(ip, "%activitysmith auto on --after 30")
    run(ip, LONG.format(s=31))
    auto(ip).clock.advance(2)
    auto(ip).on_timer()
    settle(ip)
    assert len(ends(sim)) == 1 and pushes(sim) == []


def test_a_tqdm_bar_opened_before_the_threshold_drives_the_run(ip, sim) -> None:
    pytest.importorskip("tqdm")
    run(ip, "%activitysmith auto on --after 30")
    run(ip, """
    from tqdm import tqdm
    bar = tqdm(total=10, desc="train", disable=False)
    bar.update(4)
    clock.advance(31); auto.on_timer()
    act = auto.activity
    act._observer.poll()
    shown = act.content_state
    bar.close()
    """)
    shown = ip.user_ns["shown"]
    assert shown["percentage"] == 40 and shown["subtitle"].startswith("train")


def test_a_bar_left_open_before_the_run_is_not_its_progress(ip, sim) -> None:
    pytest.importorskip("tqdm")
    run(ip, "from tqdm import tqdm\nleft = tqdm(total=10, desc='old', disable=False); left.update(3)")
    try:
        run(ip, "%activitysmith auto on --after 30")
        run(ip, f"{LONG.format(s=31)}\nact = auto.activity\nact._observer.poll()")
        assert ip.user_ns["act"].content_state["subtitle"] == "cell 3 · 31s"
    finally:  # closed even when the check fails: an open bar would be every later observer's outermost
        run(ip, "left.close()")


# ------------------------------------------------------------------------------ the magic inside auto mode


def test_a_magic_cell_keeps_its_own_options_and_auto_mode_stays_out(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, LONG.format(s=31))  # a run is open (in its gap) when the magic cell starts
    before = auto(ip).activity
    run(ip, f'%%activitysmith_progress -k mine -t "My training" --notify failure\n{LONG.format(s=60)}')
    settle(ip)
    assert before is not None and before.outcome == "completed"  # the run before it ended
    assert auto(ip).activity is None  # none started for the magic cell
    keys = {r.key for r in ends(sim)}
    assert "mine" in keys and len(keys) == 2
    assert [p["title"] for p in pushes(sim)] == ["✅ Notebook cell [2] finished in 31s"]  # --notify failure won


@pytest.mark.parametrize(("raw", "expected"), [
    ("%%activitysmith_progress -t x\npass", True),
    ("x = 1\n%activitysmith_progress\npass", True),
    ("print('activitysmith_progress')", False),
    ("x = 1", False),
], ids=["cell-magic", "line-magic", "in-a-string", "plain"])
def test_magic_cells_are_recognised(raw, expected) -> None:
    assert is_magic_cell(raw) is expected


# ------------------------------------------------------------------------------ on / off / config / env


def test_on_off_and_config_are_one_setting(ip, capsys) -> None:
    magics = _magics(ip)
    run(ip, "%activitysmith auto")
    assert capsys.readouterr().out.strip() == "auto mode: off"
    run(ip, "%activitysmith auto on")
    assert auto(ip).after == 30 and magics.auto_after == 30  # the 30 s default
    run(ip, "%activitysmith auto on --after 12.5")
    assert auto(ip).after == 12.5 and magics.auto_after == 12.5
    run(ip, "%config ActivitySmithMagics.auto_after = 7")
    assert auto(ip).after == 7
    run(ip, "%activitysmith auto off")
    assert auto(ip).after is None and magics.auto_after is None
    run(ip, "%config ActivitySmithMagics.auto_after = 3")
    assert auto(ip).on and "after 3.0s" in auto(ip).describe()


@pytest.mark.parametrize(("line", "message"), [
    ("auto on --after soon", "--after='soon' is not a number of seconds"),
    ("auto on --after -1", "--after='-1': seconds must be a finite number >= 0"),
    ("auto on --after", "--after needs a number of seconds"),
    ("auto on --later 3", "unknown option '--later'"),
    ("auto maybe", "unknown auto command 'maybe'"),
    ("auto off now", "takes no options"),
], ids=["not-a-number", "negative", "missing", "unknown-option", "unknown-command", "off-args"])
def test_auto_mistakes_raise_usage_errors_naming_the_field(ip, line, message) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        ip.run_line_magic("activitysmith", line)
    assert not auto(ip).on


def test_the_environment_turns_auto_mode_on_at_load(dispatcher, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_AUTO_AFTER", "45")
    with fresh_shell(extension=True) as shell:
        assert _magics(shell).auto_mode.after == 45
        shell.run_line_magic("activitysmith", "auto off")
        assert not _magics(shell).auto_mode.on


def test_config_wins_over_the_environment_at_load(dispatcher, monkeypatch) -> None:
    from traitlets.config import Config

    monkeypatch.setenv("ACTIVITYSMITH_AUTO_AFTER", "45")
    with fresh_shell(extension=False) as shell:
        cfg = Config()
        cfg.ActivitySmithMagics.auto_after = 5.0
        shell.update_config(cfg)  # as an IPython profile would
        shell.run_line_magic("load_ext", "activitysmith_jupyter")
        try:
            assert _magics(shell).auto_mode.after == 5
        finally:
            shell.run_line_magic("unload_ext", "activitysmith_jupyter")


def test_a_bad_environment_value_warns_and_leaves_auto_mode_off(monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_AUTO_AFTER", "thirty")
    with pytest.warns(UserWarning, match="ACTIVITYSMITH_AUTO_AFTER='thirty' is not a number of seconds"):
        with fresh_shell(extension=True) as shell:
            assert not _magics(shell).auto_mode.on


def test_auto_off_right_after_a_long_cell_ends_its_run_completed(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, LONG.format(s=31))
    act = auto(ip).activity
    auto(ip).clock.advance(0.5)  # within the gap: the `auto off` cell belongs to the run
    run(ip, "%activitysmith auto off")
    settle(ip)
    assert act is not None and act.outcome == "completed"
    assert [p["title"] for p in pushes(sim)] == ["✅ Notebook cell [2] finished in 31s"]


def test_unload_ends_an_open_run_and_removes_the_events(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    run(ip, LONG.format(s=31))
    act = auto(ip).activity
    ip.run_line_magic("unload_ext", "activitysmith_jupyter")
    assert act is not None and act.outcome == "completed"
    assert auto(ip).pre_run_cell not in ip.events.callbacks["pre_run_cell"]
    ip.run_line_magic("load_ext", "activitysmith_jupyter")  # fresh_shell unloads at the end


@pytest.mark.parametrize(("text", "seconds"), [("30", 30.0), ("0", 0.0), ("2.5", 2.5)], ids=["int", "zero", "float"])
def test_parse_after(text, seconds) -> None:
    assert parse_after(text) == seconds

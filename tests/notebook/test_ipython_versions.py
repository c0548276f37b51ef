"""IPython 8 and 9 alike: the cell number a ``pre_run_cell`` callback reads (IPython 9.8 counts the cell
before the event, IPython 8 after it), and IPython's events called with and without their ``info`` /
``result`` argument (Colab's kernel once triggered ``post_run_cell`` with none). A real InteractiveShell of
the installed IPython; the core CI legs run this on IPython 8.10 (Python 3.10) and on the newest 9.x."""
from __future__ import annotations

import textwrap
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from shell_helpers import fresh_shell

pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from activitysmith_jupyter.clock import FakeClock  # noqa: E402
from activitysmith_jupyter.hub.after_cell import after_this_cell  # noqa: E402
from activitysmith_jupyter.notebook.auto import install_auto, uninstall_auto  # noqa: E402
from activitysmith_jupyter.notebook.cell_number import running_cell_number  # noqa: E402


@pytest.fixture
def ip(dispatcher, monkeypatch) -> Iterator[InteractiveShell]:
    """The extension loaded, auto mode on a fake clock (the test plays its timer), sending to `dispatcher`."""
    monkeypatch.delenv("ACTIVITYSMITH_AUTO_AFTER", raising=False)
    with fresh_shell(extension=True) as shell:
        magics = shell.magics_manager.registry["ActivitySmithMagics"]
        uninstall_auto(shell, magics)
        auto = install_auto(shell, magics, clock=FakeClock(), timer=False)
        shell.user_ns.update(sim_dispatcher=dispatcher, auto=auto)
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        yield shell


def run(ip: InteractiveShell, code: str) -> Any:
    return ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)


def test_pre_run_cell_reads_the_number_the_prompt_shows(ip) -> None:
    seen: list[int | None] = []

    def pre_run_cell(info: Any) -> None:
        seen.append(running_cell_number(ip, info))

    ip.events.register("pre_run_cell", pre_run_cell)
    try:
        counts = [run(ip, "x = 1").execution_count, run(ip, "1 / 0").execution_count,
                  run(ip, "y = 2").execution_count]
    finally:
        ip.events.unregister("pre_run_cell", pre_run_cell)
    assert counts == [1, 2, 3] and seen == counts  # In [1], In [2], In [3]


@pytest.mark.parametrize("counted_before", [True, False], ids=["ipython-9.8+", "ipython-8"])
def test_the_number_follows_when_ipython_counts(counted_before) -> None:
    # the shell's count as each IPython leaves it when pre_run_cell fires for In [7]
    shell = SimpleNamespace(execution_count=8 if counted_before else 7)
    number = running_cell_number(shell, SimpleNamespace(store_history=True), counted_before=counted_before)
    assert number == 7
    assert running_cell_number(shell, None, counted_before=counted_before) == 7  # no info: a usual cell
    # a cell run without history takes no number: the count stays
    assert running_cell_number(shell, SimpleNamespace(store_history=False), counted_before=counted_before) == \
        shell.execution_count
    assert running_cell_number(SimpleNamespace(), None, counted_before=counted_before) is None


def test_auto_mode_names_the_cell_the_prompt_shows(ip, sim) -> None:
    run(ip, "%activitysmith auto on --after 30")
    result = run(ip, "auto.clock.advance(40); auto.on_timer()\nact = auto.activity")
    act = ip.user_ns["act"]
    assert act is not None and act.cell == result.execution_count == 2
    assert act.content_state["subtitle"] == "cell 2 · 40s"


def test_auto_mode_runs_on_events_without_their_arguments(ip, sim) -> None:
    """A kernel that triggers pre_run_cell / post_run_cell with no info / result (Colab's, once)."""
    run(ip, "%activitysmith auto on --after 30")
    auto = ip.user_ns["auto"]
    ip.events.trigger("pre_run_cell")
    auto.clock.advance(31)
    auto.on_timer()
    act = auto.activity
    assert act is not None and act.started
    ip.events.trigger("post_run_cell")
    auto.clock.advance(2)
    auto.on_timer()  # the gap passed: the run is over
    assert act.outcome == "completed"


@pytest.mark.parametrize("args", [(), (None,), (SimpleNamespace(error_in_exec=ValueError("bad")),)],
                         ids=["no-result", "result-None", "result"])
def test_after_this_cell_runs_once_whatever_the_event_passes(ip, args) -> None:
    got: list[BaseException | None] = []
    ip.user_ns.update(after_this_cell=after_this_cell, got=got, ip=ip, args=args)
    # in a running cell: the event is triggered (as some kernels pass it) before the cell's own end
    result = ip.run_cell("registered = after_this_cell(got.append)\nip.events.trigger('post_run_cell', *args)")
    assert result.success and ip.user_ns["registered"]
    ip.events.trigger("post_run_cell", *args)  # once only
    assert len(got) == 1
    error = got[0]
    assert (error is None) if not args or args[0] is None else isinstance(error, ValueError)


def test_after_this_cell_is_false_when_a_shell_exists_but_runs_no_cell(ip) -> None:
    got: list[BaseException | None] = []
    assert not after_this_cell(got.append)  # code beside a shell (a test, a script that made one)
    ip.run_cell("pass")
    assert got == []

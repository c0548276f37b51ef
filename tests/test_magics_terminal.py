"""The cell magic in a real terminal IPython (prompt_toolkit on a pty): Enter after ``%%activitysmith_progress``
continues the cell like every cell magic; the cell runs once it is finished (a blank line)."""
from __future__ import annotations

import sys

import pytest
from process_helpers import child_env, ended


def test_enter_after_the_cell_magic_line_continues_the_cell(server, sim, tmp_path) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = child_env(server, IPYTHONDIR=str(tmp_path / "ipython"), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
    term = pexpect.spawn(sys.executable, ["-m", "IPython", "--no-banner", "--colors=nocolor", "--no-confirm-exit",
                                          "--HistoryManager.hist_file=:memory:"],
                         env=env, timeout=30, encoding="utf-8", dimensions=(40, 200))
    try:
        term.expect(r"In \[1\]:")
        term.send("%load_ext activitysmith_jupyter\r")
        term.expect(r"In \[2\]:")
        term.send("%%activitysmith_progress --key term\r")
        assert term.expect([r"\.\.\.:", r"In \[3\]:"]) == 0  # a continuation prompt, not the next cell
        assert sim.requests == []  # nothing ran
        term.send("x = 41 + 1\r")
        term.expect(r"\.\.\.:")
        term.send("\r")  # prompt_toolkit: the second Enter on an empty line runs a cell magic (as for %%timeit)
        term.expect(r"\.\.\.:")
        term.send("\r")
        term.expect(r"In \[3\]:")
        term.send("print(x * 10)\r")
        term.expect("420")
        term.expect(r"In \[4\]:")
        term.send("exit\r")
        term.expect(pexpect.EOF)
    finally:
        term.close(force=True)
    assert ended(sim, "term")["content_state"]["subtitle"].startswith("Done in")


@pytest.mark.parametrize(
    ("cell", "status"),
    [("%%activitysmith_progress\n", "incomplete"), ("%%activitysmith_progress --title x\nfor i in range(3):\n", "incomplete"),
     ("%%activitysmith_progress\nx = 1\n\n", "complete"), ("%%timeit\n", "incomplete")],
    ids=["magic-line", "open-loop", "blank-line-ends", "timeit-alike"],
)
def test_check_complete_treats_the_magic_like_any_cell_magic(cell, status) -> None:
    from shell_helpers import fresh_shell

    with fresh_shell(extension=True) as ip:
        assert ip.check_complete(cell)[0] == status  # what the kernel's is_complete and the terminal ask

"""The cell magic in a real terminal IPython (prompt_toolkit under a pseudo-terminal, via pexpect)."""
from __future__ import annotations

import os
import sys

import pytest

pexpect = pytest.importorskip("pexpect")


def test_check_complete_waits_for_the_cell_body_as_for_every_cell_magic() -> None:
    from shell_helpers import fresh_shell

    with fresh_shell(extension=True) as ip:
        check = ip.input_transformer_manager.check_complete
        assert check("%%activitysmith_progress\n")[0] == "incomplete"
        assert check("%%activitysmith_progress -t 'Nightly ETL'\nx = 1\n")[0] == "incomplete"
        assert check("%%activitysmith_progress\nx = 1\n\n")[0] == "complete"
        assert check("%%timeit\n")[0] == check("%%activitysmith_progress\n")[0]


def test_enter_after_the_magic_line_continues_the_cell_in_terminal_ipython(tmp_path) -> None:
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "TERM": "xterm", "PYTHONPATH":
           os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), os.getcwd()) if p)}
    env.pop("ACTIVITYSMITH_API_KEY", None)  # the embedded simulator
    term = pexpect.spawn(sys.executable, ["-m", "IPython", "--no-banner", "--colors=NoColor",
                                          "--TerminalInteractiveShell.autosuggestions_provider=None"],
                         env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
    try:
        term.expect(r"In \[1\]:")
        term.send("%load_ext activitysmith_jupyter\r")
        term.expect(r"In \[2\]:")
        term.send("%%activitysmith_progress -t Terminal\r")
        # the cell goes on: a continuation prompt, not the next "In [3]:" (an empty cell already run)
        assert term.expect([r"\.\.\.:", r"In \[3\]:"]) == 0, term.before
        term.send("answer = 6 * 7\r")
        term.send("\r")  # blank lines end a cell magic's body (two Enters, as for %%capture here)
        term.send("\r")
        term.expect(r"In \[3\]:")
        term.send("print('RESULT', answer, [a['content_state']['subtitle'][:7] for a in "
                  "__import__('activitysmith_jupyter').default_client().simulator.lock_screen()])\r")
        term.expect(r"RESULT 42 \['Done in'\]")
        term.send("exit\r")
        term.expect(pexpect.EOF)
    finally:
        term.close(force=True)

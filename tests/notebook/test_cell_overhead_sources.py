"""A magic cell pays nothing for rich unless rich.progress is really used in it (issue 17, item 10).

rich is in ``sys.modules`` in most Jupyter kernels without the user touching it (httpx's command-line module
imports it). An empty ``%%activitysmith_progress`` cell then must not start (and join) a thread for rich;
a cell that runs a ``Progress`` is still followed, and the thread that looks at it ends with the Progress.
Real IPython, real rich; behaviour, not timing (the figure is in bench/magic_overhead.py).
"""
from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from shell_helpers import fresh_shell

pytest.importorskip("IPython")
pytest.importorskip("rich.progress")

RICH_THREAD = "activitysmith-rich"

NAMES_IN_CELL = """
import threading
names = [t.name for t in threading.enumerate()]
from activitysmith_jupyter import current_activity
open_activity = current_activity()
"""

TRACK_IN_CELL = """
import io, threading
from rich.console import Console
from rich.progress import Progress
from activitysmith_jupyter import current_activity
with Progress(console=Console(file=io.StringIO(), force_terminal=False), auto_refresh=False) as progress:
    task = progress.add_task("Rows", total=5)
    for _ in range(5):
        progress.advance(task)
    names = [t.name for t in threading.enumerate()]
seen = current_activity().last_snapshot
import time
deadline = time.monotonic() + 5
while any(t.name == "activitysmith-rich" for t in threading.enumerate()) and time.monotonic() < deadline:
    time.sleep(0.01)  # the Progress stopped: its looker ends now, while the cell still runs
names_after = [t.name for t in threading.enumerate()]
"""


@pytest.fixture
def ip(dispatcher: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("ACTIVITYSMITH_AUTO_AFTER", "ACTIVITYSMITH_NOTIFY", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as shell:
        shell.user_ns["sim_dispatcher"] = dispatcher
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        yield shell


def run(ip: Any, code: str) -> None:
    result = ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec


def rich_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name == RICH_THREAD]


def no_rich_thread_within(seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while rich_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not rich_threads()


def test_an_empty_magic_cell_with_rich_imported_starts_no_thread_for_rich(ip: Any) -> None:
    run(ip, "import rich.progress")  # as httpx's CLI module does in most kernels
    assert no_rich_thread_within(5)  # none left over from an earlier test's Progress
    for _ in range(3):
        run(ip, "%%activitysmith_progress -k empty -t Empty --notify never\n" + NAMES_IN_CELL)
        assert ip.user_ns["open_activity"] is not None  # the cell's activity was open while it ran
        assert RICH_THREAD not in ip.user_ns["names"]
    assert no_rich_thread_within(0.0)


def test_a_cell_that_runs_a_rich_progress_is_followed_and_its_looker_ends_with_it(ip: Any) -> None:
    run(ip, "import rich.progress")
    run(ip, "%%activitysmith_progress -k rows -t Rows --notify never\n" + TRACK_IN_CELL)
    seen = ip.user_ns["seen"]
    assert seen is not None and (seen.description, seen.n, seen.total) == ("Rows", 5, 5)
    assert RICH_THREAD in ip.user_ns["names"]  # while the Progress was live, one thread looked at it
    assert RICH_THREAD not in ip.user_ns["names_after"]  # ended with the Progress, not with the cell

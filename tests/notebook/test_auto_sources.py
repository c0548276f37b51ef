"""Zero code inside a cell: in a ``%%activitysmith_progress`` cell and in an auto-mode run, every
integration with a global hook (``install()``: Dask's ``Callback.register()``, rich's ``Progress``) is
installed for the libraries already imported, and feeds the cell's activity. Real Dask and rich."""
from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from shell_helpers import fresh_shell

pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from activitysmith_jupyter.notebook.auto import SourceInstaller, install_auto, uninstall_auto  # noqa: E402
from activitysmith_jupyter.clock import FakeClock  # noqa: E402
from activitysmith_jupyter.integrations import INTEGRATIONS  # noqa: E402

needs_dask = pytest.mark.skipif("dask" not in INTEGRATIONS, reason="no dask integration on this branch yet")
needs_rich = pytest.mark.skipif("rich" not in INTEGRATIONS, reason="no rich integration on this branch yet")


@pytest.fixture
def ip(dispatcher, monkeypatch) -> Iterator[InteractiveShell]:
    for name in ("ACTIVITYSMITH_AUTO_AFTER", "ACTIVITYSMITH_NOTIFY", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as shell:
        magics = shell.magics_manager.registry["ActivitySmithMagics"]
        uninstall_auto(shell, magics)
        clock = FakeClock()
        auto = install_auto(shell, magics, clock=clock, timer=False)
        shell.user_ns.update(sim_dispatcher=dispatcher, clock=clock, auto=auto)
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        yield shell


def run(ip: InteractiveShell, code: str) -> Any:
    result = ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


DASK = """
import dask
from dask.callbacks import Callback
total = sum(dask.compute(*[dask.delayed(lambda i: i * i)(i) for i in range(8)], scheduler="sync"))
from activitysmith_jupyter import current_activity
seen = current_activity().last_snapshot
"""


@needs_dask
def test_dask_in_a_magic_cell_is_followed_with_no_code_and_uninstalled_after(ip, sim) -> None:
    pytest.importorskip("dask")
    run(ip, "import dask")  # imported before the cell, as a notebook's first cell does
    before = set(__import__("dask.callbacks").callbacks.Callback.active)
    run(ip, "%%activitysmith_progress -k dk -t Squares\n" + DASK)
    seen = ip.user_ns["seen"]
    assert ip.user_ns["total"] == 140
    assert seen is not None and seen.unit == "tasks" and seen.n == seen.total == 8
    assert set(__import__("dask.callbacks").callbacks.Callback.active) == before  # auto mode off: removed


@needs_dask
def test_dask_drives_an_auto_mode_run(ip, sim) -> None:
    pytest.importorskip("dask")
    run(ip, "import dask")
    run(ip, "%activitysmith auto on --after 30")
    run(ip, "clock.advance(31); auto.on_timer()\n" + DASK)
    seen = ip.user_ns["seen"]
    assert ip.user_ns["auto"].activity.last_snapshot is seen
    assert seen.unit == "tasks" and seen.n == 8
    assert "dask" in ip.user_ns["auto"].sources.installed
    run(ip, "%activitysmith auto off")
    assert ip.user_ns["auto"].sources.installed == ()


RICH = """
from rich.console import Console
from rich.progress import track
import io
console = Console(file=io.StringIO(), force_terminal=True)
for _ in track(range(5), description="Rows", console=console):
    pass
from activitysmith_jupyter import current_activity
seen = current_activity().last_snapshot
"""


@needs_rich
def test_rich_track_in_a_magic_cell_is_followed_with_no_code(ip, sim) -> None:
    pytest.importorskip("rich")
    run(ip, "import rich.progress")
    run(ip, "%%activitysmith_progress -k rk -t Rows\n" + RICH)
    seen = ip.user_ns["seen"]
    assert seen is not None and seen.description == "Rows" and seen.n == seen.total == 5


def test_libraries_never_imported_are_not_installed(monkeypatch) -> None:
    import sys

    installer = SourceInstaller()
    for library in INTEGRATIONS:
        monkeypatch.delitem(sys.modules, library, raising=False)
    installer.ensure()
    assert installer.installed == ()


def test_watching_twice_adds_one_finder_and_unwatching_removes_it() -> None:
    import sys

    installer = SourceInstaller()
    before = list(sys.meta_path)
    try:
        installer.watch(True)
        installer.watch(True)  # every magic cell asks again
        added = [f for f in sys.meta_path if f not in before]
        assert len(added) == 1 and sys.meta_path[0] is added[0]
    finally:
        installer.watch(False)
    assert sys.meta_path == before

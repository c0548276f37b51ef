"""The server extension's pure parts: whether a record names a live run (against jupyter_client's real
kernel manager and real kernels, a restart included) and the page's HTML."""
from __future__ import annotations

import os
import time

import pytest

from activitysmith_jupyter.hub.run_records import RunRecord, new_run_id
from activitysmith_jupyter.notebook.server.liveness import is_live
from activitysmith_jupyter.notebook.server.run_page import ALREADY_ENDED, PageView, render_run_page


@pytest.fixture
def kernels():
    from jupyter_client.multikernelmanager import MultiKernelManager

    manager = MultiKernelManager()
    yield manager
    manager.shutdown_all(now=True)


def _record(kernel_id: str, pid: int, **changes) -> RunRecord:
    return RunRecord(**{"run_id": new_run_id(), "kernel_id": kernel_id, "pid": pid, "title": "Train",
                        "started": time.time(), **changes})


def test_a_run_is_live_only_in_the_kernel_process_that_wrote_it(kernels) -> None:
    kernel_id = kernels.start_kernel(kernel_name="python3")
    pid = kernels.get_kernel(kernel_id).provisioner.pid
    assert isinstance(pid, int)
    assert is_live(_record(kernel_id, pid), kernels)
    assert not is_live(_record(kernel_id, pid, state="ended", ended=time.time(), outcome="completed"), kernels)
    assert not is_live(_record("no-such-kernel", pid), kernels)
    assert not is_live(_record(kernel_id, os.getpid()), kernels)  # another process (this test's)
    before = _record(kernel_id, pid)
    kernels.restart_kernel(kernel_id, now=True)
    new_pid = kernels.get_kernel(kernel_id).provisioner.pid
    assert new_pid != pid
    assert not is_live(before, kernels)  # a Stop from before the restart stops nothing now
    assert is_live(_record(kernel_id, new_pid), kernels)


def _page(**changes) -> str:
    view = dict(record=_record("k", 1, title="<b>Train</b> & \"co\""), live=True, now=time.time() + 192)
    view.update(changes)
    return render_run_page(PageView(**view), action="/activitysmith/runs/abc",  # type: ignore[arg-type]
                           xsrf_form_html='<input type="hidden" name="_xsrf" value="X">')


def test_the_page_of_a_live_run_has_a_stop_form_with_the_xsrf_field() -> None:
    page = _page()
    assert "&lt;b&gt;Train&lt;/b&gt; &amp; &quot;co&quot;" in page and "<b>Train" not in page
    assert "<form method='post' action='/activitysmith/runs/abc'><input type=\"hidden\" name=\"_xsrf\"" in page
    assert ">Running<" in page and "Running for 3m 12s" in page and "<script" not in page


def test_the_page_of_an_ended_run_says_so_and_has_no_stop() -> None:
    record = _record("k", 1, state="ended", ended=time.time(), outcome="interrupted")
    page = _page(record=record, live=False)
    assert ">Interrupted<" in page and ALREADY_ENDED in page and "<form" not in page

"""``<base>activitysmith/runs/<run_id>``: GET shows the run's page, POST (its Stop button) interrupts it.

Both need the server's own login (``@web.authenticated``: token, password or JupyterHub's OAuth; a GET
without it is sent to the login page, a POST is refused) and its authorization (``@authorized`` on the
``kernels`` resource, as the Interrupt button's API needs), and a POST needs the XSRF token the page's
form carries (jupyter_server checks it, and the Origin, before the handler runs). An unknown run id is
a 404; a run that is no longer live answers "already ended" (409) and nothing is interrupted.
"""
from __future__ import annotations

import time
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from ...hub.links import RUNS_PATH
from ...hub.run_records import RunRecord, read_record
from .liveness import is_live
from .run_page import ALREADY_ENDED, STOP_SENT, STOPPED, PageView, render_run_page

__all__ = ["RUN_ID_PATTERN", "RunPageHandler", "handlers"]

RUN_ID_PATTERN = r"(?P<run_id>[A-Za-z0-9_-]+)"


class RunPageHandler(JupyterHandler):
    """One run's page and its Stop."""

    auth_resource = "kernels"

    def initialize(self, runs_dir: str) -> None:
        self.runs_dir = runs_dir

    def _record(self, run_id: str) -> RunRecord:
        record = read_record(self.runs_dir, run_id)
        if record is None:
            raise web.HTTPError(404, "no such run")
        return record

    def _show(self, record: RunRecord, *, live: bool, notice: str | None = None) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        view = PageView(record=record, live=live, now=time.time(), notice=notice)
        self.finish(render_run_page(view, action=self.request.path, xsrf_form_html=self.xsrf_form_html()))

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        record = self._record(run_id)
        live = is_live(record, self.kernel_manager)
        sent = self.get_query_argument("stop", "") == "sent"
        self._show(record, live=live, notice=(STOP_SENT if live else STOPPED) if sent else None)

    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        record = self._record(run_id)  # read just now: nothing awaits between this check and the interrupt
        if not is_live(record, self.kernel_manager):
            self.set_status(409)
            self._show(record, live=False, notice=ALREADY_ENDED)
            return
        self.log.info("ActivitySmith: Stop of run %s interrupts kernel %s", run_id[:6] + "…", record.kernel_id)
        manager: Any = self.kernel_manager  # the server's is async (typed as jupyter_client's sync base)
        await ensure_async(manager.interrupt_kernel(record.kernel_id))
        self.redirect(f"{self.request.path}?stop=sent", status=303)


def handlers(base_url: str, runs_dir: str) -> list[tuple[str, Any, dict[str, Any]]]:
    """The routes under the server's `base_url`."""
    from jupyter_server.utils import url_path_join

    return [(url_path_join(base_url, RUNS_PATH, RUN_ID_PATTERN), RunPageHandler, {"runs_dir": runs_dir})]

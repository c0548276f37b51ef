"""One run's way back from the phone: its buttons, the push's tap, and its record for the Stop page.

Made at an activity's start from its :class:`~activitysmith_jupyter.hub.links.RunLinks`: a fresh
run id (so a Stop button never reaches another run), "Open notebook" as the Live Activity's
``action`` and "Stop" (the run's page on the Jupyter server) as its ``secondary_action``. A type the
API gives no second button (``stats``, ``metrics``, ``timer``) keeps the first one. The record is
written once the first state is queued and marked ended as the run ends, before its final state.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from .run_records import RunRecord, mark_ended, new_run_id, prune, write_record
from .links import RunLinks, run_page_url
from ..payloads import TYPE_FIELDS
from .wording import OPEN_NOTEBOOK, STOP_RUN

__all__ = ["RunButtons", "buttons"]

log = logging.getLogger("activitysmith_jupyter")

_PRUNE_EVERY = 600.0  # seconds between two sweeps of a records directory by this process
_pruned: dict[str, float] = {}  # directory -> time.monotonic() of its last sweep


def _button(title: str, url: str) -> dict[str, Any]:
    return {"title": title, "type": "open_url", "url": url}


def buttons(notebook: str | None, stop: str | None, activity_type: str) -> dict[str, dict[str, Any]]:
    """``{"action": Open notebook, "secondary_action": Stop}``, as far as they are known and the type
    shows a second button."""
    shown = [_button(title, url) for title, url in ((OPEN_NOTEBOOK, notebook), (STOP_RUN, stop)) if url]
    if "secondary_action" not in TYPE_FIELDS.get(activity_type, ()):
        shown = shown[:1]
    return dict(zip(("action", "secondary_action"), shown))


class RunButtons:
    """The links of one run (see the module docstring)."""

    def __init__(self, links: RunLinks, activity_type: str) -> None:
        self.links = links
        run_id = new_run_id() if links.can_stop else None
        stop = run_page_url(links.runs or "", run_id) if run_id else None
        self.fields = buttons(links.notebook, stop, activity_type)  # on every state while it runs
        shows_stop = any(b.get("title") == STOP_RUN for b in self.fields.values())
        self.run_id = run_id if shows_stop else None  # no button, no record
        self.stop_url = stop if shows_stop else None
        self.redirection = links.notebook  # a tap on the closing push
        self._recorded = False

    @property
    def end_fields(self) -> dict[str, dict[str, Any]]:
        """What the end carries: "Open notebook" only (a Stop of an ended run would only say so)."""
        action = self.fields.get("action")
        return {"action": action} if action is not None and action.get("title") == OPEN_NOTEBOOK else {}

    def opened(self, title: str) -> None:
        """The run's first state is queued: write its record (a failure is logged; the Stop page of
        a run without a record answers 404, nothing else happens)."""
        directory, kernel = self.links.records, self.links.kernel_id
        if self.run_id is None or directory is None or kernel is None:
            return
        try:
            if time.monotonic() - _pruned.get(directory, -_PRUNE_EVERY) >= _PRUNE_EVERY:
                _pruned[directory] = time.monotonic()
                prune(directory)
            write_record(directory, RunRecord(run_id=self.run_id, kernel_id=kernel, pid=os.getpid(),
                                              title=title, started=time.time()))
            self._recorded = True
        except OSError as exc:
            log.warning("could not write the run record for the Stop page (%s): %s", directory, exc)

    def closed(self, outcome: str) -> None:
        """The run ends: from now on its Stop page says so. Never raises."""
        if self._recorded and self.run_id is not None and self.links.records is not None:
            self._recorded = False
            mark_ended(self.links.records, self.run_id, outcome)

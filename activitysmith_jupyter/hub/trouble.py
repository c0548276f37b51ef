"""The trouble policy, in one place: which ends and notices push, for every front end. Pure.

``notify`` is ``always`` | ``failure`` | ``never``. Trouble — a failure, a death (the watchdog's "killed"),
SIGTERM ("terminated"), a stall, a failure on any rank — pushes under ``always`` and ``failure``; only an
explicit ``never`` silences it. A success, a stop (``break``) and Ctrl-C push only under ``always``.
Front ends differ only in their default (`FRONT_END_NOTIFY`): whether success pushes. `Activity.end`,
the stall notice, the watchdog's death and stall pushes and a silent rank's failure all ask `should_push`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .options import NOTIFY, NotifyPolicy
from .outcome import FAILURES, OUTCOMES, Outcome

__all__ = ["EVENTS", "FRONT_END_NOTIFY", "TROUBLE", "TroubleEvent", "should_push"]

TroubleEvent = Literal["completed", "stopped", "failed", "interrupted", "terminated", "killed", "stalled"]
EVENTS: tuple[str, ...] = (*OUTCOMES, "stalled")
TROUBLE: frozenset[str] = frozenset((*FAILURES, "stalled"))

# Each front end's default `notify` (docs/trouble.md has this table): trouble pushes under every one of
# them; success pushes where the user started the work on purpose and waits for it to finish.
FRONT_END_NOTIFY: Mapping[str, NotifyPolicy] = {
    "magic": "always", "auto": "always", "activity": "always", "run": "always", "papermill": "always",
    "dask": "always",
    "tqdm": "failure", "callbacks": "failure",  # a bar or a fit inside bigger work: its end is no news
}


def should_push(notify: NotifyPolicy, event: TroubleEvent | Outcome) -> bool:
    """Whether `event` (an outcome, or "stalled") sends a push under `notify`. A wrong word raises
    ``ValueError`` naming it (the watchdog reads both from a pipe)."""
    if notify not in NOTIFY:
        raise ValueError(f"notify={notify!r} is not one of: {', '.join(NOTIFY)}")
    if event not in EVENTS:
        raise ValueError(f"event={event!r} is not one of: {', '.join(EVENTS)}")
    if notify == "never":
        return False
    return notify == "always" or event in TROUBLE

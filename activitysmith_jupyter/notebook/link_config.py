"""The ``%config ActivitySmithMagics`` settings of the links back to the notebook (issue 19).

``public_url``: the base URL at which the phone reaches this Jupyter server (None:
``ACTIVITYSMITH_PUBLIC_URL``, else JupyterHub's public URL of this server, else no link). ``open_in``:
``lab`` (``<base>lab/tree/<path>``) or ``notebook`` (Notebook 7's ``<base>notebooks/<path>``). They
apply to every run of the kernel: the magic, auto mode, ``activity()`` and the framework callbacks.
"""
from __future__ import annotations

from typing import Any

from traitlets import CaselessStrEnum, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from ..hub.links import OPEN_IN, check_public_url
from ..hub.links_here import configure

__all__ = ["LinkConfig"]


class LinkConfig(Configurable):
    """Mixed into ``ActivitySmithMagics``."""

    public_url = Unicode(
        None, allow_none=True, config=True,
        help="Base URL at which your phone reaches this Jupyter server (https://lab.example.org/), for the "
        "'Open notebook' and 'Stop' buttons and the closing push's tap. None: $ACTIVITYSMITH_PUBLIC_URL, "
        "else JupyterHub's public URL of this server, else no link (a localhost link is useless on a phone).",
    )
    open_in = CaselessStrEnum(
        OPEN_IN, default_value=None, allow_none=True, config=True,
        help="Where 'Open notebook' opens it: 'lab' (lab/tree/<path>) or 'notebook' (Notebook 7, "
        "notebooks/<path>). None: $ACTIVITYSMITH_OPEN_IN, else 'lab'.",
    )

    @validate("public_url")
    def _check_public_url(self, proposal: Any) -> str | None:
        value = proposal["value"]
        if value is None or not str(value).strip():
            return None
        try:
            return check_public_url(str(value))
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @observe("public_url", "open_in")
    def _links_changed(self, change: Any) -> None:
        configure(public_url=self.public_url, open_in=self.open_in)

"""The links of runs in this process (issue 19): only a Jupyter kernel behind a public URL gets any.

What the kernel is comes from the modules it already loaded (``sys.modules``: ipykernel's app and its
connection file ``kernel-<id>.json``, IPython's shell and its namespace), never from an import, so a
script, ``activitysmith run`` or a test process gets ``RunLinks()`` (no link) for the cost of a dict
lookup. ``%config ActivitySmithMagics.public_url`` / ``.open_in`` reach ``activity()`` and the
framework callbacks of the same kernel through :func:`configure`.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

from .run_records import ENV_RUNS_DIR
from .links import (
    ENV_OPEN_IN, RUNS_PATH, OpenIn, RunLinks, check_open_in, notebook_path, notebook_url, public_base_url,
)

__all__ = ["configure", "describe_links", "kernel_id", "links_here", "user_namespace"]

log = logging.getLogger("activitysmith_jupyter")

_KERNEL_FILE = re.compile(r"^kernel-([A-Za-z0-9._-]+)\.json$")
_configured: dict[str, str | None] = {"public_url": None, "open_in": None}


def configure(*, public_url: str | None, open_in: str | None) -> None:
    """The ``%config`` values (None: the environment decides), for every run of this process."""
    _configured["public_url"], _configured["open_in"] = public_url, open_in


def kernel_id() -> str | None:
    """The id of the kernel this process is (from its connection file's name), or None."""
    app_module = sys.modules.get("ipykernel.kernelapp")
    app_class: Any = getattr(app_module, "IPKernelApp", None)
    try:
        if app_class is None or not app_class.initialized():
            return None
        connection_file = str(app_class.instance().abs_connection_file or "")
    except Exception:  # noqa: BLE001 - a half-started app: no kernel to name
        return None
    match = _KERNEL_FILE.match(os.path.basename(connection_file))
    return match.group(1) if match else None


def user_namespace() -> Mapping[str, Any]:
    """The running IPython shell's namespace (``__session__``, ``__vsc_ipynb_file__``), else empty."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython is not None else None
    except Exception:  # noqa: BLE001
        return {}
    namespace = getattr(shell, "user_ns", None)
    return namespace if isinstance(namespace, Mapping) else {}


def _open_in(env: Mapping[str, str]) -> OpenIn:
    value = _configured["open_in"] or env.get(ENV_OPEN_IN, "").strip() or "lab"
    try:
        return check_open_in(value, ENV_OPEN_IN if not _configured["open_in"] else "open_in")
    except ValueError as exc:
        log.warning("%s; links open in JupyterLab", exc)
        return "lab"


def links_here(env: Mapping[str, str] = os.environ, *, kernel: str | None = None,
               user_ns: Mapping[str, Any] | None = None) -> RunLinks:
    """The links for a run of this process (`kernel` / `user_ns`: found in ``sys.modules`` unless
    given). ``RunLinks()`` outside a kernel or without a public URL; no Stop page without our server
    extension (it exports ``ACTIVITYSMITH_RUNS_DIR`` to its kernels)."""
    kernel = kernel if kernel is not None else kernel_id()
    if kernel is None:
        return RunLinks()
    try:
        base = public_base_url(env, _configured["public_url"])
    except ValueError as exc:
        log.warning("no links to the notebook: %s", exc)
        return RunLinks()
    if base is None:
        return RunLinks()
    path = notebook_path(user_ns if user_ns is not None else user_namespace(), env)
    records = env.get(ENV_RUNS_DIR, "").strip() or None
    return RunLinks(notebook=notebook_url(base, path, _open_in(env)) if path else None,
                    runs=base + RUNS_PATH + "/", kernel_id=kernel, records=records)


def describe_links(links: RunLinks, *, in_kernel: bool) -> str:
    """One line for ``%activitysmith status``: where the buttons lead, or why there are none."""
    if not links:
        if not in_kernel:
            return "none (not a Jupyter kernel)"
        return "none (no public URL: ACTIVITYSMITH_PUBLIC_URL or %config ActivitySmithMagics.public_url)"
    parts = [f"Open notebook {links.notebook}" if links.notebook else "no notebook path (an unnamed session)"]
    parts.append("Stop page on" if links.can_stop else "no Stop page (the server runs without our extension)")
    return "; ".join(parts)

"""Where the phone's links lead (issue 19): pure rules over the environment and the notebook's namespace.

* The **public base URL** at which the phone reaches this Jupyter server: ``%config
  ActivitySmithMagics.public_url``, else ``ACTIVITYSMITH_PUBLIC_URL``, else what JupyterHub announces
  (``JUPYTERHUB_PUBLIC_URL``, on the path ``JUPYTERHUB_SERVICE_PREFIX``). Nothing else: the server's own
  address is usually ``localhost``, useless on a phone, so without one of these no link is sent.
* The **notebook's path** relative to the server's root: ``JPY_SESSION_NAME`` (jupyter_server sets it
  for a session's kernel; an absolute file path when the front end named the session, made relative
  with the root our server extension exports), else ipykernel's ``__session__``. VS Code's
  ``__vsc_ipynb_file__`` and papermill's input path name a notebook too, but no server serves it:
  they give a title (``notebook/cell_text.py``), never a link.
* The links: ``<base>lab/tree/<path>`` (``<base>notebooks/<path>`` with ``open_in="notebook"``, the
  Notebook 7 form) and a run's page ``<base>activitysmith/runs/<run_id>``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "ENV_OPEN_IN", "ENV_PUBLIC_URL", "ENV_SERVER_ROOT", "OPEN_IN", "OpenIn", "RUNS_PATH", "RunLinks",
    "check_open_in", "check_public_url", "document_path", "notebook_path", "notebook_url", "public_base_url",
    "run_page_url",
]

ENV_PUBLIC_URL = "ACTIVITYSMITH_PUBLIC_URL"
ENV_OPEN_IN = "ACTIVITYSMITH_OPEN_IN"
ENV_SERVER_ROOT = "ACTIVITYSMITH_SERVER_ROOT"  # exported to its kernels by our server extension
RUNS_PATH = "activitysmith/runs"  # <base>activitysmith/runs/<run_id>: the server extension's page

OpenIn = Literal["lab", "notebook"]
OPEN_IN: tuple[OpenIn, ...] = ("lab", "notebook")
_TREE = {"lab": "lab/tree/", "notebook": "notebooks/"}
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)


@dataclass(frozen=True)
class RunLinks:
    """Where a run's buttons lead (``RunOptions.links``). Each part is None where it is not known.

    `notebook`: the notebook in JupyterLab ("Open notebook", and a tap on the closing push);
    `runs`: ``<base>activitysmith/runs/``, a run's Stop page is this plus its run id; `kernel_id`: the
    kernel a Stop interrupts; `records`: the directory of run records the server extension reads.
    ``RunLinks()`` sends no link at all.
    """

    notebook: str | None = None
    runs: str | None = None
    kernel_id: str | None = None
    records: str | None = None

    @property
    def can_stop(self) -> bool:
        """A Stop page can be offered: the server extension serves `runs` and reads `records`."""
        return bool(self.runs and self.kernel_id and self.records)

    def __bool__(self) -> bool:
        return bool(self.notebook or self.can_stop)


def check_public_url(url: str, what: str = "public_url") -> str:
    """`url` with one trailing ``/``; ``ValueError`` naming `what` unless it is an absolute http(s) URL
    without credentials, query or fragment."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError(f"{what}={url!r} is not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what}={url!r}: an absolute http:// or https:// URL, e.g. https://lab.example.org/")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{what}: a link sent to a phone must not carry a user name or password")
    if parts.query or parts.fragment:
        raise ValueError(f"{what}={url!r}: no ?query or #fragment (it is the base of every link)")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path.rstrip("/") + "/", "", ""))


def check_open_in(value: Any, what: str = "open_in") -> OpenIn:
    text = str(value).strip().lower()
    if text not in OPEN_IN:
        raise ValueError(f"{what}={value!r} is not one of: {', '.join(OPEN_IN)}")
    return "lab" if text == "lab" else "notebook"


def public_base_url(env: Mapping[str, str], configured: str | None = None) -> str | None:
    """The base URL the phone reaches this server at (ending in ``/``), or None: `configured` (the
    ``%config`` value), ``ACTIVITYSMITH_PUBLIC_URL``, or JupyterHub's public URL of this server. A bad
    configured value raises ``ValueError`` naming it; a bad JupyterHub value gives None."""
    if configured and configured.strip():
        return check_public_url(configured)
    own = env.get(ENV_PUBLIC_URL, "").strip()
    if own:
        return check_public_url(own, ENV_PUBLIC_URL)
    return _hub_base_url(env)


def _hub_base_url(env: Mapping[str, str]) -> str | None:
    """JupyterHub sets ``JUPYTERHUB_PUBLIC_URL`` (this server's public URL, "" unless the hub has a
    ``public_url``) and ``JUPYTERHUB_SERVICE_PREFIX`` (its path, ``/user/alice/``): the host of the one
    on the path of the other, which also covers a public URL given as a bare origin."""
    public = env.get("JUPYTERHUB_PUBLIC_URL", "").strip()
    if not public:
        return None
    try:
        base = check_public_url(public, "JUPYTERHUB_PUBLIC_URL")
    except ValueError:
        return None
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if not prefix:
        return base
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/", "", ""))


def document_path(path: Any) -> bool:
    """Whether a session name names a document (``analysis/train.ipynb``), not an unnamed session (a
    UUID, ``console-1-…``): only a name with a file extension is linked or shown as a title."""
    if not isinstance(path, str) or not path.strip():
        return False
    name = os.path.basename(path.strip().rstrip("/\\"))
    stem, ext = os.path.splitext(name)
    return bool(stem) and len(ext) > 1 and not _UUID.match(stem)


def notebook_path(user_ns: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The notebook's path relative to the server's root (``/``-separated), or None."""
    for raw in (env.get("JPY_SESSION_NAME"), user_ns.get("__session__")):
        if not document_path(raw):
            continue
        path = str(raw).strip()
        if os.path.isabs(path):  # jupyter_server >= 2 joins the kernel's directory and the session's name
            root = env.get(ENV_SERVER_ROOT, "").strip()
            if not root:
                continue
            path = os.path.relpath(os.path.normpath(path), os.path.normpath(root))
            if path == os.pardir or path.startswith(os.pardir + os.sep):
                continue
        path = path.replace(os.sep, "/").lstrip("/")
        if path and ".." not in path.split("/"):
            return path
    return None


def notebook_url(base: str, path: str, open_in: OpenIn = "lab") -> str:
    """``<base>lab/tree/<path>`` (or ``<base>notebooks/<path>``), the path percent-encoded."""
    return base + _TREE[open_in] + quote(path, safe="/")


def run_page_url(runs: str, run_id: str) -> str:
    """A run's Stop page: ``<base>activitysmith/runs/<run_id>``."""
    return runs + quote(run_id, safe="")

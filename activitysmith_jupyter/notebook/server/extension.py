"""What jupyter_server loads (``activitysmith_jupyter._jupyter_server_extension_points`` names this
module; ``jupyter_server_config.d/activitysmith_jupyter.json``, installed with the package, enables it).

It adds the run pages and tells the server's future kernels, through their environment, where to
write their run records (``ACTIVITYSMITH_RUNS_DIR``: ``<runtime dir>/activitysmith-runs``, mode 0700)
and where the server's root is (``ACTIVITYSMITH_SERVER_ROOT``: the notebook links are relative to
it). Nothing else changes: no new port, no new secret, no route outside ``<base>activitysmith/``.
"""
from __future__ import annotations

import os
from typing import Any

from ...hub.links import ENV_SERVER_ROOT
from ...hub.run_records import ENV_RUNS_DIR, runs_dir
from .handlers import handlers

__all__ = ["load_jupyter_server_extension"]


def load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the run pages to `serverapp` and export the records' directory to its kernels."""
    directory = runs_dir(serverapp.runtime_dir)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)  # only this user reads which run is in which kernel
    # kernels inherit the server's environment (jupyter_server copies os.environ for each kernel)
    os.environ[ENV_RUNS_DIR] = directory
    os.environ[ENV_SERVER_ROOT] = os.path.abspath(os.path.expanduser(serverapp.root_dir))
    base_url = serverapp.web_app.settings.get("base_url", "/")
    serverapp.web_app.add_handlers(".*$", handlers(base_url, directory))
    serverapp.log.info("ActivitySmith: run pages at %sactivitysmith/runs/<run id>", base_url)


_load_jupyter_server_extension = load_jupyter_server_extension  # the name jupyter_server looks for

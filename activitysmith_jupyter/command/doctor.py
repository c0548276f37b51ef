"""``activitysmith doctor``: one screen saying whether this machine reaches your phone, and what to do if not.

Each check gives one line (``ok``, ``!!`` for a problem, ``--`` for information) and, for a problem, the
next step. Exit status 0 when nothing is wrong, 1 otherwise, so CI can run it. The key is only ever
shown masked; ``--offline`` skips the one authenticated call.
"""
from __future__ import annotations

import argparse
import os
import platform
import stat
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from .._version import __version__
from .setup import load_record

__all__ = ["Check", "PROBE_STREAM", "add_parser", "check_api", "check_key", "check_kernel", "check_proxy",
           "check_server_extension", "check_versions", "render", "run_doctor"]

# Ending a stream nobody started is the cheapest authenticated call: the API checks the key, finds no
# such stream (404) and nothing reaches a phone.
PROBE_STREAM = "activitysmith-doctor-check"
SETUP = "run `activitysmith setup`"


@dataclass(frozen=True)
class Check:
    """One line of the screen: ``ok`` True (fine), False (a problem: `fix` says what to do), None (information)."""

    name: str
    ok: bool | None
    text: str
    fix: str | None = None


def add_parser(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor", help="check the key, the API, the kernel set-up and the proxy; say what to fix",
        description="One screen: where the API key comes from (masked), whether the API accepts it, the "
                    "Python/IPython/ipykernel/tqdm versions, whether a fresh kernel loads the extension "
                    "with auto mode, the proxy in effect and the Jupyter server extension. Exit status "
                    "0 when all is well, 1 otherwise.")
    doctor.add_argument("--offline", action="store_true", help="do not call the API")
    doctor.add_argument("--no-kernel", action="store_true", help="skip the fresh-kernel check (quicker)")
    doctor.add_argument("--kernel-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long a fresh kernel may take to start and answer (default 30)")
    doctor.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    return run_doctor(offline=args.offline, kernel_timeout=None if args.no_kernel else args.kernel_timeout)


def run_doctor(*, offline: bool = False, kernel_timeout: float | None = 30.0, out: TextIO | None = None) -> int:
    """Run every check, print the screen; the exit status. `kernel_timeout` None skips the kernel."""
    from ..api.settings import Settings, resolve_settings

    try:
        settings: Settings | None = resolve_settings()
        bad_key = None
    except ValueError as exc:  # a malformed ACTIVITYSMITH_API_KEY (the message never holds the key)
        settings, bad_key = None, str(exc)
    checks = [check_key(settings, bad_key),
              check_api(settings, offline=offline),
              check_versions(),
              check_kernel(kernel_timeout, settings.key_source if settings else None),
              check_proxy(settings.base_url if settings else _base_url()),
              check_server_extension()]
    print(render(checks), file=out or sys.stdout)
    return 1 if any(c.ok is False for c in checks) else 0


def render(checks: list[Check]) -> str:
    """The screen: one line per check, the next step under each problem, a verdict."""
    lines = [f"activitysmith doctor (activitysmith-jupyter {__version__})"]
    for check in checks:
        mark = "ok" if check.ok else "--" if check.ok is None else "!!"
        lines.append(f"  {mark}  {check.name:<9} {check.text}")
        if check.fix:
            lines.append(f"      {'':<9} next: {check.fix}")
    problems = sum(1 for c in checks if c.ok is False)
    lines.append("All well." if not problems else f"{problems} problem{'s' if problems > 1 else ''}: see `next:` above.")
    return "\n".join(lines)


def _base_url() -> str:
    from ..api.settings import DEFAULT_BASE_URL, ENV_BASE_URL

    return os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL


# ------------------------------------------------------------------------------------ the checks


def check_key(settings: Any, bad_key: str | None = None) -> Check:
    from ..api.settings import ENV_API_KEY, mask_key

    if bad_key is not None:
        return Check("key", False, f"{ENV_API_KEY} is not a usable key: {bad_key}",
                     f"set it to the key from the ActivitySmith app, or unset it and {SETUP}")
    if settings is None or settings.api_key is None:
        return Check("key", False, "none: the embedded simulator answers, nothing reaches your phone",
                     f"{SETUP} (or set {ENV_API_KEY})")
    source = settings.key_source
    text = f"{mask_key(settings.api_key)} from {source}"
    if source.startswith("the file "):
        path = Path(source.removeprefix("the file "))
        if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
            return Check("key", False, text + " (readable by other users)", f"chmod 600 {path}")
    return Check("key", True, text)


def check_api(settings: Any, *, offline: bool) -> Check:
    """One authenticated call that shows nothing on a phone (ends a stream nobody started)."""
    if settings is None or settings.api_key is None:
        return Check("API", None, "not checked: no key")
    if offline:
        return Check("API", None, f"{settings.base_url}: not checked (--offline)")
    from ..api.client import ActivitySmith
    from ..errors import APIConnectionError, APIError, AuthenticationError, NotFoundError

    url = settings.base_url
    try:
        with ActivitySmith(settings.api_key, base_url=url, max_retries=0, timeout=10.0) as client:
            client.live_activities.end_stream(PROBE_STREAM)
    except NotFoundError:  # the expected answer: the key was accepted, there is no such stream
        pass
    except AuthenticationError:
        fix = ("replace or unset ACTIVITYSMITH_API_KEY" if settings.key_source == "ACTIVITYSMITH_API_KEY" else
               f"{SETUP} with a current key from the ActivitySmith app")
        return Check("API", False, f"{url} refused the key (401)", fix)
    except APIError as exc:
        if exc.status < 500:  # 402, 403, 429...: the key authenticated
            return Check("API", True, f"{url} accepted the key (and answered {exc})")
        return Check("API", False, f"{url}: {exc}", "the API is failing: try again in a few minutes")
    except APIConnectionError as exc:
        return Check("API", False, f"cannot reach {url}: {exc}",
                     "check the network, the proxy line below and ACTIVITYSMITH_BASE_URL if you set it")
    return Check("API", True, f"{url} accepted the key")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_versions(version: Callable[[str], str | None] = _version) -> Check:
    found = {name: version(dist) for name, dist in (("IPython", "ipython"), ("ipykernel", "ipykernel"),
                                                    ("tqdm", "tqdm"))}
    text = " · ".join([f"Python {platform.python_version()}"] +
                      [f"{name} {v}" if v else f"{name} missing" for name, v in found.items()])
    if found["IPython"] and found["ipykernel"]:
        return Check("versions", True, text)
    return Check("versions", False, text, "pip install 'activitysmith-jupyter[jupyter]'")


def check_kernel(timeout: float | None, own_source: str | None = None) -> Check:
    """A fresh kernel: extension loaded, auto mode, where its key comes from (`own_source`: doctor's own)."""
    if timeout is None:
        return Check("kernel", None, "not checked (--no-kernel)")
    from .doctor_kernel import probe_kernel

    report = probe_kernel(timeout=timeout)
    if report.problem is not None:
        return Check("kernel", False, report.problem, "pip install 'activitysmith-jupyter[jupyter]'; see "
                     "`jupyter kernelspec list`; a slow machine: --kernel-timeout 60")
    where = f"a fresh {report.kernel} kernel" + ("" if report.python == sys.executable else f" ({report.python})")
    if report.error is not None:
        return Check("kernel", False, f"{where}: {report.error}", f"pip install activitysmith-jupyter into {report.python}")
    if not report.loaded:
        return Check("kernel", False, f"{where} does not load the extension" +
                     (f" ({report.stderr_tail})" if report.stderr_tail else ""), _not_loaded_fix(report.python))
    auto = "auto mode off" if report.auto_after is None else f"auto mode on ({report.auto_after:g} s)"
    key = ("no key" if report.key_source in (None, "none") else
           "the same key" if report.key_source == own_source else f"key from {report.key_source}")
    text = f"{where} loads the extension; {auto}; {key}"
    if report.auto_after is None and load_record().get("auto_after") is not None:
        return Check("kernel", False, text, "ipython_config.py or ACTIVITYSMITH_AUTO_AFTER turns auto mode off; "
                     "remove that setting, or re-run `activitysmith setup --no-auto`")
    return Check("kernel", True, text)


def _not_loaded_fix(python: str | None) -> str:
    from .ipython_startup import startup_file

    if not startup_file().exists():
        return SETUP
    return f"{startup_file()} runs in that kernel but did not load the extension: try `{python} -m IPython`"


def check_proxy(url: str, environ: Mapping[str, str] | None = None) -> Check:
    """The proxy httpx uses for `url` (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY; credentials masked)."""
    environ = os.environ if environ is None else environ
    names = [n for n in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY") if environ.get(n) or environ.get(n.lower())]
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or url
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    set_text = f" ({', '.join(names)} set)" if names else ""
    if proxy is None:
        return Check("proxy", None, f"none: {host} is reached directly{set_text}")
    if urllib.request.proxy_bypass(host):
        return Check("proxy", None, f"{host} is reached directly: NO_PROXY covers it{set_text}")
    return Check("proxy", None, f"{host} is reached through {_masked_proxy(proxy)}{set_text}")


def _masked_proxy(proxy: str) -> str:
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if parts.username is None and parts.password is None:
        return proxy
    netloc = "***@" + (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def check_server_extension() -> Check:
    """The Jupyter server extension `activitysmith_jupyter` (links back from the phone), when there is one."""
    try:
        from jupyter_core.paths import jupyter_config_path
        from jupyter_server.extension.config import ExtensionConfigManager
    except ImportError:
        return Check("server", None, "Jupyter server extension: not installed (no jupyter_server here)")
    import activitysmith_jupyter

    if not hasattr(activitysmith_jupyter, "_jupyter_server_extension_points"):
        return Check("server", None, "Jupyter server extension: not installed (this version has none)")
    manager: Any = ExtensionConfigManager(read_config_path=jupyter_config_path())  # untyped
    if manager.enabled("activitysmith_jupyter"):
        return Check("server", True, "Jupyter server extension activitysmith_jupyter: enabled")
    return Check("server", False, "Jupyter server extension activitysmith_jupyter: not enabled",
                 "jupyter server extension enable activitysmith_jupyter")

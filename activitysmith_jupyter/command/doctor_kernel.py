"""What a fresh Jupyter kernel sees: does the extension load, is auto mode on, where its key comes from.

`activitysmith doctor` starts the ``python3`` kernel (the one Jupyter would start) through
jupyter_client, runs one small probe cell and shuts the kernel down. The probe prints one JSON line;
the key itself never leaves the kernel (only where it came from).
"""
from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["KernelReport", "PROBE", "probe_kernel"]

MARK = "ACTIVITYSMITH-DOCTOR "
PROBE = f'''
def _activitysmith_probe():
    import json, sys
    shell = get_ipython()
    magics = shell.magics_manager.registry.get("ActivitySmithMagics")
    auto = getattr(magics, "auto_mode", None)
    report = {{"python": sys.executable, "loaded": magics is not None,
              "auto_after": getattr(auto, "after", None), "key_source": None, "error": None}}
    try:
        from activitysmith_jupyter.api.settings import resolve_settings
        report["key_source"] = resolve_settings().key_source
    except ImportError:
        report["error"] = "activitysmith-jupyter is not installed in this kernel's Python"
    except ValueError as exc:  # a malformed key: the message names the problem, never the key
        report["error"] = str(exc)
    print({MARK!r} + json.dumps(report))
_activitysmith_probe()
del _activitysmith_probe
'''


@dataclass(frozen=True)
class KernelReport:
    """The probe's answer (``problem`` set when the kernel could not be asked)."""

    kernel: str
    python: str | None = None
    loaded: bool = False
    auto_after: float | None = None
    key_source: str | None = None
    error: str | None = None
    problem: str | None = None
    stderr_tail: str | None = None  # the last error line the kernel printed while starting


def probe_kernel(kernel_name: str = "python3", timeout: float = 30.0) -> KernelReport:
    """Start `kernel_name`, run the probe, shut it down. Never raises: trouble is in ``problem``.

    The kernel's own stderr (where IPython reports a failing startup file) is kept, not shown: its
    last line explains an extension that did not load.
    """
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return KernelReport(kernel_name, problem="jupyter_client is not installed")
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as stderr:
        try:
            km, kc = start_new_kernel(kernel_name=kernel_name, startup_timeout=timeout,
                                      stdout=subprocess.DEVNULL, stderr=stderr)
        except Exception as exc:  # no such kernel, or it died or hung while starting
            return KernelReport(kernel_name, problem=f"the {kernel_name} kernel did not start: {_short(exc)}")
        try:
            report = _ask(kernel_name, kc, timeout)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        stderr.seek(0)
        return replace(report, stderr_tail=_last_error_line(stderr.read()))


def _last_error_line(text: str) -> str | None:
    """The last line of a traceback the kernel printed (``ModuleNotFoundError: ...``), if any."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception"))]
    return errors[-1][:200] if errors else None


def _ask(kernel_name: str, kc: Any, timeout: float) -> KernelReport:
    printed: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if message["header"]["msg_type"] == "stream":
            printed.append(message["content"].get("text", ""))
        elif message["header"]["msg_type"] == "error":
            printed.append(f"{message['content'].get('ename')}: {message['content'].get('evalue')}")

    try:
        kc.execute_interactive(PROBE, timeout=timeout, output_hook=collect, store_history=False)
    except TimeoutError:
        return KernelReport(kernel_name, problem=f"the {kernel_name} kernel did not answer within {timeout:g} s")
    for line in "".join(printed).splitlines():
        if line.startswith(MARK):
            data = json.loads(line[len(MARK):])
            return KernelReport(kernel_name, python=data["python"], loaded=bool(data["loaded"]),
                                auto_after=data["auto_after"], key_source=data["key_source"], error=data["error"])
    return KernelReport(kernel_name, problem="the probe cell failed: " + (" ".join(printed).strip()[:200] or "no output"))


def _short(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]

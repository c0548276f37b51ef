"""The watched process's resources as ActivityMetrics: CPU %, memory and, with an NVIDIA GPU, its
utilisation and memory. Sampled in the watchdog (psutil), so a kernel busy in C code cannot delay it.

psutil is needed (``pip install activitysmith-jupyter[monitor]``); nvidia-ml-py is optional: without
it, or without a GPU, the GPU rows are simply absent.
"""
from __future__ import annotations

import logging
from typing import Any

__all__ = ["ResourceSampler", "metrics_state"]

log = logging.getLogger("activitysmith_jupyter")

GB = 1024.0**3


def _gb(n: float) -> float:
    return round(n / GB, 2)


class ResourceSampler:
    """CPU % (since the previous sample, 100 % = one core), resident memory of `pid` and its children,
    and the first GPU's utilisation and memory when NVML answers."""

    def __init__(self, pid: int) -> None:
        import psutil  # the monitor needs it; the watchdog alone does not

        self._psutil = psutil
        self._process = psutil.Process(pid)
        self._process.cpu_percent(None)  # the first call only sets the baseline
        self._nvml: Any = _open_nvml()

    def sample(self) -> list[dict[str, Any]]:
        """1-4 ActivityMetrics: CPU, Memory, then GPU and GPU memory when a GPU is present."""
        try:
            cpu = self._process.cpu_percent(None)
            rss = float(self._process.memory_info().rss)
            for child in self._process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except self._psutil.Error:
                    pass
        except self._psutil.Error:
            return []
        rows: list[dict[str, Any]] = [
            {"label": "CPU", "value": round(max(0.0, cpu)), "unit": "%"},
            {"label": "Memory", "value": _gb(rss), "unit": "GB"},
        ]
        rows.extend(self._gpu_rows())
        return rows

    def _gpu_rows(self) -> list[dict[str, Any]]:
        if self._nvml is None:
            return []
        nvml, handle = self._nvml
        try:
            util = nvml.nvmlDeviceGetUtilizationRates(handle)
            mem = nvml.nvmlDeviceGetMemoryInfo(handle)
        except Exception as exc:  # noqa: BLE001 - a driver hiccup drops the rows, never the monitor
            log.debug("NVML read failed: %s", exc)
            return []
        return [{"label": "GPU", "value": int(util.gpu), "unit": "%"},
                {"label": "GPU memory", "value": _gb(float(mem.used)), "unit": "GB"}]


def _open_nvml() -> Any:
    """(pynvml module, first device handle), or None without nvidia-ml-py or without a GPU."""
    try:
        import pynvml  # type: ignore[import-untyped,unused-ignore]  # nvidia-ml-py: optional, untyped
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() < 1:
            return None
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception as exc:  # noqa: BLE001 - no driver / no device: no GPU rows
        log.debug("no NVIDIA GPU: %s", exc)
        return None


def metrics_state(title: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The monitor's content state (a ``metrics`` Live Activity)."""
    return {"title": title, "type": "metrics", "metrics": rows or [{"label": "CPU", "value": 0, "unit": "%"}],
            "color": "cyan"}

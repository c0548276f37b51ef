"""Whether a run record still names a run that a Stop may interrupt (pure over the kernel manager).

A run is live when its record says running, its kernel is one of this server's, and that kernel is
still the process that wrote the record: a restarted kernel keeps its id but not its process, so the
Stop button of a run from before the restart finds "already ended" instead of interrupting whatever
runs now. The kernel process may sit below a wrapper the kernel spec starts (a shell script,
``conda run``): its process or one of its near ancestors must be the one the server launched.
"""
from __future__ import annotations

from typing import Any

from ...hub.run_records import RunRecord

__all__ = ["is_live", "parent_pid"]

_MAX_WRAPPERS = 4  # how many processes a kernel spec may put between the server's child and the kernel


def parent_pid(pid: int) -> int | None:
    """The parent of `pid` (``/proc``, else psutil when installed), or None (no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])  # "pid (comm) state ppid ..."
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.Process(pid).ppid())
    except Exception:  # noqa: BLE001 - not installed, or no such process
        return None


def _descends_from(pid: int, ancestor: int) -> bool:
    for _ in range(_MAX_WRAPPERS + 1):
        if pid == ancestor:
            return True
        parent = parent_pid(pid)
        if parent is None or parent <= 1:
            return False
        pid = parent
    return False


def is_live(record: RunRecord, kernel_manager: Any) -> bool:
    """`record` is running in a kernel of `kernel_manager` that is still the process that wrote it."""
    if record.state != "running":
        return False
    try:
        if record.kernel_id not in kernel_manager:
            return False
        launched = getattr(getattr(kernel_manager.get_kernel(record.kernel_id), "provisioner", None), "pid", None)
    except Exception:  # noqa: BLE001 - a kernel going away right now
        return False
    if not isinstance(launched, int):  # a provisioner with no local process: its kernel wrote no record here
        return False
    return parent_pid(record.pid) is not None and _descends_from(record.pid, launched)

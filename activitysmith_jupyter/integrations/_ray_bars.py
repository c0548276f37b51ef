"""Ray's distributed tqdm (``ray.experimental.tqdm_ray``) as a source of progress.

A ``tqdm_ray.tqdm`` in a remote task or actor prints its state as a JSON line tagged
``__ray_tqdm_magic_token__``; the driver's log thread hands each one to
``tqdm_ray.instance().process_state_update(state)``, which draws the bar (a driver-side ``tqdm_ray`` bar,
Ray Data's in a terminal, calls it directly). While a source is attached that one method of
``_BarManager`` is wrapped (once, however many sources; restored when the last one detaches), so every
bar update of the cluster reaches the activity through the driver, with no code in the tasks.

What the phone shows: every outermost bar (position 0) seen since the activity began, summed:
``Processing shard ×4: 310/400 · 52.1it/s · ETA 14:32``. The driver's own tqdm bars that draw these are
marked ``activitysmith_follow = False``, so the cell's tqdm observer leaves them to this source.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ray.experimental import tqdm_ray

from ..hub.outcome import Snapshot

if TYPE_CHECKING:
    from ..hub.activity import Activity

__all__ = ["RayBarSource", "bars_snapshot"]

log = logging.getLogger("activitysmith_jupyter")

_lock = threading.RLock()
_sources: list[RayBarSource] = []
_original: Callable[[Any, dict[str, Any]], None] | None = None


def _patch() -> None:
    global _original
    if _original is not None:
        return
    original = tqdm_ray._BarManager.process_state_update

    def process_state_update(self: Any, state: dict[str, Any]) -> None:
        seen = dict(state)  # before the manager prefixes "(pid=…)" to its desc
        with _lock:
            sources = list(_sources)
        for source in sources:
            source.seen(seen)
        original(self, state)
        _leave_to_us(self, seen)

    process_state_update.__wrapped__ = original  # type: ignore[attr-defined]
    tqdm_ray._BarManager.process_state_update = process_state_update  # type: ignore[method-assign]
    _original = original


def _unpatch() -> None:
    global _original
    if _original is not None:
        setattr(tqdm_ray._BarManager, "process_state_update", _original)
        _original = None


def _leave_to_us(manager: Any, state: dict[str, Any]) -> None:
    """The driver-side tqdm bar drawing `state` is this source's: the tqdm observer skips it."""
    try:
        group = manager.bar_groups.get((state.get("ip"), state.get("pid")))
        bar = group.bars_by_uuid.get(state.get("uuid")) if group is not None else None
        if bar is not None:
            bar.bar.activitysmith_follow = False
    except Exception:  # noqa: BLE001 - Ray's private layout changed: both sources then show it
        log.debug("could not mark a tqdm_ray bar", exc_info=True)


def bars_snapshot(bars: list[dict[str, Any]], elapsed: float | None) -> Snapshot | None:
    """The outermost bars (position 0), summed: n, total (when every one has one), unit and a description
    (``desc ×4`` when they share one, else ``4 bars``)."""
    outer = [b for b in bars if not b.get("pos")]
    if not outer:
        return None
    n = float(sum(b.get("x") or 0 for b in outer))
    totals = [b.get("total") for b in outer]
    total = float(sum(t for t in totals if t)) if all(totals) else None
    units = {str(b.get("unit") or "it").strip() for b in outer}
    descs = {str(b.get("desc") or "").strip().rstrip(":") for b in outer}
    if len(descs) == 1:
        desc = descs.pop() or None
        if desc and len(outer) > 1:
            desc = f"{desc} ×{len(outer)}"
    else:
        desc = f"{len(outer)} bars"
    rate = n / elapsed if elapsed and n else None
    return Snapshot(n=n, total=total, unit=units.pop() if len(units) == 1 else "it", description=desc,
                    rate=rate, elapsed=elapsed)


class RayBarSource:
    """Feeds ``tqdm_ray`` bars into an activity (or, with `follow_current`, ``current_activity()``), at
    most every `interval` seconds and whenever a bar closes."""

    def __init__(self, *, interval: float = 0.5, follow_current: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.follow_current = follow_current
        self._clock = clock
        self._activity: Activity | None = None
        self._lock = threading.Lock()
        self._bars: dict[str, dict[str, Any]] = {}
        self._for: Activity | None = None
        self._started = clock()
        self._last_feed = float("-inf")
        self.last: Snapshot | None = None

    def attach(self, activity: Activity | None) -> None:
        with self._lock:
            self._activity, self._bars, self._for = activity, {}, activity
            self._started = self._clock()
        with _lock:
            _patch()
            if self not in _sources:
                _sources.append(self)

    def detach(self) -> None:
        with _lock:
            if self in _sources:
                _sources.remove(self)
            if not _sources:
                _unpatch()

    def seen(self, state: dict[str, Any]) -> None:
        """One bar update (Ray's log thread; never raises)."""
        try:
            self._seen(state)
        except Exception:  # noqa: BLE001 - a malformed state: Ray draws it anyway
            log.debug("following a tqdm_ray bar failed", exc_info=True)

    def _seen(self, state: dict[str, Any]) -> None:
        target = self._target()
        if target is None:
            return
        now = self._clock()
        with self._lock:
            if target is not self._for:  # a new activity: only its own bars
                self._for, self._bars, self._started = target, {}, now
            self._bars[str(state.get("uuid"))] = state
            if not state.get("closed") and now - self._last_feed < self.interval:
                return
            self._last_feed = now
            snap = bars_snapshot(list(self._bars.values()), now - self._started)
            if snap is None:
                return
            self.last = snap
        target.feed(snap)

    def _target(self) -> Activity | None:
        if not self.follow_current:
            return self._activity
        from ..hub.activity import current_activity

        return current_activity()

"""tqdm, met in one place: the observer of every live bar (``observer``: library bars feed the current
activity), a bar's snapshot and wording (``bars``), how a bar's close ended (``close``) and streaks of short
bars that continue one activity (``chain``). The drop-in itself is ``activitysmith_jupyter.tqdm``."""
from __future__ import annotations

from .observer import BarObserver, BarSnapshot, BarSource, observe_bars, observers_active

__all__ = ["BarObserver", "BarSnapshot", "BarSource", "observe_bars", "observers_active"]

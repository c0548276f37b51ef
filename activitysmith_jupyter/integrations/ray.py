"""Ray on the Lock Screen: Tune sweeps, Train runs, and tasks' ``tqdm_ray`` bars.

* **Tune**: ``tune.RunConfig(callbacks=[ActivitySmithCallback()])`` -> ``trial 12/50 · best val_loss
  0.231`` (``_ray_tune``).
* **Train** (v2): ``ray.train.RunConfig(callbacks=[ActivitySmithTrainCallback()])`` -> ``report 12/50 ·
  loss 0.231``, the workers' failures named (``_ray_train``).
* **Core and Data**: ``ray.experimental.tqdm_ray`` bars of remote tasks and actors reach the phone through
  the driver (``RayBarSource``, ``_ray_bars``) with no code: in a ``%%activitysmith_progress`` cell, an
  auto-mode run or an ``activity()`` block they feed its activity.

Importing this module imports ``ray`` only (its ``tqdm_ray`` comes with it); ``ray.tune`` and
``ray.train`` load when their callback is first asked for.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._ray_bars import RayBarSource

if TYPE_CHECKING:
    from ._ray_train import ActivitySmithTrainCallback
    from ._ray_tune import ActivitySmithCallback

__all__ = ["ActivitySmithCallback", "ActivitySmithTrainCallback", "RayBarSource", "install"]

_LAZY = {"ActivitySmithCallback": "._ray_tune", "ActivitySmithTrainCallback": "._ray_train"}


def __getattr__(name: str) -> Any:
    """The callbacks import ``ray.tune`` / ``ray.train`` (seconds): only when one is used."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __package__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install() -> Callable[[], None]:
    """Follow ``tqdm_ray`` bars inside every current activity (a magic cell, an auto-mode run) until
    the returned function is called."""
    source = RayBarSource(follow_current=True)
    source.attach(None)
    return source.detach

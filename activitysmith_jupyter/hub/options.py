"""Run options: what a user may choose about one activity, built and validated once per front end.

Every front end (the tqdm drop-in, the magic and auto mode, ``activity()``, ``activitysmith run``, the
framework callbacks, papermill, Dask) turns its own arguments into one :class:`RunOptions` and hands it
to :class:`~activitysmith_jupyter.hub.activity.Activity`. A bad option raises ``ValueError`` naming it
(or ``PayloadError`` for what the API's rules refuse) when the options are made, before anything is sent.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .links import RunLinks
from .stall import DEFAULT_STALL_AFTER, check_stall_after

if TYPE_CHECKING:
    from ..delivery.dispatcher import Dispatcher
    from ..delivery.policy import UpdatePolicy

__all__ = [
    "ActivityType", "NOTIFY", "NotifyPolicy", "OUTCOME_NAMES", "RunOptions", "TYPES", "check_choice", "split_channels",
]

NotifyPolicy = Literal["always", "failure", "never"]
ActivityType = Literal["progress", "segmented_progress", "stats", "value"]
NOTIFY: tuple[NotifyPolicy, ...] = ("always", "failure", "never")
TYPES: tuple[ActivityType, ...] = ("progress", "segmented_progress", "stats", "value")
# the keys `colors` takes (hub/outcome.py's Outcome; named here so the options import no outcome logic)
OUTCOME_NAMES: tuple[str, ...] = ("completed", "stopped", "failed", "interrupted", "terminated", "killed")


def check_choice(value: Any, allowed: Sequence[str], name: str) -> None:
    """``ValueError`` naming the option and what it takes, unless `value` is one of `allowed`."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of: {', '.join(allowed)}")


def split_channels(channels: Sequence[str] | str | None) -> tuple[str, ...]:
    """``"ops, ml"`` or ``["ops", "ml"]`` -> ``("ops", "ml")`` (blank entries dropped)."""
    if channels is None:
        return ()
    if isinstance(channels, str):
        return tuple(c.strip() for c in channels.split(",") if c.strip())
    return tuple(channels)


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """One activity's options, checked when made; ``replace(...)`` checks again.

    `notify`: when the end pushes. Trouble (a failure, a death, SIGTERM, a stall, a failing rank) pushes
    under ``always`` and ``failure``; only ``never`` silences it. `colors`: outcome -> color at the end.
    """

    title: str
    key: str | None = None
    type: ActivityType | None = None  # None: segmented_progress with `steps`, else progress (`activity_type`)
    steps: int | None = None
    subtitle: str | None = None
    notify: NotifyPolicy = "always"
    channels: tuple[str, ...] = ()
    color: str | None = "blue"
    colors: Mapping[str, str | None] = field(default_factory=dict)
    stall_after: float | None = DEFAULT_STALL_AFTER
    policy: UpdatePolicy | None = None
    client: Any = None  # None: default_client()
    dispatcher: Dispatcher | None = None  # None: the client's dispatcher
    all_ranks: bool | None = None  # None: ACTIVITYSMITH_ALL_RANKS (hub/ranks.py)
    rank: int | None = None
    monitor: bool = False  # the watchdog samples CPU/memory into its own stream
    elapsed_updates: bool = True  # with nothing else to show, the subtitle tells the elapsed time
    links: RunLinks | None = None  # None: found where this runs (links_here.py); RunLinks(): no link

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise ValueError(f"title={self.title!r}: an activity needs a non-empty title")
        if self.type is not None:
            check_choice(self.type, TYPES, "type")
        check_choice(self.notify, NOTIFY, "notify")
        if self.links is not None and not isinstance(self.links, RunLinks):
            raise ValueError(f"links={self.links!r}: a RunLinks, or None")
        steps = self.steps
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise ValueError(f"steps={steps!r}: a whole number of at least 1, or None")
        for outcome in self.colors:
            check_choice(outcome, OUTCOME_NAMES, "colors key")
        channels: Any = self.channels  # callers may pass "ops, ml" or a list as well
        if not isinstance(channels, (str, list, tuple)):  # 123, {...}: the payload rules word it
            from ..payloads import prepare

            prepare("stream", {"content_state": {"title": "t", "type": "progress", "percentage": 0},
                               "channels": channels}, key="check")
        object.__setattr__(self, "channels", split_channels(channels))
        object.__setattr__(self, "colors", dict(self.colors))
        object.__setattr__(self, "stall_after", check_stall_after(self.stall_after))
        _check_first_state(self)

    @property
    def activity_type(self) -> ActivityType:
        """The type shown: `type`, else ``segmented_progress`` for step-based work (`steps`), else ``progress``."""
        return self.type or ("segmented_progress" if self.steps else "progress")

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with `changes`, checked again."""
        return dataclasses.replace(self, **changes)


def _check_first_state(options: RunOptions) -> None:
    """What the API's rules refuse (an unknown color, a bad channel or key) raises ``PayloadError`` now,
    as the dispatcher would check the first state."""
    from ..payloads import prepare
    from .content import first_state

    state = first_state(options.title, activity_type=options.activity_type, steps=options.steps,
                        subtitle=options.subtitle, color=options.color, metrics={})
    request: dict[str, Any] = {"content_state": state}
    if options.channels:
        request["channels"] = list(options.channels)
    prepare("stream", request, key=options.key if options.key is not None else "check")

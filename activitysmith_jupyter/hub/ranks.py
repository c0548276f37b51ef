"""Which process of a distributed job speaks for it: pure rank detection from the environment.

In a job of several processes (torchrun, accelerate, deepspeed, SLURM ``srun``, ``mpirun``, JAX
multi-process), every process runs the same script. Only the global rank 0 mirrors progress and sends
the closing push; the others stay silent unless they fail, when they push "rank 3 failed: …" (a
crash on any rank is worth a notification, and rank 0 may never see it).

The global rank comes from the first variable set, in this order (launchers nest: torchrun inside a
SLURM allocation sets ``RANK`` next to ``SLURM_PROCID``, and ``RANK`` is the precise one):

==========================  ===========================  ==========================================
rank                        world size (for wording)     set by
==========================  ===========================  ==========================================
``RANK``                    ``WORLD_SIZE``               torchrun, accelerate, deepspeed, Lightning
``OMPI_COMM_WORLD_RANK``    ``OMPI_COMM_WORLD_SIZE``     Open MPI ``mpirun``
``PMI_RANK``                ``PMI_SIZE``                 MPICH / Intel MPI (PMI)
``SLURM_PROCID``            ``SLURM_NTASKS``             SLURM ``srun``
``JAX_PROCESS_ID``          ``JAX_NUM_PROCESSES``        some JAX launchers
``LOCAL_RANK`` + node rank  ``WORLD_SIZE``               a launcher that gives only per-node ranks
==========================  ===========================  ==========================================

For the last row the node rank is ``NODE_RANK`` or ``GROUP_RANK`` (0 when neither is set); the global
rank is ``node * LOCAL_WORLD_SIZE + local`` when ``LOCAL_WORLD_SIZE`` is known, and otherwise only
"local 0 on node 0" is known to be rank 0 (the others are reported as their local rank on their node).

``ACTIVITYSMITH_ALL_RANKS=1`` (or ``Activity(all_ranks=True)``) lets every rank mirror its own
activity (its stream key gets a ``-rank<N>`` suffix so the ranks do not overwrite one another).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "ALL_RANKS_ENV",
    "RANK_VARIABLES",
    "RankInfo",
    "RankRole",
    "all_ranks_from_env",
    "detect_rank",
    "rank_role",
]

ALL_RANKS_ENV = "ACTIVITYSMITH_ALL_RANKS"

# (rank variable, world-size variable), first match wins
RANK_VARIABLES: tuple[tuple[str, str], ...] = (
    ("RANK", "WORLD_SIZE"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("PMI_RANK", "PMI_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS"),
    ("JAX_PROCESS_ID", "JAX_NUM_PROCESSES"),
)
_NODE_RANK_VARIABLES = ("NODE_RANK", "GROUP_RANK")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True, kw_only=True)
class RankInfo:
    """Where this process stands in its job. ``rank is None``: not a distributed job (one process)."""

    rank: int | None = None
    world_size: int | None = None
    source: str | None = None  # the variable the rank came from, e.g. "RANK"
    local_rank: int | None = None
    node_rank: int | None = None

    @property
    def distributed(self) -> bool:
        return self.rank is not None or self.local_rank is not None

    @property
    def is_zero(self) -> bool:
        """True for the global rank 0, and for a process that is not part of a distributed job."""
        if self.rank is not None:
            return self.rank == 0
        if self.local_rank is not None:
            return self.local_rank == 0 and (self.node_rank or 0) == 0
        return True

    @property
    def label(self) -> str:
        """``rank 3`` (global), ``rank 2 on node 1`` (only per-node ranks known), or ``""``."""
        if self.rank is not None:
            return f"rank {self.rank}"
        if self.local_rank is not None:
            return f"rank {self.local_rank} on node {self.node_rank or 0}"
        return ""

    def describe(self) -> str:
        """``rank 3 of 8`` when the world size is known, else `label`."""
        if self.label and self.world_size and self.rank is not None:
            return f"{self.label} of {self.world_size}"
        return self.label


def _whole(env: Mapping[str, str], name: str) -> int | None:
    """The non-negative integer in ``env[name]``; None when unset or empty. Anything else is a broken
    launcher environment and is named, rather than guessed (a guess could make two ranks speak)."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 0 (a process rank or count)") from None
    if value < 0:
        raise ValueError(f"{name}={raw!r}: expected a whole number >= 0 (a process rank or count)")
    return value


def detect_rank(environ: Mapping[str, str] | None = None) -> RankInfo:
    """This process's rank from the launcher's variables (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    for rank_name, size_name in RANK_VARIABLES:
        rank = _whole(env, rank_name)
        if rank is not None:
            size = _whole(env, size_name)
            return RankInfo(rank=rank, world_size=size, source=rank_name, local_rank=_whole(env, "LOCAL_RANK"))
    local = _whole(env, "LOCAL_RANK")
    if local is None:
        return RankInfo()
    node, node_source = 0, None
    for name in _NODE_RANK_VARIABLES:
        value = _whole(env, name)
        if value is not None:
            node, node_source = value, name
            break
    world = _whole(env, "WORLD_SIZE")
    per_node = _whole(env, "LOCAL_WORLD_SIZE")
    source = f"{node_source}+LOCAL_RANK" if node_source else "LOCAL_RANK"
    if per_node:
        return RankInfo(rank=node * per_node + local, world_size=world, source=source, local_rank=local,
                        node_rank=node)
    return RankInfo(world_size=world, source=source, local_rank=local, node_rank=node)


def all_ranks_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """``ACTIVITYSMITH_ALL_RANKS``: 1/true/yes/on lets every rank mirror; unset, empty, 0/false/no/off
    keeps rank 0 alone. Anything else raises a ValueError naming the variable."""
    env = os.environ if environ is None else environ
    raw = env.get(ALL_RANKS_ENV)
    if raw is None:
        return False
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{ALL_RANKS_ENV}={raw!r}: expected 1/true/yes/on or 0/false/no/off")


@dataclass(frozen=True, kw_only=True)
class RankRole:
    """What this process does for an activity: mirror it (rank 0, or every rank when asked), or stay
    silent and only report its own failure."""

    info: RankInfo
    all_ranks: bool = False

    @property
    def mirrors(self) -> bool:
        """Sends the activity's start, updates, end and closing push."""
        return self.all_ranks or self.info.is_zero

    @property
    def key_suffix(self) -> str:
        """``-rank3`` when every rank mirrors its own stream; ``""`` otherwise."""
        if not self.all_ranks or not self.info.distributed:
            return ""
        if self.info.rank is not None:
            return f"-rank{self.info.rank}"
        return f"-node{self.info.node_rank or 0}-rank{self.info.local_rank}"

    def failure_text(self, error: str) -> str:
        """``rank 3 failed: RuntimeError: CUDA out of memory`` in a distributed job; `error` as is otherwise."""
        label = self.info.label
        return f"{label} failed: {error}" if label else error

    def pushes(self, outcome: str) -> bool:
        """Whether this rank sends a closing push for `outcome` (notify policy aside): a mirroring rank
        always, a silent one only when it failed (the job's end is rank 0's to tell)."""
        return self.mirrors or outcome == "failed"

    def silent_texts(self, title: str, message: str | None) -> tuple[str, str]:
        """A silent rank's failure push, naming the rank: ``❌ Training failed after 12s (rank 3)`` /
        ``rank 3 failed: RuntimeError: CUDA out of memory``."""
        return f"{title} ({self.info.label or 'a rank'})", self.failure_text(message or "error")


def rank_role(all_ranks: bool | None = None, environ: Mapping[str, str] | None = None, *,
              rank: int | None = None) -> RankRole:
    """The role of this process: `all_ranks` (an Activity option) wins over ``ACTIVITYSMITH_ALL_RANKS``;
    `rank`, when a framework knows it (Lightning's ``trainer.global_rank``), wins over the environment."""
    chosen = all_ranks_from_env(environ) if all_ranks is None else bool(all_ranks)
    if rank is None:
        return RankRole(info=detect_rank(environ), all_ranks=chosen)
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
        raise ValueError(f"rank={rank!r}: a whole number >= 0 (the global rank), or None to read the environment")
    found = detect_rank(environ)
    return RankRole(info=RankInfo(rank=rank, world_size=found.world_size, source="rank=", local_rank=found.local_rank),
                    all_ranks=chosen)

"""Rank detection from launcher variables (pure: environments are plain dicts)."""
from __future__ import annotations

import pytest

from activitysmith_jupyter.hub.ranks import ALL_RANKS_ENV, RankInfo, all_ranks_from_env, detect_rank, rank_role

CASES = [
    ({}, None, None, True, ""),
    ({"RANK": "0", "WORLD_SIZE": "8"}, 0, 8, True, "rank 0 of 8"),
    ({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "3"}, 3, 8, False, "rank 3 of 8"),
    ({"SLURM_PROCID": "5", "SLURM_NTASKS": "16"}, 5, 16, False, "rank 5 of 16"),
    ({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2"}, 1, 2, False, "rank 1 of 2"),
    ({"PMI_RANK": "0", "PMI_SIZE": "4"}, 0, 4, True, "rank 0 of 4"),
    ({"JAX_PROCESS_ID": "2"}, 2, None, False, "rank 2"),
    # torchrun inside a SLURM allocation: RANK is the global one, SLURM_PROCID the node's task
    ({"RANK": "9", "SLURM_PROCID": "1", "SLURM_NTASKS": "2", "WORLD_SIZE": "16"}, 9, 16, False, "rank 9 of 16"),
    ({"RANK": "0", "SLURM_PROCID": "1"}, 0, None, True, "rank 0"),
    ({"LOCAL_RANK": "1", "NODE_RANK": "1", "LOCAL_WORLD_SIZE": "4", "WORLD_SIZE": "8"}, 5, 8, False, "rank 5 of 8"),
    ({"LOCAL_RANK": "0", "GROUP_RANK": "2", "LOCAL_WORLD_SIZE": "4"}, 8, None, False, "rank 8"),
    ({"LOCAL_RANK": "0", "NODE_RANK": "0"}, None, None, True, "rank 0 on node 0"),
    ({"LOCAL_RANK": "0", "NODE_RANK": "1"}, None, None, False, "rank 0 on node 1"),
    ({"LOCAL_RANK": "2"}, None, None, False, "rank 2 on node 0"),
    ({"RANK": "", "SLURM_PROCID": "4"}, 4, None, False, "rank 4"),  # an exported-but-empty RANK is unset
]
CASE_IDS = [
    "single-process", "torchrun-rank0", "torchrun-rank3", "slurm", "openmpi", "pmi", "jax",
    "torchrun-in-slurm", "rank-wins-over-slurm", "local+node-with-local-world-size", "local+group-rank",
    "local0-node0", "local0-node1", "local-only", "empty-rank-ignored",
]


@pytest.mark.parametrize(("env", "rank", "world", "zero", "described"), CASES, ids=CASE_IDS)
def test_detect_rank_follows_the_launcher_conventions(env, rank, world, zero, described) -> None:
    info = detect_rank(env)
    assert (info.rank, info.world_size, info.is_zero, info.describe()) == (rank, world, zero, described)


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"], ids=["word", "negative", "fraction"])
def test_a_malformed_rank_variable_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=r"SLURM_PROCID='.*': expected a whole number >= 0"):
        detect_rank({"SLURM_PROCID": value})


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), (" yes ", True), ("on", True),
                                                  ("0", False), ("false", False), ("", False), ("off", False)],
                         ids=["1", "TRUE", "yes-spaces", "on", "0", "false", "empty", "off"])
def test_all_ranks_env_accepts_the_usual_booleans(value: str, expected: bool) -> None:
    assert all_ranks_from_env({ALL_RANKS_ENV: value}) is expected


def test_all_ranks_env_rejects_other_words_naming_the_variable() -> None:
    with pytest.raises(ValueError, match=r"ACTIVITYSMITH_ALL_RANKS='maybe': expected 1/true/yes/on or 0/false/no/off"):
        all_ranks_from_env({ALL_RANKS_ENV: "maybe"})


@pytest.mark.parametrize(("env", "option", "mirrors", "suffix"), [
    ({"RANK": "0"}, None, True, ""),
    ({"RANK": "1"}, None, False, ""),
    ({"RANK": "1", ALL_RANKS_ENV: "1"}, None, True, "-rank1"),
    ({"RANK": "1", ALL_RANKS_ENV: "1"}, False, False, ""),  # the option wins over the variable
    ({"RANK": "2"}, True, True, "-rank2"),
    ({"LOCAL_RANK": "1", "NODE_RANK": "2"}, True, True, "-node2-rank1"),
    ({}, True, True, ""),  # one process: nothing to tell apart
], ids=["rank0", "rank1-silent", "env-all-ranks", "option-overrides-env", "option-all-ranks", "local-ranks",
        "not-distributed"])
def test_rank_role_decides_who_mirrors(env, option, mirrors, suffix) -> None:
    role = rank_role(option, env)
    assert (role.mirrors, role.key_suffix) == (mirrors, suffix)


@pytest.mark.parametrize(("info", "text"), [
    (RankInfo(rank=3, world_size=8), "rank 3 failed: RuntimeError: CUDA out of memory"),
    (RankInfo(local_rank=1, node_rank=2), "rank 1 on node 2 failed: RuntimeError: CUDA out of memory"),
    (RankInfo(), "RuntimeError: CUDA out of memory"),
], ids=["global", "per-node", "single-process"])
def test_failure_text_names_the_rank(info: RankInfo, text: str) -> None:
    from activitysmith_jupyter.hub.ranks import RankRole

    assert RankRole(info=info).failure_text("RuntimeError: CUDA out of memory") == text

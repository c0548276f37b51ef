"""Distributed ranks with real processes: the same script with a tqdm bar, started as RANK=0 and RANK=1
(as torchrun would), against one loopback simulator server."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import os
    from activitysmith_jupyter.tqdm import tqdm

    fail_at = int(os.environ.get("FAIL_AT", "-1"))
    if os.environ.get("LOOP") == "for":
        for i in tqdm(range(40), desc="Train", mininterval=0, notify="always"):
            if i == fail_at:
                raise RuntimeError("CUDA out of memory")
    else:
        with tqdm(total=40, desc="Train", mininterval=0, notify="always") as bar:
            for i in range(40):
                if i == fail_at:
                    raise RuntimeError("CUDA out of memory")
                bar.update()
""")


def run_ranks(server: Any, tmp_path: Path, ranks: dict[int, dict[str, str]], world: int = 2) -> dict[int, Any]:
    """Start one process per rank at once (highest rank first), wait for all; returns the results."""
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    base = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_ranks", "ACTIVITYSMITH_BASE_URL": server.url,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "WORLD_SIZE": str(world)}
    for name in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "JAX_PROCESS_ID",
                 "ACTIVITYSMITH_ALL_RANKS"):
        base.pop(name, None)
    procs = {rank: subprocess.Popen([sys.executable, str(script)], env={**base, "RANK": str(rank), **extra},
                                    cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for rank, extra in sorted(ranks.items(), reverse=True)}
    results = {}
    for rank, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[rank] = (proc.returncode, err)
    return results


def streams(sim: Any) -> list[Any]:
    return [r for r in sim.requests if r.path.startswith("/live-activity/stream")]


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path.startswith("/push-notification")]


def test_two_ranks_write_one_stream_ended_once_by_rank_zero(server, sim, tmp_path) -> None:
    results = run_ranks(server, tmp_path, {0: {}, 1: {}})
    assert [code for code, _ in results.values()] == [0, 0]
    assert len(sim.activities) == 1  # rank 1 started no second activity
    ends = [r for r in streams(sim) if r.method == "DELETE"]
    assert len(ends) == 1 and ends[0].json["content_state"]["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Train finished in")


def test_rank_one_alone_sends_nothing(server, sim, tmp_path) -> None:
    [(code, _)] = run_ranks(server, tmp_path, {1: {}}).values()
    assert code == 0
    assert sim.requests == []


@pytest.mark.parametrize("loop", ["with", "for"], ids=["with-block", "for-loop"])
def test_a_failing_rank_one_pushes_naming_its_rank(server, sim, tmp_path, loop) -> None:
    results = run_ranks(server, tmp_path, {0: {"LOOP": loop}, 1: {"LOOP": loop, "FAIL_AT": "7"}})
    assert results[0][0] == 0 and results[1][0] == 1
    assert "RuntimeError: CUDA out of memory" in results[1][1]  # the traceback is still printed
    assert len(sim.activities) == 1 and len(ends_by_key(sim)) == 1
    done, failed = sorted(pushes(sim), key=lambda p: "rank 1" in p["title"])
    assert done["title"].startswith("✅ Train finished in")
    assert failed["title"].startswith("❌ Train failed after") and failed["title"].endswith("(rank 1)")
    expected = "rank 1 failed: RuntimeError: CUDA out of memory" if loop == "with" else "rank 1 failed:"
    assert failed["message"].startswith(expected)


def ends_by_key(sim) -> dict[str, Any]:
    """key -> its one final state. Ends are sent at least once: on a very busy machine the exit flush and
    the watchdog may both send the same end, never two different ones."""
    finals: dict[str, list[Any]] = {}
    for r in streams(sim):
        if r.method == "DELETE" and r.json not in finals.setdefault(r.key, []):
            finals[r.key].append(r.json)
    assert all(len(states) == 1 for states in finals.values()), finals
    return {key: states[0] for key, states in finals.items()}


def test_all_ranks_mirror_their_own_streams_when_asked(server, sim, tmp_path) -> None:
    results = run_ranks(server, tmp_path, {0: {"ACTIVITYSMITH_ALL_RANKS": "1"}, 1: {"ACTIVITYSMITH_ALL_RANKS": "1"}})
    assert [code for code, _ in results.values()] == [0, 0]
    keys = sorted({r.key for r in streams(sim)})
    assert len(keys) == 2 and keys[0].endswith("-rank0") and keys[1].endswith("-rank1")
    assert sorted(ends_by_key(sim)) == keys
    assert len(pushes(sim)) == 2


def test_a_malformed_rank_variable_stops_the_script_with_a_clear_error(server, sim, tmp_path) -> None:
    results = run_ranks(server, tmp_path, {0: {"SLURM_PROCID": "x", "RANK": ""}})
    code, err = results[0]
    assert code == 1 and "SLURM_PROCID='x': expected a whole number >= 0" in err
    assert sim.requests == []

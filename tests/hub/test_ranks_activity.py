"""The rank hook of Activity, in process: what a rank other than 0 sends (nothing, or one failure push)."""
from __future__ import annotations

import textwrap
from typing import Any

import pytest

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.hub.outcome import Snapshot

LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "LOCAL_WORLD_SIZE", "SLURM_PROCID",
                 "SLURM_NTASKS", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "JAX_PROCESS_ID", "ACTIVITYSMITH_ALL_RANKS")


@pytest.fixture(autouse=True)
def _no_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path.startswith("/push-notification")]


def drive(act: Activity) -> None:
    act.start()
    act.feed(Snapshot(n=5, total=10, unit="step", description="epoch 1/2"))
    act.metrics(loss=0.5)
    act.update(subtitle="half way")


@pytest.mark.parametrize("outcome", ["completed", "stopped", "interrupted", "terminated"])
def test_a_rank_other_than_zero_sends_nothing_unless_it_fails(dispatcher, sim, clock, monkeypatch, outcome) -> None:
    monkeypatch.setenv("RANK", "1")
    act = Activity("Train", key="job", dispatcher=dispatcher, clock=clock)
    drive(act)
    act.end(outcome)
    dispatcher.flush(timeout=5)
    assert act.outcome == outcome and sim.requests == []


def test_a_failing_rank_pushes_once_naming_it_and_ends_no_stream(dispatcher, sim, clock, monkeypatch) -> None:
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    act = Activity("Train", key="job", dispatcher=dispatcher, clock=clock)
    drive(act)
    act.end("failed", error=RuntimeError("CUDA out of memory"))
    dispatcher.flush(timeout=5)
    assert [r.method for r in sim.requests] == ["POST"]
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Train failed after") and push["title"].endswith("(rank 3)")
    assert push["message"].startswith("rank 3 failed: RuntimeError: CUDA out of memory")


@pytest.mark.parametrize(("notify", "pushed"), [("always", 1), ("failure", 1), ("never", 0)],
                         ids=["always", "failure", "never"])
def test_a_failing_rank_keeps_the_notify_policy(dispatcher, sim, clock, monkeypatch, notify, pushed) -> None:
    monkeypatch.setenv("RANK", "2")
    act = Activity("Train", key="job", notify=notify, dispatcher=dispatcher, clock=clock)
    act.start()
    act.end("failed", error="boom")
    dispatcher.flush(timeout=5)
    assert len(pushes(sim)) == pushed


def test_rank_zero_mirrors_as_a_single_process_does(dispatcher, sim, clock, monkeypatch) -> None:
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "4")
    act = Activity("Train", key="job", dispatcher=dispatcher, clock=clock)
    drive(act)
    act.end("completed")
    dispatcher.flush(timeout=5)
    assert {r.key for r in sim.requests if r.key} == {"job"}
    assert [r.method for r in sim.requests if r.method == "DELETE"] == ["DELETE"]
    assert len(pushes(sim)) == 1


@pytest.mark.parametrize(("env", "option", "key"), [
    ({"RANK": "1", "ACTIVITYSMITH_ALL_RANKS": "1"}, None, "job-rank1"),
    ({"RANK": "1"}, True, "job-rank1"),
    ({"RANK": "1", "ACTIVITYSMITH_ALL_RANKS": "1"}, False, None),
], ids=["env", "option", "option-overrides-env"])
def test_all_ranks_mirror_their_own_stream_when_asked(dispatcher, sim, clock, monkeypatch, env, option, key) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    act = Activity("Train", key="job", all_ranks=option, dispatcher=dispatcher, clock=clock)
    drive(act)
    act.end("completed")
    dispatcher.flush(timeout=5)
    assert act.key == (key or "job")
    assert {r.key for r in sim.requests if r.key} == ({key} if key else set())


def test_an_explicit_rank_wins_over_the_environment(dispatcher, sim, clock, monkeypatch) -> None:
    monkeypatch.setenv("RANK", "0")
    act = Activity("Train", key="job", rank=5, dispatcher=dispatcher, clock=clock)
    drive(act)
    act.end("failed", error=ValueError("bad shard"))
    dispatcher.flush(timeout=5)
    [push] = pushes(sim)
    assert push["message"].startswith("rank 5 failed: ValueError: bad shard")


@pytest.mark.parametrize(("options", "message"), [
    ({"rank": -1}, "rank=-1: a whole number >= 0"),
    ({"rank": True}, "rank=True: a whole number >= 0"),
], ids=["negative", "bool"])
def test_a_bad_rank_option_is_named(dispatcher, clock, options, message) -> None:
    with pytest.raises(ValueError, match=message):
        Activity("Train", dispatcher=dispatcher, clock=clock, **options)


def test_a_bad_all_ranks_variable_is_named_before_anything_is_sent(dispatcher, sim, clock, monkeypatch) -> None:
    monkeypatch.setenv("ACTIVITYSMITH_ALL_RANKS", "sometimes")
    with pytest.raises(ValueError, match="ACTIVITYSMITH_ALL_RANKS='sometimes'"):
        Activity("Train", dispatcher=dispatcher, clock=clock)
    assert sim.requests == []


def test_a_magic_cell_on_rank_one_is_silent_and_its_failure_pushes(dispatcher, sim, monkeypatch) -> None:
    from shell_helpers import fresh_shell

    monkeypatch.setenv("RANK", "1")
    with fresh_shell(extension=True) as ip:
        ip.user_ns["sim_dispatcher"] = dispatcher
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        ok = ip.run_cell(textwrap.dedent("""
            %%activitysmith_progress --key train
            from tqdm.auto import tqdm
            for i in tqdm(range(3)):
                pass
        """).strip("\n"))
        assert ok.success
        dispatcher.flush(timeout=5)
        assert sim.requests == []
        bad = ip.run_cell("%%activitysmith_progress --key train\nraise RuntimeError('CUDA out of memory')")
        assert isinstance(bad.error_in_exec, RuntimeError)
        dispatcher.flush(timeout=5)
    [push] = pushes(sim)
    assert [r.method for r in sim.requests] == ["POST"]
    assert push["message"].startswith("rank 1 failed: RuntimeError: CUDA out of memory")

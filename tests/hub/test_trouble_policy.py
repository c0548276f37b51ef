"""One trouble policy for every front end (issue 17, item 1): a failure, a death, SIGTERM, a stall and a
failing rank push unless notify="never" says otherwise; front ends differ only in whether success pushes.

The policy itself is a pure function (``hub/trouble.py``); the front ends are driven here in-process on
the embedded simulator with a fake clock. Real processes and signals: tests/watchdog/test_trouble_pushes.py.
"""
from __future__ import annotations

import inspect
from typing import Any

import pytest

from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.hub.outcome import Snapshot

EVENTS = ("completed", "stopped", "interrupted", "failed", "terminated", "killed", "stalled")


def titles(sim: Any) -> list[str]:
    return [n["request"]["title"] for n in sim.notifications]


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("notify", ["always", "failure", "never"])
def test_the_policy_table(notify: str, event: str) -> None:
    from activitysmith_jupyter.hub.trouble import should_push

    trouble = event in ("failed", "terminated", "killed", "stalled")
    expected = {"always": True, "failure": trouble, "never": False}[notify]
    assert should_push(notify, event) is expected  # type: ignore[arg-type]


def test_trouble_is_failure_death_sigterm_and_stall() -> None:
    from activitysmith_jupyter.hub.trouble import TROUBLE

    assert TROUBLE == {"failed", "killed", "terminated", "stalled"}


def test_an_unknown_notify_or_event_is_refused_by_name() -> None:
    from activitysmith_jupyter.hub.trouble import should_push

    with pytest.raises(ValueError, match="notify='loud'"):
        should_push("loud", "failed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="event='exploded'"):
        should_push("failure", "exploded")  # type: ignore[arg-type]


def _drop_in_default() -> str:
    from activitysmith_jupyter.tqdm import tqdm_activitysmith

    return str(inspect.signature(tqdm_activitysmith.__init__).parameters["notify"].default)


def _callback_default() -> str:
    from activitysmith_jupyter.integrations.training import TrainingFollower

    return TrainingFollower("Train", {}, build=dict, unfinished="failed").options.notify


def _script_default() -> str:
    from activitysmith_jupyter.hub.script import activity

    return str(inspect.signature(activity.__init__).parameters["notify"].default)


def _run_default() -> str:
    from activitysmith_jupyter.command.cli import _parser

    return str(_parser("activitysmith").parse_args(["run", "--", "true"]).notify)


def _magic_default() -> str:
    from activitysmith_jupyter.notebook.magics import ActivitySmithMagics

    return ActivitySmithMagics(shell=None).run_options(title="Cell").notify


@pytest.mark.parametrize(("front_end", "read"), [
    ("tqdm", _drop_in_default), ("callbacks", _callback_default), ("activity", _script_default),
    ("run", _run_default), ("magic", _magic_default),
], ids=["tqdm", "callbacks", "activity", "run", "magic"])
# (auto mode builds its options with the magic's run_options: the same default)
def test_each_front_ends_default_is_the_tables(front_end: str, read: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTIVITYSMITH_NOTIFY", raising=False)
    success_pushes = front_end not in ("tqdm", "callbacks")  # design.md's table
    assert read() == ("always" if success_pushes else "failure")  # trouble always reaches the phone by default


def test_the_table_in_code_names_every_front_end_and_silences_none() -> None:
    from activitysmith_jupyter.hub.trouble import FRONT_END_NOTIFY

    assert FRONT_END_NOTIFY == {"magic": "always", "auto": "always", "activity": "always", "run": "always",
                                "papermill": "always", "dask": "always", "tqdm": "failure", "callbacks": "failure"}


def test_a_default_drop_in_bar_that_fails_pushes(dispatcher, sim, null) -> None:  # noqa: F811
    from activitysmith_jupyter.tqdm import tqdm

    with pytest.raises(RuntimeError), tqdm(range(10), desc="Doomed run", dispatcher=dispatcher, file=null) as bar:
        for i in bar:
            if i == 4:
                raise RuntimeError("CUDA out of memory")
    assert dispatcher.flush(5)
    [title] = titles(sim)
    assert title.startswith("❌ Doomed run failed")


def test_a_default_drop_in_bar_that_completes_does_not_push(dispatcher, sim, null) -> None:  # noqa: F811
    from activitysmith_jupyter.tqdm import settle, tqdm

    for _ in tqdm(range(10), desc="Quiet run", dispatcher=dispatcher, file=null):
        pass
    settle()
    assert dispatcher.flush(5)
    assert [a.view()["state"] for a in sim.activities.values()] == ["ended"]
    assert titles(sim) == []


def test_a_default_drop_in_bar_that_stalls_pushes(dispatcher, sim, clock, null) -> None:  # noqa: F811
    from activitysmith_jupyter.tqdm import tqdm

    with tqdm(total=20, desc="Stuck job", dispatcher=dispatcher, stall_after=5, file=null) as bar:
        assert dispatcher.flush(5)
        bar.update(6)  # not drawn (within mininterval of the start)
        act = bar._activitysmith.activity
        act.tick()  # what the ticker thread does: it reads the live count
        clock.advance(30)
        act.tick()
        assert dispatcher.flush(5)
        assert titles(sim) == ["⚠️ Stuck job has made no progress for 30s — stuck at 30 %"]
        bar.update(14)


def test_notify_never_silences_a_drop_in_bars_failure(dispatcher, sim, null) -> None:  # noqa: F811
    from activitysmith_jupyter.tqdm import tqdm

    with pytest.raises(KeyError), tqdm(total=3, desc="Hush", dispatcher=dispatcher, notify="never", file=null):
        {}["x"]
    assert dispatcher.flush(5)
    assert titles(sim) == []


@pytest.mark.parametrize(("outcome", "pushed"), [("completed", False), ("failed", True)])
def test_a_training_callbacks_run_pushes_its_failure_not_its_success(dispatcher, sim, outcome, pushed) -> None:  # noqa: F811
    from activitysmith_jupyter.integrations.training import TrainingFollower

    run = TrainingFollower("Fit", {"dispatcher": dispatcher, "key": "fit"},
                           build=lambda: {"n": 3, "total": 10, "unit": "epoch"}, unfinished="failed")
    run.begin()
    run.finish(outcome, error=RuntimeError("nan loss") if pushed else None)  # type: ignore[arg-type]
    assert dispatcher.flush(5)
    assert len(titles(sim)) == (1 if pushed else 0), titles(sim)


def test_an_auto_mode_run_checks_for_stalls(dispatcher, sim) -> None:  # noqa: F811
    from activitysmith_jupyter.hub.options import RunOptions
    from activitysmith_jupyter.notebook.auto_activity import AutoActivity

    act_clock = FakeClock()
    options = RunOptions(title="Notebook run", key="auto", dispatcher=dispatcher, stall_after=60)
    act = AutoActivity(options, head_start=0.0, stale_bars=frozenset(), cell=3, clock=act_clock)
    act.start(background=False)
    act.feed(Snapshot(n=47, total=100))
    act_clock.advance(120)
    act.tick()
    assert dispatcher.flush(5)
    assert titles(sim) == ["⚠️ Notebook run has made no progress for 2 min — stuck at 47 %"]
    act.end("completed")


def test_a_stall_of_an_activity_with_notify_failure_pushes_and_never_does_not(dispatcher, sim) -> None:  # noqa: F811
    for notify in ("failure", "never"):
        act_clock = FakeClock()
        act = Activity(f"Job {notify}", dispatcher=dispatcher, clock=act_clock, notify=notify, stall_after=60).start()
        act.feed(Snapshot(n=5, total=10))
        act_clock.advance(90)
        act.tick()
        act.end("completed")
    assert dispatcher.flush(5)
    assert titles(sim) == ["⚠️ Job failure has made no progress for 1 min — stuck at 50 %"]

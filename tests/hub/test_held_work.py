"""An activity's end waits for work its owner left running (hub/held.py), and takes that work's outcome."""
from __future__ import annotations

import threading

import pytest

from activitysmith_jupyter.hub import held
from activitysmith_jupyter.hub.activity import Activity, current_activity
from activitysmith_jupyter.hub.outcome import Snapshot


def ends(sim) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests if r.method == "DELETE"]


def test_the_owners_end_waits_for_the_last_work_and_then_ends_completed(dispatcher, sim, clock) -> None:
    one, two = object(), object()
    with Activity("Cluster job", dispatcher=dispatcher, clock=clock) as act:
        held.hold(act, one)
        held.hold(act, two)
    assert act.outcome is None and current_activity() is None and held.holding(act) == 2
    clock.advance(30)
    held.release(act, one, "completed", last=Snapshot(n=5, total=10, unit="tasks"))
    assert act.outcome is None
    held.release(act, two, "completed", last=Snapshot(n=10, total=10, unit="tasks"))
    assert act.outcome == "completed" and act.elapsed == pytest.approx(30)
    assert dispatcher.flush(5)
    assert ends(sim)[-1]["subtitle"].startswith("Done · 10/10 in 30s")


@pytest.mark.parametrize(("outcomes", "expected"), [
    (["completed", "failed", "stopped"], "failed"),
    (["stopped", "completed"], "stopped"),
    (["failed", "failed"], "failed"),
], ids=["failed-wins", "stopped-over-completed", "first-failure"])
def test_the_worst_outcome_of_the_work_is_the_activitys(dispatcher, sim, outcomes, expected) -> None:
    work = [object() for _ in outcomes]
    act = Activity("Batch", dispatcher=dispatcher).start()
    for w in work:
        held.hold(act, w)
    act.end("completed")
    for n, (w, outcome) in enumerate(zip(work, outcomes)):
        held.release(act, w, outcome, error=f"task {n} went wrong" if outcome != "completed" else None)
    assert act.outcome == expected
    if expected == "failed":
        assert dispatcher.flush(5)
        assert f"task {outcomes.index('failed')} went wrong" in ends(sim)[-1]["subtitle"]


def test_work_that_failed_before_the_owner_ended_still_fails_it(dispatcher, sim) -> None:
    act = Activity("Early failure", dispatcher=dispatcher).start()
    work = object()
    held.hold(act, work)
    held.release(act, work, "failed", error="task 'div-1' raised ZeroDivisionError: division by zero")
    assert act.outcome is None  # the owner decides when it ends ...
    act.end("completed")
    assert act.outcome == "failed"  # ... and the work's trouble is its outcome


@pytest.mark.parametrize("outcome", ["failed", "interrupted", "terminated"])
def test_the_owners_own_trouble_ends_it_at_once(dispatcher, outcome) -> None:
    act = Activity("Broken", dispatcher=dispatcher).start()
    work = object()
    held.hold(act, work)
    act.end(outcome, error="boom")
    assert act.outcome == outcome
    held.release(act, work, "completed")  # later: nothing happens
    assert act.outcome == outcome


def test_a_deferred_activity_still_ends_on_sigterm_style_ends(dispatcher) -> None:
    act = Activity("Held", dispatcher=dispatcher).start()
    held.hold(act, object())
    act.end("completed")
    assert act.outcome is None
    act.end("terminated")  # what the SIGTERM handler does to every open activity
    assert act.outcome == "terminated"


def test_releases_racing_the_owners_end_never_lose_the_end(dispatcher) -> None:
    for _ in range(200):
        act = Activity("Race", dispatcher=dispatcher).start()
        work = object()
        held.hold(act, work)
        t = threading.Thread(target=held.release, args=(act, work, "completed"))
        t.start()
        act.end("completed")
        t.join()
        assert act.outcome == "completed"

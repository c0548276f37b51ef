"""Stalled runs (issue 13): one push and a subtitle after `stall_after` without progress; the subtitle
recovers without a push when progress moves again. The activity's clock is injected (no real waits)."""
from __future__ import annotations

import pytest

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.hub.outcome import Snapshot
from activitysmith_jupyter.hub.stall import StallWatch, check_stall_after
from activitysmith_jupyter.hub.wording import stall_push_title, stall_subtitle


def make(dispatcher, clock, **options) -> Activity:
    return Activity("Training", key="train", dispatcher=dispatcher, clock=clock, **options)


def puts(sim) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests if r.method == "PUT"]


def test_no_progress_for_stall_after_pushes_once_and_says_so_in_the_subtitle(dispatcher, sim, clock) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock).start()
    act.feed(Snapshot(n=47, total=100))
    act_clock.advance(1200)
    act.tick()
    act_clock.advance(60)
    act.tick()  # still stuck: no second push
    assert dispatcher.flush(5)
    assert [n["request"]["title"] for n in sim.notifications] == [
        "⚠️ Training has made no progress for 20 min — stuck at 47 %"]
    assert puts(sim)[-1]["subtitle"] == "⚠️ No progress for 20 min · stuck at 47 %"
    assert puts(sim)[-1]["percentage"] == 47


def test_progress_that_resumes_restores_the_subtitle_without_a_push(dispatcher, sim, clock) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock).start()
    act.feed(Snapshot(n=470, total=1000, description="epoch 2"))
    act_clock.advance(700)
    act.tick()
    act.feed(Snapshot(n=471, total=1000, description="epoch 2"))  # same whole percent: only the stall resends
    assert dispatcher.flush(5)
    pushes = len(sim.notifications)
    assert pushes == 1
    last = puts(sim)[-1]
    assert last["subtitle"].startswith("epoch 2: 471/1,000") and "No progress" not in last["subtitle"]
    act_clock.advance(300)
    act.tick()  # moving again: a new stall needs a full stall_after
    assert dispatcher.flush(5)
    assert len(sim.notifications) == pushes


def test_a_handle_update_after_a_stall_puts_back_the_subtitle(dispatcher, sim, clock) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock, subtitle="loading shards", stall_after=60).start()
    act.update(percentage=10)
    act_clock.advance(61)
    act.tick()
    act.update(percentage=20)
    assert dispatcher.flush(5)
    assert puts(sim)[-1]["subtitle"] == "loading shards" and puts(sim)[-1]["percentage"] == 20


@pytest.mark.parametrize("stall_after", [None, 0], ids=["none", "zero"])
def test_stall_after_off_never_pushes(dispatcher, sim, clock, stall_after) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock, stall_after=stall_after).start()
    act.feed(Snapshot(n=3, total=10))
    act_clock.advance(86_400)
    act.tick()
    assert dispatcher.flush(5)
    assert sim.notifications == []


def test_a_run_that_never_reported_progress_is_not_stalled(dispatcher, sim, clock) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock, stall_after=60).start()
    act_clock.advance(3600)
    act.tick()
    assert dispatcher.flush(5)
    assert sim.notifications == []


def test_notify_never_shows_the_stall_but_does_not_push(dispatcher, sim, clock) -> None:
    act_clock = FakeClock()
    act = make(dispatcher, act_clock, notify="never", stall_after=60).start()
    act.feed(Snapshot(n=1, total=4))
    act_clock.advance(120)
    act.tick()
    assert dispatcher.flush(5)
    assert sim.notifications == []
    assert puts(sim)[-1]["subtitle"] == "⚠️ No progress for 2 min · stuck at 25 %"


def test_a_silence_the_watchdog_announced_is_not_pushed_again() -> None:
    watch = StallWatch(60.0, now=0.0)
    watch.moved(5, 0.0)
    assert watch.due(90.0, silence=75.0) == (90.0, False)  # the watchdog pushed while the GIL was held
    other = StallWatch(60.0, now=0.0)
    other.moved(5, 0.0)
    assert other.due(90.0, silence=20.0) == (90.0, True)


@pytest.mark.parametrize("bad", [-1, "10m", True, float("nan"), 0.5], ids=["negative", "text", "bool", "nan", "tiny"])
def test_a_bad_stall_after_is_refused_before_anything_is_sent(dispatcher, sim, bad) -> None:
    with pytest.raises(ValueError, match="stall_after="):
        Activity("Training", dispatcher=dispatcher, stall_after=bad)
    assert sim.requests == []


def test_stall_wording_for_steps_and_long_stalls() -> None:
    state = {"type": "segmented_progress", "number_of_steps": 5, "current_step": 2}
    assert stall_subtitle(3900, state) == "⚠️ No progress for 1h 05m · stuck at step 2 of 5"
    assert stall_push_title("ETL", 600, {}) == "⚠️ ETL has made no progress for 10 min"
    assert check_stall_after(600) == 600.0


def test_the_tqdm_drop_in_passes_stall_after_to_its_activity(dispatcher, sim, clock) -> None:
    """Its pushes follow `notify` (default "failure": a stall pushes)."""
    import io

    from activitysmith_jupyter.tqdm import tqdm

    with tqdm(total=100, desc="Epochs", dispatcher=dispatcher, stall_after=60, notify="failure",
              file=io.StringIO()) as bar:
        assert dispatcher.flush(5)  # the start has gone out
        clock.advance(10)  # past the policy's first gate (5 s)
        bar.update(30)
        bar.refresh()  # the mirror takes the new count
        clock.advance(120)
        bar._activitysmith.activity.tick()  # what the ticker thread does every 15 s
        assert dispatcher.flush(5)
        assert [n["request"]["title"] for n in sim.notifications] == [
            "⚠️ Epochs has made no progress for 2 min — stuck at 30 %"]
        bar.update(70)


def test_activity_in_scripts_takes_stall_after_and_checks_it_at_the_call(sim) -> None:
    from activitysmith_jupyter import activity

    with pytest.raises(ValueError, match="stall_after=-3"):
        activity("Nightly ETL", stall_after=-3)
    assert sim.requests == []
    with activity("Nightly ETL", stall_after=30, client=None) as act:
        assert act.stall_after == 30.0

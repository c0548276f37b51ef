"""Bars left early (a ``break`` once the rows of interest are read) continue a streak like completed ones:
a run of them is one activity, not a start and an end per file."""
from __future__ import annotations


import pytest

import activitysmith_jupyter.integrations.tqdm.chain as chain
from activitysmith_jupyter.tqdm import settle, tqdm


def test_a_run_of_bars_left_by_break_is_one_activity_after_the_first_few(dispatcher, sim, clock, null) -> None:
    for i in range(20):
        for row in tqdm(range(50), desc=f"scan{i}", dispatcher=dispatcher, file=null):
            if row == 25:
                break
        clock.advance(0.5)
    settle()
    assert dispatcher.flush(5)
    starts = [r for r in sim.requests if r.method == "PUT" and (r.response or {}).get("operation") == "started"]
    assert len(starts) == chain.ALONE + 1
    [last] = [a.view() for a in sim.activities.values() if a.stream_key == "scan3"]
    assert last["state"] == "ended" and last["content_state"]["title"] == "scan19"
    assert last["content_state"]["subtitle"].startswith("Stopped at 25/50")
    assert len(sim.requests) <= 2 * chain.ALONE + 5


def test_a_failed_bar_still_ends_at_once(dispatcher, sim, clock, null) -> None:
    for i in range(5):
        for _ in tqdm(range(10), desc=f"ok{i}", dispatcher=dispatcher, file=null):
            pass
        clock.advance(0.5)
    with pytest.raises(KeyError):
        for row in tqdm(range(10), desc="broken", dispatcher=dispatcher, file=null):
            if row == 3:
                {}["x"]
    assert dispatcher.flush(5)
    ended = {a.stream_key: a.view() for a in sim.activities.values() if a.view()["state"] == "ended"}
    assert any(v["content_state"]["subtitle"].startswith("Failed at 3/10") for v in ended.values())

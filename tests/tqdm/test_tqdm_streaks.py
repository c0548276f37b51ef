"""Many short bars in a row continue one activity (integrations.tqdm.chain): the phone and the budget
see one start and one end for a run of files, not one per file."""
from __future__ import annotations

import threading

import pytest

import activitysmith_jupyter.integrations.tqdm.chain as chain
from activitysmith_jupyter.tqdm import settle, tqdm


def sends(sim) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in sim.requests]


def read_files(dispatcher, null, clock, names, *, gap: float = 0.5) -> None:
    for name in names:
        for _ in tqdm(range(50), desc=name, dispatcher=dispatcher, file=null):
            pass
        clock.advance(gap)


def test_a_run_of_short_bars_is_one_activity_after_the_first_few(dispatcher, sim, clock, null) -> None:
    names = [f"file{i}.csv" for i in range(20)]
    read_files(dispatcher, null, clock, names)
    assert dispatcher.flush(5)
    alone = chain.ALONE
    assert sends(sim)[: 2 * alone] == [x for n in names[:alone] for x in (f"PUT {n.replace('.', '-')}", f"DELETE {n.replace('.', '-')}")]
    rest = sends(sim)[2 * alone:]
    assert rest[0] == "PUT file3-csv" and "DELETE file3-csv" not in rest  # still open: a next file may follow
    assert len(rest) <= 4  # the start and a paced update or two, not a start + end per file
    settle()  # what the timer does WINDOW seconds after the last close (or the interpreter's exit)
    assert dispatcher.flush(5)
    [last] = [a.view() for a in sim.activities.values() if a.stream_key == "file3-csv"]
    assert last["state"] == "ended" and last["content_state"]["title"] == "file19.csv"
    assert last["content_state"]["subtitle"].startswith("Done · 50/50 in ")
    assert len(sim.requests) <= 2 * alone + 5


def test_bars_further_apart_than_the_window_are_each_their_own(dispatcher, sim, clock, null) -> None:
    read_files(dispatcher, null, clock, [f"part{i}" for i in range(6)], gap=chain.WINDOW + 1)
    settle()
    assert dispatcher.flush(5)
    assert sends(sim) == [x for i in range(6) for x in (f"PUT part{i}", f"DELETE part{i}")]


def test_the_resting_end_is_sent_by_its_timer_with_the_last_bar_s_duration(dispatcher, sim, clock, null,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr(chain, "WINDOW", 0.05)  # real seconds for the timer; the clock does not move
    read_files(dispatcher, null, clock, [f"f{i}" for i in range(5)], gap=0)
    ended = threading.Event()
    for _ in range(400):  # event-driven, bounded: the timer thread sends the end
        if any(r.method == "DELETE" and r.path.endswith("/f3") for r in sim.requests) or ended.wait(0.01):
            break
    assert dispatcher.flush(5)
    [a] = [a.view() for a in sim.activities.values() if a.stream_key == "f3"]
    assert a["state"] == "ended" and a["content_state"]["subtitle"] == "Done · 50/50 in 0.0s"


def test_a_failed_bar_ends_at_once_and_breaks_the_streak(dispatcher, sim, clock, null) -> None:
    read_files(dispatcher, null, clock, [f"ok{i}" for i in range(4)])
    with pytest.raises(ValueError):
        for i in tqdm(range(10), desc="bad", dispatcher=dispatcher, file=null):
            if i == 5:
                raise ValueError("corrupt")
    assert dispatcher.flush(5)
    [a] = [a.view() for a in sim.activities.values() if a.stream_key == "ok3"]
    assert a["state"] == "ended" and a["content_state"]["title"] == "bad"
    assert a["content_state"]["subtitle"].startswith("Failed at 5/10") and a["content_state"]["color"] == "red"


def test_a_script_exiting_right_after_a_streak_still_ends_its_activity(server, sim, tmp_path) -> None:
    from process_helpers import child_env, ended, python, script

    path = script(tmp_path, """
        from activitysmith_jupyter.tqdm import tqdm
        for name in [f"shard{i}" for i in range(8)]:
            for _ in tqdm(range(100), desc=name):
                pass
    """)
    done = python(path, child_env(server))
    assert done.returncode == 0, done.stderr
    last = ended(sim, "shard3")  # the 4th bar on: one activity, ended at exit
    assert last["content_state"]["title"] == "shard7" and last["content_state"]["subtitle"].startswith("Done · 100/100")
    assert sorted(a.stream_key for a in sim.activities.values()) == ["shard0", "shard1", "shard2", "shard3"]

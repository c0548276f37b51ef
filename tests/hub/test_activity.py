"""CellActivity without IPython: states, pacing of elapsed updates, bar mirroring, the handle, the end."""
from __future__ import annotations

import json
import threading

import pytest

from activitysmith_jupyter.hub.activity import current_activity, elapsed_bucket, format_duration, format_failure
from activitysmith_jupyter.hub.options import RunOptions
from activitysmith_jupyter.notebook.cell import CellActivity
from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.payloads import stream_key_from


@pytest.fixture
def cell_clock() -> FakeClock:
    """The activity's own clock (the dispatcher's fake clock runs ahead on its own waits)."""
    return FakeClock()


def make(dispatcher, cell_clock, **overrides) -> CellActivity:
    fields = {"key": "job", "title": "Job", **overrides}
    fields["key"] = fields.pop("stream_key", fields["key"])
    return CellActivity(RunOptions(dispatcher=dispatcher, **fields), clock=cell_clock)


def stream_puts(sim) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests if r.method == "PUT"]


def bar(n, total, desc="train", closed=False, rate=None):
    from activitysmith_jupyter.tqdm import BarSnapshot

    return BarSnapshot(n=n, total=total, desc=desc, unit="it", rate=rate, elapsed=1.0, closed=closed)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0.0s"), (3.24, "3.2s"), (42.9, "42s"), (192, "3m 12s"), (7500, "2h 05m"), (97200, "1d 3h"), (-1, "0.0s")],
    ids=["zero", "sub-10s", "seconds", "minutes", "hours", "days", "negative"],
)
def test_format_duration(seconds, text) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (119, 0), (120, 2), (299, 4), (599, 8), (600, 10), (3599, 55), (3600, 60), (5399, 75)],
    ids=["start", "under-2m", "2m", "4m", "8m", "10m", "55m", "1h", "1h15"],
)
def test_elapsed_bucket_is_coarse(seconds, minutes) -> None:
    assert elapsed_bucket(seconds) == minutes


@pytest.mark.parametrize(
    ("text", "slug"), [("Train model!", "train-model"), ("  ", "cell"), ("é/ü", "cell"), ("a" * 90, "a" * 48)],
    ids=["words", "blank", "non-ascii", "long"],
)
def test_cell_titles_make_lowercase_stream_keys(text, slug) -> None:  # as the magic derives them
    assert stream_key_from(text.lower(), default="cell", max_length=48) == slug


def test_start_queues_the_first_state_and_becomes_current(dispatcher, cell_clock, sim) -> None:
    act = make(dispatcher, cell_clock, channels=("ops",))
    assert current_activity() is None
    act.start(background=False)
    assert current_activity() is act
    assert dispatcher.flush(5)
    [put] = [r.json for r in sim.requests]
    assert put["content_state"] == {"title": "Job", "type": "progress", "percentage": 0,
                                    "subtitle": "Running…", "color": "blue"}
    assert put["target"] == {"channels": ["ops"]}
    act.end("completed")
    assert current_activity() is None


def test_a_bad_first_state_raises_and_leaves_no_current_activity(dispatcher, cell_clock) -> None:
    from activitysmith_jupyter.errors import PayloadError

    with pytest.raises(PayloadError):  # the run options are checked before anything starts
        make(dispatcher, cell_clock, color="pink").start(background=False)
    assert current_activity() is None


def test_elapsed_time_updates_only_when_the_coarse_bucket_changes(dispatcher, cell_clock, sim) -> None:
    act = make(dispatcher, cell_clock).start(background=False)
    for advance in (30, 60, 40, 10, 100):  # 30, 90, 130, 140, 240 s
        cell_clock.advance(advance)
        act.tick()
        assert dispatcher.flush(5)
    assert [s["subtitle"] for s in stream_puts(sim)] == [
        "Running…", "Running · 2m elapsed", "Running · 4m elapsed"
    ]
    act.end("completed")


def test_bars_drive_percentage_and_subtitle_and_stop_elapsed_updates(dispatcher, cell_clock, sim) -> None:
    act = make(dispatcher, cell_clock).start(background=False)
    act.on_bar(bar(25, 100))
    assert act.content_state["percentage"] == 25.0
    assert act.content_state["subtitle"] == "train: 25/100"
    assert dispatcher.flush(5)
    sent = len(sim.requests)
    act.on_bar(bar(25.4, 100))  # same whole percent: nothing new to send
    cell_clock.advance(600)
    act.tick()  # a bar owns the subtitle now
    assert dispatcher.flush(5)
    assert len(sim.requests) == sent
    act.on_bar(bar(7, None, desc="rows"))
    assert act.content_state["subtitle"] == "rows: 7 it"
    act.end("completed")


def test_a_bar_with_a_rate_shows_it_and_a_wall_clock_eta_like_the_tqdm_hook(dispatcher, cell_clock) -> None:
    from activitysmith_jupyter.tqdm import bar_subtitle

    act = make(dispatcher, cell_clock).start(background=False)
    snap = bar(25, 100, rate=2.0)
    act.on_bar(snap)
    subtitle = act.content_state["subtitle"]
    assert subtitle == "train: " + bar_subtitle(snap, cell_clock.time())
    assert "25/100 · 2.00 it/s · ETA " in subtitle
    act.end("completed")


def test_step_fills_segments_and_grows_the_total(dispatcher, cell_clock) -> None:
    act = make(dispatcher, cell_clock, type="segmented_progress", steps=2).start(background=False)
    assert act.content_state["current_step"] == 0
    act.step("load")
    act.step("train")
    act.step("extra")
    state = act.content_state
    assert (state["current_step"], state["number_of_steps"], state["subtitle"]) == (3, 3, "extra")
    act.end("completed")
    assert act.content_state["current_step"] == 3


def test_step_on_progress_with_steps_moves_the_bar(dispatcher, cell_clock) -> None:
    act = make(dispatcher, cell_clock, type="progress", steps=4).start(background=False)  # steps alone: segments
    act.step()
    assert act.content_state["percentage"] == 25.0 and act.content_state["subtitle"] == "Step 1 of 4"
    act.end("completed")


def test_update_rejects_bad_fields_and_keeps_the_old_state(dispatcher, cell_clock) -> None:
    from activitysmith_jupyter.errors import PayloadError

    act = make(dispatcher, cell_clock).start(background=False)
    with pytest.raises(PayloadError):
        act.update(percentage=101)
    assert act.content_state["percentage"] == 0
    act.update(percentage=50, subtitle="half")
    assert act.content_state["subtitle"] == "half"
    act.end("completed")
    act.update(percentage=60)  # after the end: ignored
    assert act.content_state["percentage"] == 100


def test_updates_from_other_threads_racing_the_end_never_reopen_the_activity(dispatcher, cell_clock, sim) -> None:
    for round_ in range(5):  # the race is narrow: a few rounds make a regression show
        act = make(dispatcher, cell_clock, stream_key=f"job-{round_}", notify="never").start(background=False)
        warm, stop = threading.Semaphore(0), threading.Event()

        def hammer(act: CellActivity = act, warm: threading.Semaphore = warm, stop: threading.Event = stop) -> None:
            i = 0  # a worker thread driving the handle while the cell ends
            while not stop.is_set():
                act.update(percentage=i % 100)
                i += 1
                if i == 100:
                    warm.release()

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        for _ in threads:
            assert warm.acquire(timeout=5)
        act.end("completed")
        stop.set()
        for t in threads:
            t.join()
        assert dispatcher.flush(5)
        methods = [r.method for r in sim.requests if r.key == f"job-{round_}"]
        assert methods[-1] == "DELETE" and methods.count("DELETE") == 1  # no PUT after the end: no new activity
    assert [a.view()["state"] for a in sim.activities.values()] == ["ended"] * 5


@pytest.mark.parametrize(
    ("outcome", "notify", "subtitle", "color", "push_title"),
    [
        ("completed", "always", "Done in 1m 30s", "green", "✅ Job finished in 1m 30s"),
        ("failed", "always", "Failed after 1m 30s: KeyError", "red", "❌ Job failed after 1m 30s"),
        ("interrupted", "always", "Interrupted after 1m 30s", "orange", "⏹️ Job interrupted after 1m 30s"),
        ("completed", "failure", "Done in 1m 30s", "green", None),
        ("interrupted", "failure", "Interrupted after 1m 30s", "orange", None),
        ("failed", "never", "Failed after 1m 30s: KeyError", "red", None),
    ],
    ids=["success", "failure", "interrupted", "success-quiet", "interrupt-quiet", "never"],
)
def test_finish_sends_the_final_state_and_the_push_per_policy(
    dispatcher, cell_clock, sim, outcome, notify, subtitle, color, push_title
) -> None:
    act = make(dispatcher, cell_clock, notify=notify).start(background=False)
    cell_clock.advance(90)
    try:
        {}["missing"]
    except KeyError as exc:
        error = exc
    act.end(outcome, error=error if outcome == "failed" else None)
    act.end("completed")  # idempotent
    assert dispatcher.flush(5)
    [end] = [r.json for r in sim.requests if r.method == "DELETE"]
    assert end["content_state"]["subtitle"] == subtitle and end["content_state"]["color"] == color
    pushes = [r.json for r in sim.requests if r.path == "/push-notification"]
    assert [p["title"] for p in pushes] == ([push_title] if push_title else [])
    if outcome == "failed" and push_title:
        assert pushes[0]["message"].startswith("KeyError: 'missing'\ntest_activity.py, line ")


def test_format_failure_points_at_user_code_not_the_stdlib() -> None:
    def parse(text):
        return json.loads(text)

    try:
        parse("{oops")
    except ValueError as exc:
        text = format_failure(exc, describe_file=lambda f: "Cell In[3]" if f == __file__ else None)
    first, where = text.split("\n")
    assert first.startswith("JSONDecodeError: Expecting property name")
    assert where.startswith("Cell In[3], line ") and where.endswith("in parse: return json.loads(text)")


def test_format_failure_truncates_long_messages() -> None:
    try:
        raise RuntimeError("boom " * 500)
    except RuntimeError as exc:
        text = format_failure(exc)
    assert len(text) <= 400
    assert text.splitlines()[0].endswith("…") and len(text.splitlines()[0]) <= len("RuntimeError: ") + 200


def test_a_cells_end_names_the_last_bar_s_count_like_a_plain_bar(dispatcher, cell_clock) -> None:
    # issue 8 (frontend8 brief item 2): the cell's end keeps the count a plain bar's end shows; tqdm's close
    # reports every bar to the observer, so the output no longer depends on whether it caught a short bar
    act = make(dispatcher, cell_clock).start(background=False)
    act.on_bar(bar(25, 100))
    cell_clock.advance(90)
    act.end("stopped")
    state = act.content_state
    assert (state["subtitle"], state["percentage"], state["color"]) == ("Stopped at 25/100 · 1m 30s", 25.0, "orange")

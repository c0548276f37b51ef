"""The hub: an Activity's lifecycle through the dispatcher, against the embedded simulator.
Sources feed snapshots; `with Activity()` ends with the block's outcome; every front end ends the same way."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from activitysmith_jupyter.hub.activity import Activity, current_activity
from activitysmith_jupyter.errors import PayloadError
from activitysmith_jupyter.hub.outcome import Snapshot


def states(sim, key: str) -> list[tuple[str, dict]]:
    return [(r.method, r.json["content_state"]) for r in sim.requests if r.key == key and r.json]


def pushes(sim) -> list[dict]:
    return [r.json for r in sim.requests if r.path == "/push-notification"]


class ListSource:
    """A ProgressSource that feeds a fixed list of snapshots when told to (as a framework callback would)."""

    def __init__(self, snaps: list[Snapshot]) -> None:
        self.snaps, self.activity, self.detached = snaps, None, 0

    def attach(self, activity: Activity) -> None:
        self.activity = activity

    def detach(self) -> None:
        self.detached += 1
        self.activity = None

    def run(self) -> None:
        for snap in self.snaps:
            assert self.activity is not None
            self.activity.feed(snap)


def test_a_with_block_starts_becomes_current_and_ends_completed_with_a_push(dispatcher, sim, clock) -> None:
    with Activity("Nightly ETL", key="etl", dispatcher=dispatcher, clock=clock) as act:
        assert current_activity() is act
        clock.advance(75)
    assert current_activity() is None and act.outcome == "completed"
    assert dispatcher.flush(5)
    [(m1, start), (m2, end)] = states(sim, "etl")
    assert (m1, start["subtitle"], start["percentage"]) == ("PUT", "Running…", 0)
    assert (m2, end["subtitle"], end["percentage"], end["color"]) == ("DELETE", "Done in 1m 15s", 100, "green")
    assert [p["title"] for p in pushes(sim)] == ["✅ Nightly ETL finished in 1m 15s"]


@pytest.mark.parametrize(("raised", "outcome", "title"),
                         [(ValueError("bad row"), "failed", "❌ Job failed after"),
                          (KeyboardInterrupt(), "interrupted", "⏹️ Job interrupted after")],
                         ids=["exception", "ctrl-c"])
def test_a_with_block_that_raises_ends_with_its_outcome_and_never_swallows(dispatcher, sim, clock, raised, outcome,
                                                                           title) -> None:
    with pytest.raises(type(raised)):
        with Activity("Job", dispatcher=dispatcher, clock=clock) as act:
            raise raised
    assert act.outcome == outcome
    assert dispatcher.flush(5)
    [push] = pushes(sim)
    assert push["title"].startswith(title)
    if outcome == "failed":
        assert push["message"].startswith("ValueError: bad row\ntest_hub.py, line ")


def test_a_source_feeds_snapshots_and_its_last_count_is_named_at_the_end(dispatcher, sim, clock) -> None:
    act = Activity("Train", key="train", dispatcher=dispatcher, clock=clock, notify="never").start()
    source = ListSource([Snapshot(n=i, total=10, description="epoch", rate=2.0) for i in range(11)])
    act.attach(source)
    source.run()
    assert act.content_state["percentage"] == 100.0
    assert act.content_state["subtitle"].startswith("epoch: 10/10 · 2.00 it/s")
    act.end("completed")
    assert source.detached == 1 and source.activity is None
    assert dispatcher.flush(5)
    end = states(sim, "train")[-1][1]
    assert end["subtitle"].startswith("Done · 10/10 in ") and end["percentage"] == 100
    assert pushes(sim) == []


def test_feed_builds_a_state_only_when_the_whole_percent_changes(dispatcher, clock, monkeypatch) -> None:
    import activitysmith_jupyter.hub.content as content_mod

    built = []
    real = content_mod.running_state
    monkeypatch.setattr(content_mod, "running_state", lambda *a, **k: built.append(1) or real(*a, **k))
    act = Activity("Fine", dispatcher=dispatcher, clock=clock, notify="never").start()
    for i in range(10_000):
        act.feed(Snapshot(n=i, total=10_000))
    act.end("completed")
    assert len(built) == 100  # 0 % .. 99 %
    assert act.last_snapshot is not None and act.last_snapshot.n == 9_999


def test_feeding_an_unstarted_activity_starts_it_with_that_snapshot(dispatcher, sim, clock) -> None:
    act = Activity("Rows", key="rows", type="value", dispatcher=dispatcher, clock=clock, notify="never")
    act.feed(Snapshot(n=1200, unit="rows"))
    act.end("stopped")
    assert dispatcher.flush(5)
    [(_, start), (_, end)] = states(sim, "rows")
    assert (start["type"], start["value"]) == ("value", "1,200 rows")
    assert end["subtitle"].startswith("Stopped at 1,200 rows · ") and end["color"] == "orange"


def test_stats_metrics_are_merged_and_shown_and_named_in_the_push(dispatcher, sim, clock) -> None:
    act = Activity("Fit", key="fit", type="stats", dispatcher=dispatcher, clock=clock).start()
    assert dispatcher.flush(5)  # the start is out (else the next state replaces the waiting one)
    act.metrics(loss=0.9, epoch=1)
    act.metrics(loss=0.23149)
    assert act.content_state["metrics"] == [{"label": "loss", "value": 0.231}, {"label": "epoch", "value": 1}]
    with pytest.raises(TypeError, match=r"metrics\(acc=...\): a number or a string, not list"):
        act.metrics(acc=[1])
    act.end("completed")
    assert dispatcher.flush(5)
    [(_, start), *_, (_, end)] = states(sim, "fit")
    assert start["metrics"] == [{"label": "status", "value": "running"}]  # a stats start needs one
    assert end["metrics"] == [{"label": "loss", "value": 0.231}, {"label": "epoch", "value": 1}]
    assert pushes(sim)[0]["title"].endswith(" · loss 0.231 · epoch 1")


def test_the_first_end_wins_and_nothing_is_sent_after_it(dispatcher, sim, clock) -> None:
    act = Activity("Once", key="once", dispatcher=dispatcher, clock=clock).start()
    act.end("failed", error="disk full")
    act.end("completed")
    act.update(percentage=50)
    act.feed(Snapshot(n=1, total=2))
    assert dispatcher.flush(5)
    assert [m for m, _ in states(sim, "once")] == ["PUT", "DELETE"]
    assert states(sim, "once")[-1][1]["subtitle"] == "Failed after 0.0s: disk full"
    assert [p["title"] for p in pushes(sim)] == ["❌ Once failed after 0.0s"]


def test_an_activity_ended_before_it_started_still_shows_its_final_state(dispatcher, sim, clock) -> None:
    act = Activity("Quick", key="quick", dispatcher=dispatcher, clock=clock, notify="never")
    act.end("completed", last=Snapshot(n=3, total=3))
    assert dispatcher.flush(5)
    assert [m for m, _ in states(sim, "quick")] == ["PUT", "DELETE"]
    assert sim.activities and [a.view()["state"] for a in sim.activities.values()] == ["ended"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [(dict(title=" "), "title=' '"), (dict(type="pie"), "type='pie' is not one of: progress"),
     (dict(notify="sometimes"), "notify='sometimes' is not one of"), (dict(steps=0), "steps=0"),
     (dict(colors={"success": "green"}), "colors key='success'")],
    ids=["blank-title", "type", "notify", "steps", "colors"],
)
def test_bad_arguments_raise_naming_the_field_before_anything_is_sent(dispatcher, sim, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Activity(**{"title": "T", "dispatcher": dispatcher, **kwargs})
    assert sim.requests == []


@pytest.mark.parametrize("kwargs", [dict(key="bad key"), dict(color="pink")], ids=["key", "color"])
def test_bad_payload_options_raise_payload_error_at_start(dispatcher, sim, kwargs) -> None:
    with pytest.raises(PayloadError):
        Activity("T", dispatcher=dispatcher, **kwargs).start()
    assert dispatcher.flush(5)
    assert sim.requests == []


def test_an_unknown_outcome_at_the_end_is_refused(dispatcher) -> None:
    act = Activity("T", dispatcher=dispatcher).start()
    with pytest.raises(ValueError, match="outcome='success' is not one of"):
        act.end("success")  # type: ignore[arg-type]
    act.end("completed")


def test_steps_fill_segments_and_end_full(dispatcher, sim, clock) -> None:
    act = Activity("Pipeline", key="pipe", type="segmented_progress", steps=3, dispatcher=dispatcher, clock=clock,
                   notify="never").start()
    act.step("extract")
    act.step("load")
    assert (act.content_state["current_step"], act.content_state["subtitle"]) == (2, "load")
    act.end("completed")
    assert dispatcher.flush(5)
    end = states(sim, "pipe")[-1][1]
    assert (end["current_step"], end["number_of_steps"]) == (3, 3)


SCRIPT = textwrap.dedent("""
    import os, sys
    from activitysmith_jupyter.hub.activity import Activity
    with Activity("Script job", key="script-job") as act:
        act.update(percentage=50)
        if sys.argv[1] == "fail":
            raise RuntimeError("disk full")
""")


@pytest.mark.parametrize(("mode", "subtitle", "code"), [("ok", "Done in ", 0), ("fail", "Failed after ", 1)],
                         ids=["completes", "fails"])
def test_a_script_block_delivers_its_end_even_when_the_process_exits_right_after(server, sim, tmp_path, monkeypatch,
                                                                                 mode, subtitle, code) -> None:
    env = {"ACTIVITYSMITH_API_KEY": "ask_test_hub", "ACTIVITYSMITH_BASE_URL": server.url}
    import os

    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], env={**os.environ, **env}, timeout=60, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    [end] = [r.json["content_state"] for r in sim.requests if r.method == "DELETE" and r.status == 200]
    assert end["subtitle"].startswith(subtitle)
    [push] = [r.json for r in sim.requests if r.path == "/push-notification" and r.status == 200]
    assert push["title"].startswith("✅ Script job finished" if mode == "ok" else "❌ Script job failed")


def test_integrations_are_listed_in_one_table_and_none_loads_with_the_package() -> None:
    import importlib.util

    from activitysmith_jupyter.integrations import INTEGRATIONS, load

    assert INTEGRATIONS["tqdm"] == "activitysmith_jupyter.integrations.tqdm"
    named = {"pyspark": "spark"}  # our module is named for the engine, not for its Python package
    for library, module in INTEGRATIONS.items():
        assert module == f"activitysmith_jupyter.integrations.{named.get(library, library)}"
        assert importlib.util.find_spec(module)
    with pytest.raises(KeyError, match="no integration for 'torch'; known: dask, distributed, keras, lightgbm, "
                                       "lightning, optuna, papermill, pyspark, ray, rich, tqdm, transformers, xgboost"):
        load("torch")
    probe = ("import sys, activitysmith_jupyter, activitysmith_jupyter.hub.activity, activitysmith_jupyter.integrations; "
             "print(sorted(m for m in sys.modules if m.startswith(('tqdm', 'IPython', 'activitysmith_jupyter.integrations.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
    assert hasattr(load("tqdm"), "BarSource")

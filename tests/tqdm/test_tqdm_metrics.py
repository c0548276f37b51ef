"""Issue 11's metrics: a bar's postfix (and ``Activity.metrics``) in the running subtitle, the final state and
the closing push; ``type="stats"`` shows the count, the metrics and the ETA (the magic's ``--type stats``:
tests/notebook/test_magics_bars.py); metrics never add requests beyond the update policy."""
from __future__ import annotations

import pytest

from activitysmith_jupyter import payloads
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.tqdm.bars import postfix_metrics
from activitysmith_jupyter.delivery.policy import UpdatePolicy
from activitysmith_jupyter.tqdm import tqdm


def pushes(sim) -> list[dict]:
    return [r.json for r in sim.requests if r.path == "/push-notification" and r.status == 200]


def states(sim, key: str) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests
            if r.method in ("PUT", "DELETE") and key in r.path and r.json and "content_state" in r.json]


@pytest.mark.parametrize(
    ("text", "metrics"),
    [("loss=0.231, acc=0.91", {"loss": 0.231, "acc": 0.91}), ("epoch=3, lr: 1e-3", {"epoch": 3, "lr": 0.001}),
     ("warming up", {"": "warming up"}), ("", {}), ("gpu=A100", {"gpu": "A100"})],
    ids=["set_postfix", "colon-and-int", "free-text", "none", "text-value"],
)
def test_a_postfix_reads_as_metrics(text, metrics) -> None:
    assert postfix_metrics(text) == metrics


def test_the_postfix_rides_in_the_running_subtitle_the_final_state_and_the_push(dispatcher, sim, clock, null) -> None:
    bar = tqdm(range(30), desc="Training", dispatcher=dispatcher, file=null, mininterval=0, notify="always")
    for i in bar:
        bar.set_postfix(loss=1 / (i + 4.33), acc=0.9123)  # tqdm orders them by name: acc, loss
        clock.advance(20)
        assert dispatcher.flush(5)  # the sender keeps up with the fake clock
    assert dispatcher.flush(5)
    running = [s["subtitle"] for s in states(sim, "Training")[1:-1]]
    assert len(running) >= 3 and all(" · acc 0.912 · loss 0." in s for s in running), running
    end = states(sim, "Training")[-1]
    assert end["subtitle"].startswith("Done · 30/30 in ") and end["subtitle"].endswith(" · acc 0.912 · loss 0.03")
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Training finished in ") and push["title"].endswith(" · acc 0.912 · loss 0.03") and push["message"] == "30/30"


def test_set_postfix_str_shows_its_text(dispatcher, sim, clock, null) -> None:
    bar = tqdm(range(3), desc="Warm", dispatcher=dispatcher, file=null, mininterval=0)
    for _ in bar:
        bar.set_postfix_str("warming up")
        clock.advance(60)
        assert dispatcher.flush(5)
    assert dispatcher.flush(5)
    assert states(sim, "Warm")[-1]["subtitle"].endswith(" · warming up")


def test_metrics_by_hand_on_a_progress_activity(dispatcher, sim, clock) -> None:
    act = Activity("Fit", key="fit", dispatcher=dispatcher, clock=clock).start()
    assert dispatcher.flush(5)
    act.metrics(loss=0.23149, acc=0.91)
    assert act.content_state["subtitle"] == "Running… · loss 0.231 · acc 0.91"
    act.end("completed")
    assert dispatcher.flush(5)
    assert states(sim, "fit")[-1]["subtitle"].endswith(" · loss 0.231 · acc 0.91")
    assert pushes(sim)[0]["title"].endswith(" · loss 0.231 · acc 0.91") and "message" not in pushes(sim)[0]


def test_a_stats_bar_shows_its_metrics_count_and_eta(dispatcher, sim, clock, null) -> None:
    bar = tqdm(range(10), desc="Epochs", unit="epoch", type="stats", dispatcher=dispatcher, file=null, mininterval=0)
    for i in bar:
        bar.set_postfix({"loss": 0.5 / (i + 1), "acc": 0.8})  # an ordered dict keeps its order
        clock.advance(120)
        assert dispatcher.flush(5)
    assert dispatcher.flush(5)
    *running, last_running, end = states(sim, "Epochs")
    assert last_running["type"] == "stats"
    # the ETA shows while the count is short of the total (the last running state may already be 10/10)
    grids = [[m["label"] for m in state["metrics"]] for state in (*running, last_running)]
    assert ["loss", "acc", "epoch", "ETA"] in grids and grids[-1][:3] == ["loss", "acc", "epoch"]
    assert end["metrics"] == [{"label": "loss", "value": 0.05}, {"label": "acc", "value": 0.8}]
    assert end["subtitle"].startswith("Done · 10/10 in ")
    for state in (last_running, end):
        assert payloads.validate("end_stream", {"content_state": state}, key="k") == []


def test_an_unknown_type_is_refused_naming_it(dispatcher, sim, null) -> None:
    with pytest.raises(ValueError, match=r"type='segments' is not one of: progress, value, stats"):
        tqdm(range(3), desc="x", type="segments", dispatcher=dispatcher, file=null)
    assert sim.requests == []


@pytest.mark.parametrize("postfix", [False, True], ids=["plain", "postfix-every-item"])
def test_metrics_changes_add_no_requests_beyond_the_update_policy(dispatcher, sim, clock, null, postfix) -> None:
    seconds, items = 3600, 1200
    bar = tqdm(range(items), desc="Long", dispatcher=dispatcher, file=null, mininterval=0)
    for i in bar:
        if postfix:
            bar.set_postfix(loss=1 / (i + 1))
        clock.advance(seconds / items)
        assert dispatcher.flush(5)
    assert dispatcher.flush(5)
    policy = UpdatePolicy()
    allowed = sum(1 for k in range(1, 200) if policy.release_time(k) <= seconds)
    puts = [r for r in sim.requests if r.method == "PUT"]
    assert 10 <= len(puts) <= allowed  # the start and updates, each when the policy let one go

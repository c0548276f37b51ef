"""Keras 3 callback: real ``model.fit`` on tiny numpy data (jax backend) against the simulator."""
from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "jax"  # before keras is imported anywhere in this process

import re
import threading
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.training import MAX_STALE
from activitysmith_jupyter.integrations.keras import ActivitySmithCallback
from activitysmith_jupyter.delivery.policy import UpdatePolicy
from integration_helpers import pushes, shown, stream_puts, the_activity
from shell_helpers import fresh_shell

RNG = np.random.default_rng(7)
X = RNG.random((64, 4), dtype=np.float32)
Y = (X.sum(axis=1) > 2).astype("float32")


@pytest.fixture(scope="module")
def model() -> Any:
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"),
                          keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def fit(model: Any, *callbacks: Any, epochs: int = 3, **kwargs: Any) -> Any:
    return model.fit(X, Y, batch_size=16, epochs=epochs, validation_split=0.25, verbose=0,
                     callbacks=list(callbacks), **kwargs)


def three_digits(text: str) -> None:
    """Every decimal number in `text` has at most 3 significant digits (no 0.23099999 on a phone)."""
    for number in re.findall(r"\d+\.\d+", text):
        assert len(number.replace(".", "").lstrip("0")) <= 3, (number, text)


def test_fit_follows_epochs_and_metrics_and_ends_completed(model, dispatcher, sim, clock) -> None:
    cb = ActivitySmithCallback("Tiny fit", notify="always", dispatcher=dispatcher, clock=clock)
    fit(model, cb)
    assert dispatcher.flush(10)
    a = the_activity(sim, "Tiny-fit")
    assert a["state"] == "ended"
    cs = a["content_state"]
    assert cs["percentage"] == 100 and cs["color"] == "green"
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Tiny fit finished in")
    text = push["title"] + " " + (push.get("message") or "") + " " + cs["subtitle"]
    assert "loss" in text and "val_loss" in text
    three_digits(text)
    last = cb._run.last_snapshot
    assert last is not None and last.n == last.total == 9 and last.unit == "step"  # 3 epochs x 3 batches
    assert last.description == "epoch 3/3"
    assert set(last.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert list(last.metrics)[0] == "loss"


def test_early_stopping_ends_stopped(model, dispatcher, sim, clock) -> None:
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=100.0)  # stops after epoch 2
    fit(model, ActivitySmithCallback("Stops early", notify="always", dispatcher=dispatcher, clock=clock), stop, epochs=30)
    assert dispatcher.flush(10)
    cs = the_activity(sim, "Stops-early")["content_state"]
    assert cs["color"] == "orange" and cs["percentage"] < 100
    assert "epoch 2/30" in cs["subtitle"] or "Stopped" in cs["subtitle"]
    [push] = pushes(sim)
    assert push["title"].startswith("⏹️ Stops early stopped after")


def test_stop_training_set_by_own_code_ends_stopped(model, dispatcher, sim, clock) -> None:
    def halt(batch: int, logs: Any) -> None:
        if batch == 1:
            model.stop_training = True

    fit(model, ActivitySmithCallback("Halted", notify="always", dispatcher=dispatcher, clock=clock),
        keras.callbacks.LambdaCallback(on_train_batch_end=halt), epochs=5)
    assert dispatcher.flush(10)
    assert pushes(sim)[0]["title"].startswith("⏹️ Halted stopped after")


def test_exception_in_fit_ends_failed_through_the_with_block(model, dispatcher, sim, clock) -> None:
    def boom(epoch: int, logs: Any) -> None:
        if epoch == 1:
            raise RuntimeError("loss exploded")

    with pytest.raises(RuntimeError, match="loss exploded"):
        with ActivitySmithCallback("Explodes", dispatcher=dispatcher, clock=clock) as cb:
            fit(model, cb, keras.callbacks.LambdaCallback(on_epoch_end=boom), epochs=5)
    assert dispatcher.flush(10)
    cs = the_activity(sim, "Explodes")["content_state"]
    assert cs["color"] == "red"
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Explodes failed after")
    assert "RuntimeError: loss exploded" in push["message"]


def test_exception_in_an_ipython_cell_ends_failed_when_the_cell_ends(model, dispatcher, sim, clock) -> None:
    with fresh_shell(extension=False) as ip:
        ip.user_ns.update(model=model, X=X, Y=Y, dispatcher=dispatcher, clock=clock)
        result = ip.run_cell(
            "from activitysmith_jupyter.integrations.keras import ActivitySmithCallback\n"
            "import keras\n"
            "def boom(epoch, logs):\n"
            "    raise ValueError('bad batch')\n"
            "model.fit(X, Y, batch_size=16, epochs=3, verbose=0, callbacks=[\n"
            "    ActivitySmithCallback('Cell fit', dispatcher=dispatcher, clock=clock),\n"
            "    keras.callbacks.LambdaCallback(on_epoch_end=boom)])\n")
        assert isinstance(result.error_in_exec, ValueError)
    assert dispatcher.flush(10)
    assert the_activity(sim, "Cell-fit")["state"] == "ended"
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Cell fit failed") and "ValueError: bad batch" in push["message"]


def test_inside_an_open_activity_the_fit_feeds_it_and_leaves_the_end_to_its_owner(model, dispatcher, sim, clock) -> None:
    with Activity("Notebook cell", dispatcher=dispatcher, clock=clock) as act:
        fit(model, ActivitySmithCallback(dispatcher=dispatcher, clock=clock))
        assert act.outcome is None  # the block owns the end
        last = act.last_snapshot
        assert last is not None and last.description == "epoch 3/3" and "loss" in last.metrics
    assert dispatcher.flush(10)
    assert [a["stream_key"] for a in shown(sim)] == ["Notebook-cell"]  # no second activity
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Notebook cell finished")


class BatchClock(FakeClock):
    """Virtual time that only the fit's batches move: the sender's waits wait 1 ms for real and look again
    (the shared fake clock jumps by each timed-out wait, so a sender waiting beside a long fit races it
    hours ahead)."""

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        return event.wait(0.001 if timeout is None else min(timeout, 0.001))


@pytest.mark.parametrize("clock", [BatchClock()], ids=["batch-clock"])  # the sim's and dispatcher's clock too
def test_2000_batch_fit_sends_no_more_requests_than_the_policy_allows(dispatcher, sim, clock, monkeypatch) -> None:
    fed: list[Any] = []
    real_feed = Activity.feed
    monkeypatch.setattr(Activity, "feed", lambda self, s: (fed.append(s), real_feed(self, s))[1])
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer="sgd", loss="binary_crossentropy")
    x = RNG.random((2000, 4), dtype=np.float32)
    y = (x.sum(axis=1) > 2).astype("float32")
    tick = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: clock.advance(1.0))
    began = clock.monotonic()
    m.fit(x, y, batch_size=1, epochs=1, verbose=0,
          callbacks=[ActivitySmithCallback("Long fit", dispatcher=dispatcher, clock=clock), tick])
    elapsed = clock.monotonic() - began
    assert elapsed == 2000  # one virtual second per batch, nothing else
    assert dispatcher.flush(10)
    policy = UpdatePolicy()
    # Within the policy's count for the run's length and never an iOS warning.
    puts = len(stream_puts(sim, "Long-fit"))
    assert not [r for r in sim.requests if (r.response or {}).get("warning")]
    allowed = sum(1 for k in range(1, 1000) if policy.release_time(k) <= elapsed)
    assert 4 <= puts <= allowed + 1  # + the state that goes at once with the end
    # snapshots: when the dispatcher would send, at least every MAX_STALE virtual seconds; never per batch
    assert len(fed) <= puts + elapsed / MAX_STALE + 3 and len(fed) < 2000
    assert the_activity(sim, "Long-fit")["content_state"]["percentage"] == 100


def test_per_batch_hook_builds_nothing_while_no_snapshot_is_due(model, dispatcher, sim, clock, monkeypatch) -> None:
    fed: list[Any] = []
    real_feed = Activity.feed
    monkeypatch.setattr(Activity, "feed", lambda self, s: (fed.append(s), real_feed(self, s))[1])
    cb = ActivitySmithCallback("Still clock", dispatcher=dispatcher, clock=clock)
    fit(model, cb, epochs=4)
    assert dispatcher.flush(10)
    # the fake clock stands still: the first snapshot is fed, the final one goes with the end
    assert [s.n for s in fed] == [0.0]
    assert cb._run.last_snapshot is not None and cb._run.last_snapshot.n == 12
    assert [r.method for r in sim.requests if r.key == "Still-clock"] == ["PUT", "DELETE"]


def test_a_fit_that_raised_outside_any_block_is_ended_failed_when_the_callback_fits_again(model, dispatcher, sim,
                                                                                          clock) -> None:
    cb = ActivitySmithCallback("Again", notify="always", dispatcher=dispatcher, clock=clock)

    def boom(epoch: int, logs: Any) -> None:
        raise RuntimeError("first attempt")

    with pytest.raises(RuntimeError):
        fit(model, cb, keras.callbacks.LambdaCallback(on_epoch_end=boom))
    assert dispatcher.flush(10)
    assert pushes(sim) == []  # Keras told nobody: the run is still open
    fit(model, cb)
    assert dispatcher.flush(10)
    assert [p["title"].split(" ")[0] for p in pushes(sim)] == ["❌", "✅"]
    assert [a["state"] for a in shown(sim)] == ["ended", "ended"]


def test_batch_hooks_stay_off_the_training_thread_as_without_the_callback(model, dispatcher, clock) -> None:
    import threading

    threads: set[str] = set()

    class Watching(ActivitySmithCallback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            threads.add(threading.current_thread().name)
            super().on_train_batch_end(batch, logs)

    fit(model, Watching("Async", dispatcher=dispatcher, clock=clock))
    assert threads and threading.current_thread().name not in threads  # Keras's callback thread pool


def test_in_an_activitysmith_progress_cell_the_fit_drives_the_cells_activity(model, dispatcher, sim) -> None:
    with fresh_shell(extension=True) as ip:
        ip.user_ns.update(model=model, X=X, Y=Y, disp=dispatcher)
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'disp'")
        result = ip.run_cell(
            "%%activitysmith_progress -t Notebook-training\n"
            "from activitysmith_jupyter.integrations.keras import ActivitySmithCallback\n"
            "model.fit(X, Y, batch_size=16, epochs=3, validation_split=0.25, verbose=0,\n"
            "          callbacks=[ActivitySmithCallback()])\n")
        assert result.success, result.error_in_exec
    assert dispatcher.flush(10)
    [a] = shown(sim)  # the cell's activity, no second one
    assert a["state"] == "ended" and a["content_state"]["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Notebook-training finished")
    assert " · loss " in push["title"] and "val_loss" in push.get("message", "")  # the fit's metrics
    subtitles = [r.json["content_state"].get("subtitle", "") for r in sim.requests if r.method == "PUT"]
    assert any(text.startswith("epoch ") for text in subtitles), subtitles  # the fit drove the cell


def test_a_stats_activity_shows_the_metrics_as_a_grid(model, dispatcher, sim, clock) -> None:
    fit(model, ActivitySmithCallback("Stats fit", type="stats", dispatcher=dispatcher, clock=clock))
    assert dispatcher.flush(10)
    cs = the_activity(sim, "Stats-fit")["content_state"]
    assert cs["type"] == "stats"
    labels = [m["label"] for m in cs["metrics"]]
    assert labels[:2] == ["loss", "accuracy"] and "val_loss" in labels
    assert all(len(str(m["value"]).replace(".", "").lstrip("0")) <= 3 for m in cs["metrics"])

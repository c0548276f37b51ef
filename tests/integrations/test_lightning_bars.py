"""Without any callback, the tqdm observer follows Lightning's own ``TQDMProgressBar``.

`LightningBars` makes the tqdm calls of lightning 2.6.6's ``TQDMProgressBar``
(src/lightning/pytorch/callbacks/progress/tqdm_progress.py) with real ``tqdm.auto.tqdm`` bars and the
same arguments: a "Sanity Checking" bar (``leave=False``) and a disabled dummy train bar first; one
train bar ("Training", ``leave=True``) that is ``reset()`` every epoch, its ``total`` set to the epoch's
batches and its description to "Epoch N"; each validation a new bar at ``position=1`` with
``leave=False``. Older Lightning (1.x) reset the train bar to train + val batches
(``reset(total=...)``); that variant is driven too. The observer is polled by hand (no sleeping) and
each look's result is read where the phone would see it: the simulator.
"""
from __future__ import annotations

import sys
from typing import Any

import pytest

pytest.importorskip("tqdm")

from tqdm.auto import tqdm as _tqdm

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.integrations.tqdm import BarSource

BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]"


class Tqdm(_tqdm):  # type: ignore[misc,valid-type]  # Lightning's own subclass (it only pads numbers)
    pass


class LightningBars:
    """The bar calls of TQDMProgressBar, hook by hook (refresh_rate=1, process_position=0)."""

    def __init__(self, *, old_total: bool = False, val_batches: int = 2) -> None:
        self.old_total = old_total  # Lightning 1.x: the train bar counts train + val batches
        self.val_batches = val_batches
        self.train: Any = None
        self.val: Any = None

    def _bar(self, **kw: Any) -> Any:
        return Tqdm(dynamic_ncols=True, file=sys.stdout, bar_format=BAR_FORMAT, **kw)

    def on_sanity_check_start(self) -> None:
        self.val = self._bar(desc="Sanity Checking", position=0, disable=False, leave=False)
        self.train = Tqdm(disable=True)  # dummy progress bar

    def on_sanity_check_end(self) -> None:
        self.val.close()
        self.train.close()

    def on_train_start(self) -> None:
        self.train = self._bar(desc="Training", position=0, disable=False, leave=True, smoothing=0)

    def on_train_epoch_start(self, epoch: int, batches: int) -> None:
        if self.old_total:
            self.train.reset(total=batches + self.val_batches)
        else:
            self.train.reset()
            self.train.total = batches
        self.train.initial = 0
        self.train.set_description(f"Epoch {epoch}")

    def on_train_batch_end(self, batch_idx: int, loss: float) -> None:
        self.train.n = batch_idx + 1
        self.train.refresh()
        self.train.set_postfix({"v_num": 0, "train_loss": f"{loss:.3f}"})

    def on_validation_start(self, *, sanity: bool = False) -> None:
        if not sanity:
            self.val = self._bar(desc="Validation", position=1, disable=False, leave=False)

    def on_validation_batch_start(self, batch_idx: int, *, sanity: bool = False) -> None:
        if batch_idx == 0:  # has_dataloader_changed
            self.val.reset()
            self.val.total = self.val_batches
            self.val.initial = 0
            desc = "Sanity Checking" if sanity else "Validation"
            self.val.set_description(f"{desc} DataLoader 0")

    def on_validation_batch_end(self, batch_idx: int) -> None:
        self.val.n = batch_idx + 1
        self.val.refresh()

    def on_validation_end(self, loss: float) -> None:
        self.val.close()
        self.train.set_postfix({"v_num": 0, "train_loss": f"{loss:.3f}", "val_loss": f"{loss:.3f}"})

    def on_train_end(self) -> None:
        self.train.close()


def shown(sim: Any, key: str) -> dict[str, Any]:
    return [r.json for r in sim.requests if r.method == "PUT" and r.key == key][-1]["content_state"]


@pytest.mark.parametrize("old_total", [False, True], ids=["lightning-2.x", "lightning-1.x-total-with-val"])
def test_the_observer_follows_the_train_bar_across_epochs_and_ignores_sanity_and_validation(
        dispatcher, sim, clock, old_total) -> None:
    epochs, batches, val_batches = 3, 4, 2
    act = Activity("Lightning fit", key="pl-bars", dispatcher=dispatcher, clock=clock).start()
    source = BarSource()
    act.attach(source)
    bars = LightningBars(old_total=old_total, val_batches=val_batches)
    views: list[tuple[str, Any, str]] = []  # (moment, percentage, subtitle) as the phone showed them

    def look(moment: str) -> None:
        assert source.observer is not None
        source.observer.poll()
        dispatcher.flush(timeout=5)
        cs = shown(sim, "pl-bars")
        views.append((moment, cs.get("percentage"), cs.get("subtitle", "")))

    look("start")
    bars.on_sanity_check_start()
    bars.on_validation_start(sanity=True)
    for i in range(2):
        bars.on_validation_batch_start(i, sanity=True)
        bars.on_validation_batch_end(i)
        look(f"sanity {i}")
    bars.on_sanity_check_end()
    look("sanity closed")
    bars.on_train_start()
    train_total = batches + val_batches if old_total else batches
    for epoch in range(epochs):
        bars.on_train_epoch_start(epoch, batches)
        for b in range(batches):
            bars.on_train_batch_end(b, 1.0 / (b + 1))
            look(f"epoch {epoch} batch {b}")
            _, pct, subtitle = views[-1]
            assert pct == pytest.approx(100.0 * (b + 1) / train_total, abs=0.05)  # reset every epoch
            assert subtitle.startswith(f"Epoch {epoch}: {b + 1}/{train_total}")
        bars.on_validation_start()
        for v in range(val_batches):
            bars.on_validation_batch_start(v)
            bars.on_validation_batch_end(v)
            look(f"epoch {epoch} validation {v}")
            _, pct, subtitle = views[-1]  # still the train bar: validation is position 1, leave=False
            assert pct == pytest.approx(100.0 * batches / train_total, abs=0.05)
            assert subtitle.startswith(f"Epoch {epoch}: {batches}/{train_total}")
        bars.on_validation_end(0.25)
    bars.on_train_end()
    look("train closed")
    act.end("completed")
    dispatcher.flush(timeout=5)
    sanity = [v for v in views if v[0].startswith("sanity")]
    assert all("Sanity" not in subtitle and pct in (0, None) for _, pct, subtitle in sanity), sanity
    assert not any("Validation" in subtitle for _, _, subtitle in views)
    assert [r.json for r in sim.requests if r.method == "DELETE"][-1]["content_state"]["percentage"] == 100


def test_a_bar_opted_out_is_not_followed(dispatcher, sim, clock) -> None:
    act = Activity("Opt out", key="opt-out", dispatcher=dispatcher, clock=clock).start()
    source = BarSource()
    act.attach(source)
    hidden = Tqdm(total=10, desc="Framework's own", file=sys.stdout)
    hidden.activitysmith_follow = False  # what the Lightning callback does to Lightning's bars
    shown_bar = Tqdm(total=4, desc="Mine", position=1, file=sys.stdout)
    hidden.update(5)
    shown_bar.update(1)
    assert source.observer is not None
    source.observer.poll()
    dispatcher.flush(timeout=5)
    assert shown(sim, "opt-out")["subtitle"].startswith("Mine: 1/4")
    hidden.close()
    shown_bar.close()
    act.end("completed")

"""Real training with torch: ``transformers.Trainer.train()`` and Lightning's ``Trainer.fit()``.

Skipped where torch is not installed (the project's venv and CI: torch is not a test dependency).
They ran, with torch 2.13.0+cpu, lightning 2.6.6 and accelerate, in a side environment — see README,
"Transformers and Lightning".
"""
from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path.startswith("/push-notification")]


def ends(sim: Any, key: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == "DELETE" and r.key == key]


def puts(sim: Any, key: str) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == "PUT" and r.key == key]


# ------------------------------------------------------------------------------ transformers


class _Regression(torch.nn.Module):
    """The smallest model a Trainer accepts: forward(x, labels) -> {"loss": ...}."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        out = self.linear(x).squeeze(-1)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def _rows(n: int) -> list[dict[str, Any]]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g)
    y = x @ torch.tensor([1.5, -2.0])
    return [{"x": x[i], "labels": y[i]} for i in range(n)]


def test_a_real_trainer_run_completes(dispatcher, sim, clock, tmp_path) -> None:
    pytest.importorskip("accelerate")
    from transformers import Trainer, TrainingArguments

    from activitysmith_jupyter.integrations.transformers import ActivitySmithCallback

    cb = ActivitySmithCallback("HF real", key="hf-real", dispatcher=dispatcher, clock=clock)
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[], num_train_epochs=2, per_device_train_batch_size=4,
                             logging_steps=2, eval_strategy="epoch", save_strategy="no", disable_tqdm=True,
                             use_cpu=True)
    trainer = Trainer(model=_Regression(), args=args, train_dataset=_rows(16), eval_dataset=_rows(8), callbacks=[cb])
    trainer.train()
    dispatcher.flush(timeout=10)
    assert cb.activity is not None and cb.activity.outcome == "completed"
    [end] = ends(sim, "hf-real")
    assert end["content_state"]["percentage"] == 100
    [push] = pushes(sim)
    assert push["title"].startswith("✅ HF real finished in")
    assert "loss" in (push.get("message") or "")


def test_a_real_trainer_with_early_stopping_ends_stopped(dispatcher, sim, clock, tmp_path) -> None:
    pytest.importorskip("accelerate")
    from transformers import EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments

    from activitysmith_jupyter.integrations.transformers import ActivitySmithCallback

    class WorseEveryTime(TrainerCallback):  # an eval loss that only grows: patience 1 stops at the 2nd eval
        def on_evaluate(self, args: Any, state: Any, control: Any, metrics: Any = None, **kw: Any) -> None:
            metrics["eval_loss"] = 1.0 + len(state.log_history)

    cb = ActivitySmithCallback("HF stop", key="hf-stop", dispatcher=dispatcher, clock=clock)
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[], num_train_epochs=10, per_device_train_batch_size=4,
                             logging_steps=1, eval_strategy="epoch", save_strategy="no", disable_tqdm=True,
                             metric_for_best_model="loss", greater_is_better=False, use_cpu=True)
    trainer = Trainer(model=_Regression(), args=args, train_dataset=_rows(8), eval_dataset=_rows(4),
                      callbacks=[WorseEveryTime(), EarlyStoppingCallback(early_stopping_patience=1), cb])
    trainer.train()
    dispatcher.flush(timeout=10)
    assert trainer.state.global_step < trainer.state.max_steps
    assert cb.activity is not None and cb.activity.outcome == "stopped"
    assert pushes(sim)[0]["title"].startswith("⏹️ HF stop stopped after")


# ------------------------------------------------------------------------------ lightning


def _lightning_module() -> Any:
    L = pytest.importorskip("lightning.pytorch")

    class Tiny(L.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def training_step(self, batch: Any, i: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.linear(x), y)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch: Any, i: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.linear(x), y) + self.current_epoch)

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.1)

    return Tiny()


def _loaders() -> tuple[Any, Any]:
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(0)
    ds = TensorDataset(torch.randn(8, 2, generator=g), torch.randn(8, 1, generator=g))
    return DataLoader(ds, batch_size=4), DataLoader(ds, batch_size=4)


@pytest.mark.parametrize(("early_stop", "outcome"), [(False, "completed"), (True, "stopped")],
                         ids=["max-epochs", "early-stopping"])
def test_a_real_lightning_fit(dispatcher, sim, clock, early_stop, outcome) -> None:
    L = pytest.importorskip("lightning.pytorch")
    from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback

    cb = ActivitySmithCallback("PL real", key="pl-real", dispatcher=dispatcher, clock=clock)
    assert isinstance(cb, L.Callback)
    extra = [L.callbacks.EarlyStopping("val_loss", patience=1)] if early_stop else []
    trainer = L.Trainer(max_epochs=4, callbacks=[cb, *extra], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(_lightning_module(), *_loaders())
    dispatcher.flush(timeout=10)
    assert cb.activity is not None and cb.activity.outcome == outcome
    [push] = pushes(sim)
    assert "val_loss" in (push.get("message") or "")
    assert len(ends(sim, "pl-real")) == 1


def test_a_real_lightning_fit_that_raises_fails(dispatcher, sim, clock) -> None:
    L = pytest.importorskip("lightning.pytorch")
    from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback

    class Boom(L.Callback):  # type: ignore[misc,name-defined]
        def on_train_batch_end(self, trainer: Any, *_: Any) -> None:
            if trainer.global_step == 3:
                raise RuntimeError("CUDA out of memory")

    cb = ActivitySmithCallback("PL boom", key="pl-boom", dispatcher=dispatcher, clock=clock)
    trainer = L.Trainer(max_epochs=4, callbacks=[cb, Boom()], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        trainer.fit(_lightning_module(), *_loaders())
    dispatcher.flush(timeout=10)
    assert cb.activity is not None and cb.activity.outcome == "failed"
    assert "RuntimeError: CUDA out of memory" in pushes(sim)[0]["message"]


def test_the_observer_follows_a_real_lightning_progress_bar(dispatcher, sim, clock) -> None:
    L = pytest.importorskip("lightning.pytorch")
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations.tqdm import BarSource

    act = Activity("PL bars", key="pl-bars", dispatcher=dispatcher, clock=clock).start()
    source = BarSource()
    act.attach(source)
    subtitles: list[str] = []

    class Look(L.Callback):  # type: ignore[misc,name-defined]  # one observer look per batch (no sleeping)
        def _look(self) -> None:
            assert source.observer is not None
            source.observer.poll()
            dispatcher.flush(timeout=10)
            subtitles.append(puts(sim, "pl-bars")[-1]["content_state"].get("subtitle", ""))

        def on_train_batch_end(self, *_: Any) -> None:
            self._look()

        def on_validation_batch_end(self, *_: Any) -> None:
            self._look()

    # Lightning 2.6 defaults to RichProgressBar when rich is installed: ask for its tqdm bar
    trainer = L.Trainer(max_epochs=3, callbacks=[L.callbacks.TQDMProgressBar(), Look()], logger=False,
                        enable_checkpointing=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(_lightning_module(), *_loaders())
    act.end("completed")
    dispatcher.flush(timeout=10)
    assert not [s for s in subtitles if "Sanity" in s or "Validation" in s]
    assert {s.split(":")[0] for s in subtitles if s.startswith("Epoch")} == {"Epoch 0", "Epoch 1", "Epoch 2"}
    assert ends(sim, "pl-bars")[-1]["content_state"]["percentage"] == 100


def test_lightning_loads_our_callback_through_its_entry_point_inside_an_activity(dispatcher, sim, clock, tmp_path,
                                                                                 monkeypatch) -> None:
    """The entry point as Lightning reads it (importlib.metadata), declared by a dist-info on sys.path
    exactly as pyproject.toml declares it for the installed package."""
    L = pytest.importorskip("lightning.pytorch")
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations.lightning import ActivitySmithCallback

    dist = tmp_path / "activitysmith_ep_probe-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: activitysmith-ep-probe\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[lightning.pytorch.callbacks_factory]\n"
        "activitysmith = activitysmith_jupyter.integrations.lightning:callbacks_factory\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    from activitysmith_jupyter.integrations.tqdm import BarSource

    source = BarSource()

    class Look(L.Callback):  # type: ignore[misc,name-defined]  # the cell's bar observer, one look a batch
        def on_train_batch_end(self, *_: Any) -> None:
            assert source.observer is not None
            source.observer.poll()
            dispatcher.flush(timeout=10)  # what the look fed reaches the phone before our next feed
            clock.advance(11)

    def make() -> Any:  # with Lightning's tqdm bar: the observer must leave it to our callback
        return L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_model_summary=False,
                         accelerator="cpu", callbacks=[L.callbacks.TQDMProgressBar(), Look()])

    assert not any(isinstance(cb, ActivitySmithCallback) for cb in make().callbacks)  # no activity: none added
    with Activity("Cell", key="pl-cell", dispatcher=dispatcher, clock=clock) as act:
        act.attach(source)
        trainer = make()
        assert any(isinstance(cb, ActivitySmithCallback) for cb in trainer.callbacks)
        trainer.fit(_lightning_module(), *_loaders())
        dispatcher.flush(timeout=10)
        assert act.outcome is None  # the block owns the end
        states = [r["content_state"] for r in puts(sim, "pl-cell")]
        assert states[-1]["percentage"] == 100
        subtitles = [cs.get("subtitle", "") for cs in states]
        assert not [s for s in subtitles if s.startswith(("Epoch", "Sanity", "Validation"))], subtitles
        assert any("epoch 2/2" in s for s in subtitles)
    dispatcher.flush(timeout=10)
    assert "val_loss" in (pushes(sim)[0].get("message") or "")

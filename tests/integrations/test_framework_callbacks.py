"""What every framework callback does the same way, one test per behaviour and one case per framework (the
framework's own behaviour stays in its test_integration_<framework>.py)."""
from __future__ import annotations

import importlib
import os

os.environ["KERAS_BACKEND"] = "jax"  # before keras is imported anywhere in this process (as in its own tests)

from dataclasses import dataclass
from typing import Any

import pytest

from integration_helpers import pushes, run_child, the_activity

# framework -> the library its callback needs (Lightning's falls back to a plain class without torch)
LIBRARY = {"keras": "keras", "xgboost": "xgboost", "optuna": "optuna", "lightgbm": "lightgbm",
           "transformers": "transformers", "lightning": None}

# every callback takes the Activity options: each bad one is refused naming the field
SHARED_BAD_OPTIONS = [
    ("empty-title", dict(title=""), "title"),
    ("unknown-type", dict(type="pie"), "type"),
    ("unknown-notify", dict(notify="sometimes"), "notify"),
    ("key-with-a-space", dict(key="nightly backup"), "key"),
    ("unknown-color", dict(color="mauve"), "color"),  # checked with the run options, not at the first send
]
OWN_BAD_OPTIONS = {
    "xgboost": [("zero-total", dict(total=0), "total"), ("fractional-total", dict(total=2.5), "total")],
    "optuna": [("negative-n_trials", dict(n_trials=-3), "n_trials"),
               ("text-n_trials", dict(n_trials="100"), "n_trials")],
}
BAD_OPTIONS = [pytest.param(framework, options, field, id=f"{framework}-{name}")
               for framework in LIBRARY
               for name, options, field in SHARED_BAD_OPTIONS + OWN_BAD_OPTIONS.get(framework, [])]


def callback_class(framework: str) -> Any:
    if LIBRARY[framework] is not None:
        pytest.importorskip(LIBRARY[framework])
    return importlib.import_module(f"activitysmith_jupyter.integrations.{framework}").ActivitySmithCallback


@pytest.mark.parametrize(("framework", "options", "field"), BAD_OPTIONS)
def test_bad_options_raise_naming_the_field_before_anything_is_sent(framework, options, field, dispatcher,
                                                                     sim) -> None:
    ActivitySmithCallback = callback_class(framework)
    with pytest.raises(ValueError, match=field):
        ActivitySmithCallback(dispatcher=dispatcher, **options)
    assert sim.requests == []


@dataclass(frozen=True)
class FailingScript:
    """A script whose training raises; what its stderr, its activity and the phone's push then show."""
    source: str
    in_stderr: str
    key: str
    title: str
    in_message: str


FAILING_SCRIPTS = {
    "keras": FailingScript("""
        import numpy as np, keras
        from activitysmith_jupyter.integrations.keras import ActivitySmithCallback
        x = np.zeros((32, 2), dtype="float32"); y = np.zeros(32, dtype="float32")
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse")
        def boom(epoch, logs):
            raise MemoryError("out of memory in epoch 2")
        m.fit(x, y, epochs=3, verbose=0, callbacks=[ActivitySmithCallback("Script fit"),
                                                    keras.callbacks.LambdaCallback(on_epoch_end=boom)])
    """, in_stderr="MemoryError", key="Script-fit", title="❌ Script fit failed",
        in_message="MemoryError: out of memory"),
    "xgboost": FailingScript("""
        import numpy as np, xgboost as xgb
        from activitysmith_jupyter.integrations.xgboost import ActivitySmithCallback
        class Explode(xgb.callback.TrainingCallback):
            def after_iteration(self, model, epoch, evals_log):
                if epoch == 2:
                    raise ValueError("NaN in gradients")
                return False
        d = xgb.DMatrix(np.random.rand(50, 3), np.random.rand(50))
        xgb.train({}, d, num_boost_round=10, callbacks=[ActivitySmithCallback("Script boost"), Explode()])
    """, in_stderr="NaN in gradients", key="Script-boost", title="❌ Script boost failed",
        in_message="ValueError: NaN in gradients"),
    "optuna": FailingScript("""
        import optuna
        from activitysmith_jupyter.integrations.optuna import ActivitySmithCallback
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        def objective(trial):
            if trial.number == 2:
                raise KeyError("missing column 'price'")
            return trial.suggest_float("x", 0, 1)
        optuna.create_study().optimize(objective, n_trials=10, callbacks=[ActivitySmithCallback("Script study")])
    """, in_stderr="missing column", key="Script-study", title="❌ Script study failed", in_message="KeyError"),
}


@pytest.mark.parametrize("framework", list(FAILING_SCRIPTS))
def test_a_script_whose_training_raises_ends_failed_at_exit(framework, server, sim, tmp_path) -> None:
    pytest.importorskip(LIBRARY[framework] or framework)
    script = FAILING_SCRIPTS[framework]
    child = run_child(script.source, server, tmp_path)
    assert child.returncode == 1 and script.in_stderr in child.stderr
    assert the_activity(sim, script.key)["state"] == "ended"
    [push] = pushes(sim)
    assert push["title"].startswith(script.title) and script.in_message in push["message"]

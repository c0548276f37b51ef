"""Wall time the framework callback and the tqdm drop-in add to a training loop.

1. Keras 3 (jax backend) ``model.fit`` over 3 epochs of 2 000 batches of a tiny model, with and without
   ``activitysmith_jupyter.integrations.keras.ActivitySmithCallback``;
2. a 2 000 000-iteration loop calling ``set_postfix`` every 1 000 iterations with plain
   ``tqdm.auto.tqdm`` and with ``activitysmith_jupyter.tqdm.tqdm``.

Each pair runs interleaved in the same process (A B A B ...), so both sides see the same machine
state, and the dispatcher sends what a run queued between runs (untimed). The figure is the median of
the per-pair wall-time ratios (targets: <= 1.02 and <= 1.03), with the ratio of the median process CPU
times beside it (the dispatcher's thread included; less moved by other load on a busy machine). Everything goes to a
private embedded simulator through the dispatcher's background thread; nothing leaves the machine.

    python bench/callback_overhead.py [--rounds 7] [--batches 2000] [--epochs 3] [--iterations 2000000] [--only keras|tqdm]
"""
from __future__ import annotations

import argparse
import io
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.pop("ACTIVITYSMITH_API_KEY", None)  # never the real API
os.environ.pop("ACTIVITYSMITH_BASE_URL", None)


def interleaved(rounds: int, plain: Callable[[], None], ours: Callable[[], None],
                settle: Callable[[], None]) -> dict[str, list[float]]:
    """Wall and process-CPU seconds of `rounds` alternating runs of each, the order swapped every round;
    `settle()` (untimed) after each run lets the dispatcher send what the run queued."""
    times: dict[str, list[float]] = {"plain": [], "ours": [], "plain_cpu": [], "ours_cpu": []}
    for i in range(rounds):
        for name, fn in (("plain", plain), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("plain", plain)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - t0)
            times[f"{name}_cpu"].append(time.process_time() - c0)
            settle()
    return times


def keras_pair(batches: int, epochs: int, dispatcher: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    import numpy as np
    import keras

    from activitysmith_jupyter.integrations.keras import ActivitySmithCallback

    rng = np.random.default_rng(0)
    x = rng.random((batches * 8, 8), dtype=np.float32)
    y = (x.sum(axis=1) > 4).astype("float32")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], batch_size=8, epochs=1, verbose=0)  # compile the step function once

    def plain() -> None:
        model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)

    def ours() -> None:
        model.fit(x, y, batch_size=8, epochs=epochs, verbose=0,
                  callbacks=[ActivitySmithCallback("Bench fit", dispatcher=dispatcher, notify="never")])

    return plain, ours


def hooks_alone(batches: int, epochs: int, dispatcher: Any) -> float:
    """Seconds the callback's own hooks take for one fit of that shape, driven as Keras drives them
    (no training: what the callback adds, free of the machine's noise around a real fit)."""
    from activitysmith_jupyter.integrations.keras import ActivitySmithCallback

    class Model:
        stop_training = False

    logs = {"loss": 0.5, "accuracy": 0.75}
    best = math.inf
    for _ in range(5):
        cb = ActivitySmithCallback("Bench hooks", dispatcher=dispatcher, notify="never")
        cb.set_model(Model())
        cb.set_params({"epochs": epochs, "steps": batches, "verbose": 0})
        t0 = time.perf_counter()
        cb.on_train_begin()
        for epoch in range(epochs):
            cb.on_epoch_begin(epoch)
            for batch in range(batches):
                cb.on_train_batch_end(batch, logs)
            cb.on_epoch_end(epoch, {**logs, "val_loss": 0.6})
        cb.on_train_end(logs)
        best = min(best, time.perf_counter() - t0)
        dispatcher.flush(timeout=30)
    return best


def tqdm_pair(iterations: int, dispatcher: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    from tqdm.auto import tqdm as plain_tqdm

    from activitysmith_jupyter.tqdm import tqdm as our_tqdm

    sink = io.StringIO()

    def loop(bar: Any) -> None:
        for i in bar:
            if i % 1000 == 0:
                bar.set_postfix(loss=1.0 / (i + 1), acc=i / iterations)

    def plain() -> None:
        loop(plain_tqdm(range(iterations), desc="bench", file=sink))

    def ours() -> None:
        loop(our_tqdm(range(iterations), desc="bench", file=sink, dispatcher=dispatcher))

    return plain, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs of each side per pair (default 7)")
    parser.add_argument("--batches", type=int, default=2000, help="batches per Keras epoch (default 2000)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per Keras fit (default 3)")
    parser.add_argument("--iterations", type=int, default=2_000_000, help="tqdm loop length (default 2000000)")
    parser.add_argument("--only", choices=("keras", "tqdm"), help="run one pair")
    args = parser.parse_args()

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.simulator import Simulator

    # No rate limits: the bench measures the loop, not the account budget.
    sim = Simulator(rate_limit_per_minute=None, max_active_activities=10_000)
    dispatcher = Dispatcher(ActivitySmith(transport=sim.transport()), requests_per_minute=1_000_000, reserve=0)

    def settle() -> None:
        dispatcher.flush(timeout=30)

    results: list[tuple[str, dict[str, list[float]], float]] = []
    if args.only in (None, "keras"):
        plain, ours = keras_pair(args.batches, args.epochs, dispatcher)
        results.append((f"Keras fit, {args.epochs} x {args.batches:,} batches",
                        interleaved(args.rounds, plain, ours, settle), 1.02))
        own = hooks_alone(args.batches, args.epochs, dispatcher)
    if args.only in (None, "tqdm"):
        plain, ours = tqdm_pair(args.iterations, dispatcher)
        results.append((f"tqdm loop, {args.iterations:,} it + set_postfix/1,000",
                        interleaved(args.rounds, plain, ours, settle), 1.03))
    dispatcher.flush(timeout=30)

    print(f"{args.rounds} interleaved runs per side; requests sent: {dispatcher.stats.sent}")
    if args.only in (None, "keras"):
        plain_fit = min(results[0][1]["plain"])
        print(f"Keras callback's own hooks for one such fit: {own * 1000:.2f} ms "
              f"= {100 * own / plain_fit:.2f} % of the fastest plain fit")
    for name, t, target in results:
        ratio = statistics.median(o / p for o, p in zip(t["ours"], t["plain"]))  # pairs share machine state
        cpu = statistics.median(t["ours_cpu"]) / statistics.median(t["plain_cpu"])  # less moved by other load
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name}: plain {statistics.median(t['plain']):.3f} s · ours {statistics.median(t['ours']):.3f} s "
              f"(median wall) · ratio {ratio:.3f} (median of pairs; target <= {target}) {verdict} · "
              f"CPU ratio {cpu:.3f}")

if __name__ == "__main__":
    main()

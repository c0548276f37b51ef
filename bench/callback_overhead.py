"""Wall time the framework callback and the tqdm drop-in add to a training loop.

1. Keras 3 (jax backend) ``model.fit`` over 2 000 batches of a tiny model, with and without
   ``activitysmith_jupyter.integrations.keras.ActivitySmithCallback``;
2. a 2 000 000-iteration loop calling ``set_postfix`` every 1 000 iterations with plain
   ``tqdm.auto.tqdm`` and with ``activitysmith_jupyter.tqdm.tqdm``.

Each pair runs interleaved in the same process (A B A B ...), so both sides see the same machine
state; the figure is the ratio of the medians (targets: <= 1.02 and <= 1.03), with the ratio of the
fastest runs beside it (on a busy machine the least disturbed pair). Everything goes to a
private embedded simulator through the dispatcher's background thread; nothing leaves the machine.

    python bench/callback_overhead.py [--rounds 7] [--batches 2000] [--iterations 2000000]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.pop("ACTIVITYSMITH_API_KEY", None)  # never the real API
os.environ.pop("ACTIVITYSMITH_BASE_URL", None)


def interleaved(rounds: int, plain: Callable[[], None], ours: Callable[[], None]) -> tuple[list[float], list[float]]:
    """Times of `rounds` alternating runs of each (seconds), the order swapped every round."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        for fn, bucket in ((plain, a), (ours, b)) if i % 2 == 0 else ((ours, b), (plain, a)):
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return a, b


def keras_pair(batches: int, dispatcher: Any) -> tuple[Callable[[], None], Callable[[], None]]:
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
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)

    def ours() -> None:
        model.fit(x, y, batch_size=8, epochs=1, verbose=0,
                  callbacks=[ActivitySmithCallback("Bench fit", dispatcher=dispatcher, notify="never")])

    return plain, ours


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
    parser.add_argument("--batches", type=int, default=2000, help="batches per Keras fit (default 2000)")
    parser.add_argument("--iterations", type=int, default=2_000_000, help="tqdm loop length (default 2000000)")
    parser.add_argument("--only", choices=("keras", "tqdm"), help="run one pair")
    args = parser.parse_args()

    from activitysmith_jupyter.client import ActivitySmith
    from activitysmith_jupyter.dispatch import Dispatcher
    from activitysmith_jupyter.simulator import Simulator

    # No rate limits: the bench measures the loop, not the account budget.
    sim = Simulator(rate_limit_per_minute=None, max_active_activities=10_000)
    dispatcher = Dispatcher(ActivitySmith(transport=sim.transport()), requests_per_minute=1_000_000, reserve=0)

    results: list[tuple[str, list[float], list[float], float]] = []
    if args.only in (None, "keras"):
        plain, ours = keras_pair(args.batches, dispatcher)
        a, b = interleaved(args.rounds, plain, ours)
        results.append((f"Keras fit, {args.batches:,} batches", a, b, 1.02))
    if args.only in (None, "tqdm"):
        plain, ours = tqdm_pair(args.iterations, dispatcher)
        a, b = interleaved(args.rounds, plain, ours)
        results.append((f"tqdm loop, {args.iterations:,} it + set_postfix/1,000", a, b, 1.03))
    dispatcher.flush(timeout=30)

    print(f"{args.rounds} interleaved runs per side; requests sent: {dispatcher.stats.sent}")
    for name, a, b, target in results:
        ratio = statistics.median(b) / statistics.median(a)
        best = min(b) / min(a)  # the fastest runs: least disturbed by other load on the machine
        verdict = "ok" if ratio <= target else "OVER"
        print(f"{name}: plain {statistics.median(a):.3f} s · ours {statistics.median(b):.3f} s (medians) · "
              f"ratio {ratio:.3f}, fastest-run ratio {best:.3f} (target <= {target}) {verdict}")


if __name__ == "__main__":
    main()

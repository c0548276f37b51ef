"""Wall time following a Ray Tune sweep adds to it.

A local Ray (``ray.init(num_cpus=2)``) runs a small sweep (`trials` trials of a function that reports
`reports` times) with and without ``ActivitySmithCallback`` in its ``RunConfig``. The sweeps are
interleaved (A B A B ..., the order swapped each round) on the same Ray instance; the figure is the
median of the per-pair wall-time ratios (target <= 1.02). Then: what the callback's hooks themselves take
for one such sweep, driven alone (the only work it adds to Tune's control loop). Everything goes to a
private embedded simulator; nothing leaves the machine.

    python bench/ray_overhead.py [--rounds 5] [--trials 8] [--reports 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.pop("ACTIVITYSMITH_API_KEY", None)  # never the real API
os.environ.pop("ACTIVITYSMITH_BASE_URL", None)


def trainable(config: dict[str, Any]) -> None:
    from ray import tune

    for step in range(config["reports"]):
        tune.report({"val_loss": (config["x"] - 3) ** 2 + 1 / (step + 1)})


def interleaved(rounds: int, plain: Callable[[], None], ours: Callable[[], None]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"plain": [], "ours": []}
    for i in range(rounds):
        for name, fn in (("plain", plain), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("plain", plain)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def hooks_alone(make: Callable[[], Any], trials: int, reports: int) -> float:
    """Seconds the callback's hooks take for one sweep's events (best of 5), without Ray around them."""
    class Trial:
        def __init__(self, i: int) -> None:
            self.name = f"trainable_00{i:03d}"

        def __str__(self) -> str:
            return self.name

    best = float("inf")
    for _ in range(5):
        cb = make()
        t0 = time.perf_counter()
        cb.setup(total_num_samples=trials)
        for i in range(trials):
            trial = Trial(i)
            for step in range(reports):
                cb.on_trial_result(0, [], trial, {"val_loss": (i - 3) ** 2 + 1 / (step + 1)})
            cb.on_trial_complete(0, [], trial)
        cb.on_experiment_end([])
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--reports", type=int, default=20)
    args = parser.parse_args()

    import ray
    from ray import tune

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.integrations.ray import ActivitySmithCallback
    from activitysmith_jupyter.simulator import Simulator

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    storage = tempfile.mkdtemp(prefix="activitysmith-bench-")
    space = {"x": tune.grid_search(list(range(args.trials))), "reports": args.reports}
    sim = Simulator()
    with ActivitySmith(transport=sim.transport()) as api:
        dispatcher = Dispatcher(api)

        def make() -> Any:
            return ActivitySmithCallback("Bench sweep", dispatcher=dispatcher, notify="never")

        def sweep(callbacks: list[Any]) -> None:
            tune.Tuner(trainable, param_space=space,
                       run_config=tune.RunConfig(callbacks=callbacks, storage_path=storage, verbose=0)).fit()

        sweep([])  # warm up: worker processes, Tune's imports
        sweep([make()])
        times = interleaved(args.rounds, lambda: sweep([]), lambda: sweep([make()]))
        hooks = hooks_alone(make, args.trials, args.reports)
        dispatcher.close(timeout=10)
    ray.shutdown()
    ratios = [o / p for p, o in zip(times["plain"], times["ours"])]
    plain_med = statistics.median(times["plain"])
    print(f"Tune sweep: {args.trials} trials x {args.reports} reports on ray.init(num_cpus=2), "
          f"{args.rounds} rounds interleaved")
    print(f"  without the callback: median {plain_med:.3f} s   runs {' '.join(f'{t:.2f}' for t in times['plain'])}")
    print(f"  with the callback:    median {statistics.median(times['ours']):.3f} s   "
          f"runs {' '.join(f'{t:.2f}' for t in times['ours'])}")
    print(f"  ratio (median of pair ratios): {statistics.median(ratios):.3f}   target <= 1.02")
    print(f"  the callback's hooks alone: {hooks * 1000:.2f} ms per sweep ({hooks / plain_med * 100:.3f} % of a sweep)")


if __name__ == "__main__":
    main()

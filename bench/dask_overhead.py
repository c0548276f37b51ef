"""Wall time ``follow()`` adds to a Dask cluster's work.

A LocalCluster (2 worker processes, 1 thread each, loopback, no dashboard) computes a graph of at
least `tasks` tasks (tiny ``inc`` tasks summed by a tree of ``add`` tasks), with
and without ``activitysmith_jupyter.integrations.distributed.follow`` on its future. The runs are
interleaved on the same cluster (A B A B ..., the order swapped each round), so both sides see the same
machine; the figure is the median of the per-pair wall-time ratios (target <= 1.02), with the ratio of
the median process CPU times beside it (the scheduler of a LocalCluster runs in this process, so its
thread is counted; less moved by other load on a busy machine). Then: the
time the scheduler plugin's ``transition`` hook itself takes for one such graph, driven alone (what it
adds to the scheduler's thread, free of the noise around a real run). Everything goes to a private
embedded simulator through the dispatcher's thread; nothing leaves the machine.

    python bench/dask_overhead.py [--rounds 5] [--tasks 10000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.pop("ACTIVITYSMITH_API_KEY", None)  # never the real API
os.environ.pop("ACTIVITYSMITH_BASE_URL", None)


def inc(x: int) -> int:
    return x + 1


def add(x: int, y: int) -> int:
    return x + y


def incs_for(tasks: int) -> int:
    return (tasks + 2) // 2  # n incs and n - 1 adds: 2n - 1 >= tasks


def graph(tasks: int, salt: int) -> Any:
    """At least `tasks` tasks: incs summed pairwise; `salt` makes every run's keys new."""
    from dask import delayed

    n = incs_for(tasks)
    layer = [delayed(inc, pure=True)(i + salt * n) for i in range(n)]
    while len(layer) > 1:
        pairs = [delayed(add, pure=True)(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        layer = pairs + ([layer[-1]] if len(layer) % 2 else [])
    return layer[0]


def interleaved(rounds: int, plain: Callable[[int], None], ours: Callable[[int], None],
                settle: Callable[[], None]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"plain": [], "ours": [], "plain_cpu": [], "ours_cpu": []}
    salt = 0
    for i in range(rounds):
        for name, fn in (("plain", plain), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("plain", plain)):
            salt += 1
            t0, c0 = time.perf_counter(), time.process_time()
            fn(salt)
            times[name].append(time.perf_counter() - t0)
            times[f"{name}_cpu"].append(time.process_time() - c0)
            settle()
    return times


def hooks_alone(tasks: int) -> float:
    """Seconds TaskCounter.transition takes for the transitions of one graph of `tasks` (best of 5)."""
    import asyncio

    from activitysmith_jupyter.integrations._distributed_plugin import TaskCounter

    class FakeScheduler:  # only what the hook touches while the work runs
        tasks: dict[str, Any] = {}
        plugins: dict[str, Any] = {}

        def log_event(self, topic: str, msg: Any) -> None:
            pass

    keys = [f"inc-{i}" for i in range(2 * incs_for(tasks) - 1)]
    steps = (("released", "waiting"), ("waiting", "processing"), ("processing", "memory"))

    async def run() -> float:
        counter = TaskCounter("bench", keys[-1:], "bench", "client", interval=0.5)
        counter._scheduler = FakeScheduler()  # type: ignore[assignment]
        counter._tracked, counter._remaining, counter._roots_left = set(keys), set(keys), {keys[-1]}
        counter._ready = True
        t0 = time.perf_counter()
        for key in keys:
            for start, finish in steps:
                counter.transition(key, start, finish, stimulus_id="bench")
        took = time.perf_counter() - t0
        if counter._flush is not None:
            counter._flush.cancel()
        return took

    return min(asyncio.run(run()) for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks in the graph (at least)")
    args = parser.parse_args()

    import distributed

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.integrations.distributed import follow
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator()
    with ActivitySmith(transport=sim.transport()) as api, \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dispatcher = Dispatcher(api)

        def plain(salt: int) -> None:
            client.compute(graph(args.tasks, salt)).result()

        def ours(salt: int) -> None:
            future = client.compute(graph(args.tasks, salt))
            following = follow(future, title="Bench graph", dispatcher=dispatcher, notify="never")
            future.result()
            if not following.wait(30):
                raise SystemExit("follow() never saw the end")
            assert following.last is not None and following.last.n == following.last.total

        plain(0)  # warm up the workers and the scheduler
        ours(-1)
        times = interleaved(args.rounds, plain, ours, settle=lambda: dispatcher.flush(timeout=30))
        dispatcher.close(timeout=10)
    ratios = [o / p for p, o in zip(times["plain"], times["ours"])]
    plain_med, ours_med = statistics.median(times["plain"]), statistics.median(times["ours"])
    hooks = hooks_alone(args.tasks)  # after the cluster is gone
    cpu = statistics.median(times["ours_cpu"]) / statistics.median(times["plain_cpu"])
    print(f"graph: {2 * incs_for(args.tasks) - 1} tasks on 2 worker processes, {args.rounds} rounds interleaved")
    print(f"  without follow(): median {plain_med:.3f} s   runs {' '.join(f'{t:.2f}' for t in times['plain'])}")
    print(f"  with follow():    median {ours_med:.3f} s   runs {' '.join(f'{t:.2f}' for t in times['ours'])}")
    print(f"  ratio (median of pair ratios): {statistics.median(ratios):.3f}   target <= 1.02")
    print(f"  process CPU (scheduler thread included), ratio of medians: {cpu:.3f}")
    print(f"  the plugin's transition hook alone: {hooks * 1000:.1f} ms per graph "
          f"({hooks / plain_med * 100:.2f} % of a run)")


if __name__ == "__main__":
    main()

"""Wall time following a PySpark job adds to it.

A local Spark (``local[2]``, no UI, no console bar) runs a job of at least `tasks` tasks (a grouping of
``range`` over `tasks` partitions, shuffled into 4: two stages) with and without an activity following
it (``SparkSource``: a job tag on this thread, the status tracker polled from the shared daemon thread,
once per second). The runs are interleaved (A B A B ..., the order swapped each round) on the same
SparkContext, so both sides see the same JVM and machine; the figure is the median of the per-pair
wall-time ratios (target <= 1.02), with the ratio of the median CPU times of this process and the JVM
beside it (what a busy machine moves least). Then: the cost of one poll of the tracker for such a job (what the
daemon thread spends each second). Everything goes to a private embedded simulator; nothing leaves the
machine.

    python bench/spark_overhead.py [--rounds 7] [--tasks 400]
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


def interleaved(rounds: int, plain: Callable[[], None], ours: Callable[[], None],
                cpu: Callable[[], float]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"plain": [], "ours": [], "plain_cpu": [], "ours_cpu": []}
    for i in range(rounds):
        for name, fn in (("plain", plain), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("plain", plain)):
            t0, c0 = time.perf_counter(), cpu()
            fn()
            times[name].append(time.perf_counter() - t0)
            times[f"{name}_cpu"].append(cpu() - c0)
    return times


def cpu_of(pid: int) -> Callable[[], float]:
    """CPU seconds (user + system) of this process and of the JVM (`pid`) so far."""
    import psutil

    jvm = psutil.Process(pid)

    def total() -> float:
        t = jvm.cpu_times()
        return time.process_time() + t.user + t.system

    return total


def report(what: str, times: dict[str, list[float]]) -> None:
    ratios = [o / p for p, o in zip(times["plain"], times["ours"])]
    print(what)
    print(f"  without: median {statistics.median(times['plain']):.3f} s   runs {' '.join(f'{t:.2f}' for t in times['plain'])}")
    print(f"  with:    median {statistics.median(times['ours']):.3f} s   runs {' '.join(f'{t:.2f}' for t in times['ours'])}")
    print(f"  ratio (median of pair ratios): {statistics.median(ratios):.3f}   target <= 1.02")
    if times.get("plain_cpu"):
        cpu = statistics.median(times["ours_cpu"]) / statistics.median(times["plain_cpu"])
        print(f"  CPU of this process and the JVM, ratio of medians: {cpu:.3f} (less moved by other load)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tasks", type=int, default=400, help="map tasks (at least 200)")
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations._spark_jobs import ClassicJobs
    from activitysmith_jupyter.integrations.spark import SparkSource
    from activitysmith_jupyter.simulator import Simulator

    spark = (SparkSession.builder.master("local[2]").appName("bench").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "4")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    query = f"SELECT id % 97 AS k, count(*) FROM range(0, {args.tasks * 1000}, 1, {args.tasks}) GROUP BY k"
    sim = Simulator()
    with ActivitySmith(transport=sim.transport()) as api:
        dispatcher = Dispatcher(api)
        source: list[Any] = []

        def plain() -> None:
            spark.sql(query).collect()

        def ours() -> None:
            with Activity("Bench job", dispatcher=dispatcher, notify="never") as act:
                src = SparkSource(spark)
                act.attach(src)
                spark.sql(query).collect()
            source[:] = [src]

        for _ in range(2):  # warm up the JVM (code generation, the first shuffle)
            plain()
            ours()
        times = interleaved(args.rounds, plain, ours, cpu_of(spark.sparkContext._gateway.proc.pid))
        last = source[0].last
        assert last is not None and last.n == last.total, last
        dispatcher.close(timeout=10)
        context = spark.sparkContext  # one more run, tagged, to time a poll of its jobs
        context.addJobTag("bench-poll")
        plain()
        context.removeJobTag("bench-poll")
        jobs = ClassicJobs(context, tag="bench-poll")
        t0 = time.perf_counter()
        for _ in range(20):
            jobs._ended.clear()  # ask the tracker again, as for a running job
            jobs._stages_done.clear()
            jobs.snapshot()
        poll = (time.perf_counter() - t0) / 20
    report(f"Spark job: {args.tasks} + 4 tasks (2 stages) on local[2], {args.rounds} rounds interleaved", times)
    print(f"  one status-tracker poll of such a job: {poll * 1000:.1f} ms (at most one a second per activity)")
    spark.stop()


if __name__ == "__main__":
    main()

"""Loop overhead of the mirrored bar vs plain tqdm, and the requests it costs.

    python bench/tqdm_overhead.py [--iterations 2000000] [--repeats 7]

Same process, same simulator-backed client, both bars writing to os.devnull, runs interleaved
(plain/ours, then ours/plain, ...) so drift hits both. Prints each pair, the median and best-of
loop-time ratio (target <= 1.03) and the requests the simulator received per mirrored bar
(target <= 25, the final 100 % state included).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from tqdm.auto import tqdm as plain_tqdm

from activitysmith_jupyter.api.client import ActivitySmith
from activitysmith_jupyter.delivery.dispatcher import dispatcher_for
from activitysmith_jupyter.simulator import Simulator
from activitysmith_jupyter.tqdm import tqdm as mirrored_tqdm


def run(bar_class, n: int, null, **kwargs) -> tuple[float, float]:
    """(wall seconds, process CPU seconds: the dispatcher thread's sending included) of one whole loop."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in bar_class(range(n), file=null, **kwargs):
        pass
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)

    sim = Simulator()
    client = ActivitySmith(transport=sim.transport())
    dispatcher = dispatcher_for(client)
    plain_times: list[float] = []
    ours_times: list[float] = []
    plain_cpu: list[float] = []
    ours_cpu: list[float] = []
    requests: list[int] = []
    with open(os.devnull, "w") as null:
        run(plain_tqdm, 10_000, null)  # warm-up (imports, first display)
        for i in range(args.repeats):
            key = f"bench-{i}"
            order = [("plain", plain_tqdm, {}), ("ours", mirrored_tqdm, {"client": client, "stream_key": key})]
            if i % 2:
                order.reverse()
            for name, bar_class, kwargs in order:
                elapsed, cpu = run(bar_class, args.iterations, null, **kwargs)
                (plain_times if name == "plain" else ours_times).append(elapsed)
                (plain_cpu if name == "plain" else ours_cpu).append(cpu)
            dispatcher.flush(10)
            requests.append(sum(1 for r in sim.requests if r.key == key))
            print(f"run {i} ({'ours first' if i % 2 else 'plain first'}): plain {plain_times[-1]:.3f} s "
                  f"(cpu {plain_cpu[-1]:.3f})  ours {ours_times[-1]:.3f} s (cpu {ours_cpu[-1]:.3f})  "
                  f"ratio {ours_times[-1] / plain_times[-1]:.3f}  requests {requests[-1]}")

    ratios = [o / p for o, p in zip(ours_times, plain_times)]
    final_ok = all(
        any(r.method == "DELETE" and r.key == f"bench-{i}" and r.json["content_state"]["percentage"] == 100
            for r in sim.requests)
        for i in range(args.repeats)
    )
    print(f"iterations: {args.iterations:,}  repeats: {args.repeats}  python {sys.version.split()[0]}")
    print(f"loop-time ratio ours/plain: median of pairs {statistics.median(ratios):.3f}  "
          f"best-of {min(ours_times) / min(plain_times):.3f}  (target <= 1.03)")
    print(f"CPU-time ratio ours/plain (process, sender thread included): "
          f"median {statistics.median(ours_cpu) / statistics.median(plain_cpu):.3f}  "
          f"best-of {min(ours_cpu) / min(plain_cpu):.3f}")
    print(f"requests per mirrored bar: max {max(requests)}  (target <= 25)  final 100 % state delivered: {final_ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

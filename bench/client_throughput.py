"""Sync requests/s of our client vs the official SDK 1.14.0 against the SAME loopback simulator.

Workload: Live Activity stream updates (PUT /live-activity/stream/{key}), the hot path of a notebook
progress bar. Rounds are interleaved (ours, SDK, ours, SDK, …) in one run; the ratio is total
requests/s of ours over the SDK's. Target: >= 1.2.

    python bench/client_throughput.py [--rounds 5] [--requests 300] [--in-process]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sim_server import KEY, simulator_url  # noqa: E402

TARGET = 1.2


def _ours(url: str):
    from activitysmith_jupyter.api.client import ActivitySmith

    return ActivitySmith(KEY, base_url=url)


def _sdk(url: str):
    import activitysmith

    client = activitysmith.ActivitySmith(api_key=KEY)
    client.notifications._api.api_client.configuration.host = url
    return client


def run_round(client, n: int, key: str) -> float:
    """Seconds for n stream updates (each a new percentage, so none is a noop)."""
    stream = client.live_activities.stream
    start = time.perf_counter()
    for i in range(n):
        stream(key, content_state={"title": "Training", "type": "progress", "percentage": (i % 100) + 0.5})
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300, help="requests per client per round")
    parser.add_argument("--in-process", action="store_true", help="serve the simulator from this process")
    args = parser.parse_args(argv)

    with simulator_url(in_process=args.in_process) as url:
        ours, sdk = _ours(url), _sdk(url)
        run_round(ours, 20, "warm-ours")  # connection set-up, imports, first-call caches
        run_round(sdk, 20, "warm-sdk")
        ours_t, sdk_t = [], []
        for r in range(args.rounds):
            ours_t.append(run_round(ours, args.requests, "bench-ours"))
            sdk_t.append(run_round(sdk, args.requests, "bench-sdk"))
            print(f"round {r + 1}: ours {args.requests / ours_t[-1]:8.0f} req/s   "
                  f"sdk {args.requests / sdk_t[-1]:8.0f} req/s")
        ours.close()
    n = args.requests * args.rounds
    ours_rate, sdk_rate = n / sum(ours_t), n / sum(sdk_t)
    median_ratio = statistics.median(s / o for o, s in zip(ours_t, sdk_t))
    ratio = ours_rate / sdk_rate
    print(f"ours {ours_rate:.0f} req/s, official SDK {sdk_rate:.0f} req/s (median round ratio {median_ratio:.2f})")
    print(f"client_throughput ratio ours/sdk = {ratio:.2f} (target >= {TARGET}) {'OK' if ratio >= TARGET else 'MISSED'}")
    return ratio


if __name__ == "__main__":
    main()

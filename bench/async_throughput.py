"""Our AsyncActivitySmith with 8 requests in flight vs the official SDK 1.14.0 sequentially, against the
SAME loopback simulator. Rounds are interleaved; the ratio is total requests/s of ours over the SDK's.
Target: >= 3.

Concurrency pays off when requests wait on the network, so the simulator adds `--latency-ms` to every
answer (default 2 ms: a fast round trip; a notebook talking to the real API sees 20-200 ms). With
`--latency-ms 0` both clients are bound by CPU on the same machine as the server, and the figure
shows only the clients' per-request cost.

    python bench/async_throughput.py [--rounds 5] [--requests 400] [--concurrency 8] [--latency-ms 2] [--in-process]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sim_server import KEY, simulator_url  # noqa: E402

TARGET = 3.0


def _sdk(url: str):
    import activitysmith

    client = activitysmith.ActivitySmith(api_key=KEY)
    client.notifications._api.api_client.configuration.host = url
    return client


def _state(i: int) -> dict:
    return {"title": "Training", "type": "progress", "percentage": (i % 100) + 0.5}


def sdk_round(client, n: int) -> float:
    stream = client.live_activities.stream
    start = time.perf_counter()
    for i in range(n):
        stream("bench-sdk", content_state=_state(i))
    return time.perf_counter() - start


async def ours_round(client, n: int, concurrency: int) -> float:
    """n stream updates spread over `concurrency` streams, `concurrency` requests in flight."""
    stream = client.live_activities.stream

    async def worker(w: int) -> None:
        for i in range(w, n, concurrency):
            await stream(f"bench-ours-{w}", content_state=_state(i))

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - start


async def amain(args: argparse.Namespace) -> float:
    from activitysmith_jupyter.api.client import AsyncActivitySmith

    with simulator_url(in_process=args.in_process, latency=args.latency_ms / 1000) as url:
        sdk = _sdk(url)
        async with AsyncActivitySmith(KEY, base_url=url) as ours:
            await ours_round(ours, 4 * args.concurrency, args.concurrency)  # open the connections
            sdk_round(sdk, 20)
            ours_t, sdk_t = [], []
            for r in range(args.rounds):
                ours_t.append(await ours_round(ours, args.requests, args.concurrency))
                sdk_t.append(sdk_round(sdk, args.requests))
                print(f"round {r + 1}: ours ({args.concurrency} in flight) {args.requests / ours_t[-1]:8.0f} req/s   "
                      f"sdk (sequential) {args.requests / sdk_t[-1]:8.0f} req/s")
    n = args.requests * args.rounds
    ours_rate, sdk_rate = n / sum(ours_t), n / sum(sdk_t)
    median_ratio = statistics.median(s / o for o, s in zip(ours_t, sdk_t))
    ratio = ours_rate / sdk_rate
    print(f"ours {ours_rate:.0f} req/s, official SDK {sdk_rate:.0f} req/s (median round ratio {median_ratio:.2f}), "
          f"simulated latency {args.latency_ms:g} ms")
    print(f"async_throughput ratio ours/sdk = {ratio:.2f} (target >= {TARGET}) {'OK' if ratio >= TARGET else 'MISSED'}")
    return ratio


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="requests per client per round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=2.0, help="simulated API round trip per request")
    parser.add_argument("--in-process", action="store_true", help="serve the simulator from this process")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

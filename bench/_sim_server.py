"""A rate-limit-free simulator served on 127.0.0.1 for the benches.

By default it runs in a child process, so the clients being measured do not share a GIL with the
server; `in_process=True` serves it from a thread of this process instead.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

KEY = "bench-key"

_CHILD = """
import sys
sys.path.insert(0, sys.argv[2])  # this directory
from _sim_server import unlimited
server = unlimited(float(sys.argv[1])).serve()
print(server.url, flush=True)
sys.stdin.read()  # EOF (the parent closed our stdin) stops the server
server.close()
"""


def unlimited(latency: float = 0.0):
    """Simulator(rate_limit_per_minute=None, ...): no budget, no capacity limit to get in the way.

    `latency` (seconds) is added to every answer, like the round trip to a real API would be.
    """
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator(rate_limit_per_minute=None, metric_rate_limit_per_minute=None, max_active_activities=10_000)
    if latency > 0:
        sim.inject(delay=latency, times=None)
    return sim


@contextlib.contextmanager
def simulator_url(*, in_process: bool = False, latency: float = 0.0) -> Iterator[str]:
    if in_process:
        with unlimited(latency).serve() as server:
            yield server.url
        return
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(latency), here],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"simulator server did not start (got {url!r})")
        yield url
    finally:
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

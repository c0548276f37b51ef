"""Wall time %%activitysmith_progress adds to a cell, in a real InteractiveShell.

An empty cell (``pass``) with and without the magic, interleaved in the same run so both see the
same machine state; the magic's requests go to a private simulator through the dispatcher's
background thread, as in a notebook. The last line is the figure (target: <= 5 ms per cell).

    python bench/magic_overhead.py [--cells 300]
"""
from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=300, help="cells of each kind (default 300)")
    args = parser.parse_args()

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.simulator import Simulator

    # No rate limits anywhere: the bench measures the cell, not the account budget.
    sim = Simulator(rate_limit_per_minute=None, max_active_activities=10_000)
    client = ActivitySmith(transport=sim.transport())
    dispatcher = Dispatcher(client, requests_per_minute=1_000_000, reserve=0)
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=cfg)
    shell.user_ns["bench_dispatcher"] = dispatcher
    shell.run_line_magic("load_ext", "activitysmith_jupyter")
    shell.run_line_magic("config", "ActivitySmithMagics.client = 'bench_dispatcher'")

    plain = "pass"
    magic = "%%activitysmith_progress -k bench\npass"
    for _ in range(20):  # warm up imports, caches, the dispatcher thread
        shell.run_cell(plain)
        shell.run_cell(magic)
    dispatcher.flush(timeout=30)

    with_magic: list[float] = []
    without: list[float] = []
    for _ in range(args.cells):
        for code, bucket in ((plain, without), (magic, with_magic)):
            t0 = time.perf_counter()
            result = shell.run_cell(code)
            bucket.append(time.perf_counter() - t0)
            if not result.success:
                raise SystemExit(f"cell failed: {result.error_in_exec or result.error_before_exec!r}")
    drained = dispatcher.flush(timeout=60)
    stats = dispatcher.stats

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(f"cells per kind: {args.cells}")
    print(f"without magic: median {ms(without):.3f} ms")
    print(f"with magic:    median {ms(with_magic):.3f} ms")
    print(f"requests sent in the background: {stats.sent} (failed {stats.failed}, drained={drained})")
    added = ms(with_magic) - ms(without)
    print(f"added wall time per cell: {added:.2f} ms (median, target <= 5 ms)")


if __name__ == "__main__":
    main()

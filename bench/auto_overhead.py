"""Wall time auto mode adds to a short cell, in a real InteractiveShell.

A short cell (``pass``, far under the threshold, so nothing is sent) with auto mode off and on,
interleaved in the same run so both see the same machine state. Auto mode is switched between the
timed cells, so every "on" cell opens a new run (the costlier path: it notes the open tqdm bars and
wakes the timer thread). tqdm is imported, as in most notebooks. The last line is the figure
(target: <= 0.5 ms per cell).

    python bench/auto_overhead.py [--cells 1000]
"""
from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000, help="cells of each kind (default 1000)")
    args = parser.parse_args()

    import tqdm  # noqa: F401 - a notebook usually has it: auto mode then looks at its open bars
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.simulator import Simulator

    sim = Simulator(rate_limit_per_minute=None, max_active_activities=10_000)
    dispatcher = Dispatcher(ActivitySmith(transport=sim.transport()), requests_per_minute=1_000_000, reserve=0)
    cfg = Config()
    cfg.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=cfg)
    shell.user_ns["bench_dispatcher"] = dispatcher
    shell.run_line_magic("load_ext", "activitysmith_jupyter")
    shell.run_line_magic("config", "ActivitySmithMagics.client = 'bench_dispatcher'")
    auto = shell.magics_manager.registry["ActivitySmithMagics"].auto_mode

    cell = "pass"
    for _ in range(50):  # warm up imports, caches, the timer thread
        auto.enable(30.0)
        shell.run_cell(cell, store_history=True)
        auto.disable()
        shell.run_cell(cell, store_history=True)

    on: list[float] = []
    off: list[float] = []
    for _ in range(args.cells):
        for enabled, bucket in ((False, off), (True, on)):
            auto.enable(30.0) if enabled else auto.disable()
            t0 = time.perf_counter()
            result = shell.run_cell(cell, store_history=True)
            bucket.append(time.perf_counter() - t0)
            if not result.success:
                raise SystemExit(f"cell failed: {result.error_in_exec or result.error_before_exec!r}")
    auto.disable()
    dispatcher.flush(timeout=30)

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    print(f"cells per kind: {args.cells}")
    print(f"auto mode off: median {ms(off):.3f} ms")
    print(f"auto mode on:  median {ms(on):.3f} ms")
    print(f"requests sent: {dispatcher.stats.sent} (a short cell sends none)")
    print(f"added wall time per cell: {ms(on) - ms(off):.3f} ms (median, target <= 0.5 ms)")


if __name__ == "__main__":
    main()

"""The bench/ scripts still run against today's code (tiny sizes: behaviour, not timing; the figures are
what the scripts print at their default sizes). A bench that no longer runs hides a regression."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

# script, tiny arguments, words its figure's line always holds
SMALL = [
    ("magic_overhead.py", ["--cells", "10", "--rounds", "1"], "added wall time per cell"),
    ("auto_overhead.py", ["--cells", "20"], "added wall time per cell"),
    ("client_throughput.py", ["--rounds", "1", "--requests", "10"], "client_throughput ratio"),
    ("async_throughput.py", ["--rounds", "1", "--requests", "16", "--latency-ms", "1"], "async_throughput ratio"),
    ("import_time.py", ["--runs", "2"], "import_time ratio"),
    ("tqdm_overhead.py", ["--iterations", "20000", "--repeats", "1"], "final 100 % state delivered: True"),
]


@pytest.mark.parametrize(("script", "args", "last"), SMALL, ids=[s for s, _, _ in SMALL])
def test_a_bench_runs_and_prints_its_figure(script: str, args: list[str], last: str) -> None:
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    assert last in proc.stdout, proc.stdout[-2000:]

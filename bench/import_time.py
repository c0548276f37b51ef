"""Import time of what a user imports, in fresh interpreters: ours vs the official SDK 1.14.0.

    ours:  import activitysmith_jupyter; activitysmith_jupyter.ActivitySmith   (the package + the client)
    sdk:   import activitysmith;         activitysmith.ActivitySmith

Median of N runs each (interleaved). Also checks that importing the package and its client pulls in
neither IPython, ipywidgets nor tqdm. Target: ratio ours/sdk <= 0.4.

    python bench/import_time.py [--runs 15]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

TARGET = 0.4
HEAVY = ("IPython", "ipywidgets", "tqdm")

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""

STATEMENTS = {
    "package": "import activitysmith_jupyter",
    "ours": "import activitysmith_jupyter; activitysmith_jupyter.ActivitySmith",
    "sdk": "import activitysmith; activitysmith.ActivitySmith",
}


def measure(stmt: str) -> dict:
    code = _PROBE.format(stmt=stmt, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-X", "frozen_modules=on", "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    for stmt in STATEMENTS.values():  # warm the OS file cache and .pyc files
        measure(stmt)
    times: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(args.runs):
        for name, stmt in STATEMENTS.items():
            result = measure(stmt)
            if name != "sdk":
                assert not result["heavy"], f"{stmt!r} imported {result['heavy']}"
            times[name].append(result["seconds"])
    med = {name: statistics.median(values) for name, values in times.items()}
    for name, stmt in STATEMENTS.items():
        print(f"{name:8s} median {med[name] * 1000:7.1f} ms   ({stmt})")
    print(f"IPython/ipywidgets/tqdm not imported by: {STATEMENTS['package']!r}, {STATEMENTS['ours']!r}")
    ratio = med["ours"] / med["sdk"]
    print(f"import_time ratio ours/sdk = {ratio:.2f} (package alone {med['package'] / med['sdk']:.3f}) "
          f"(target <= {TARGET}) {'OK' if ratio <= TARGET else 'MISSED'}")
    return ratio


if __name__ == "__main__":
    main()

"""Import + construct time in fresh interpreters: ours vs the official SDK 1.14.0, with and without httpx's
command-line extras (rich, click, pygments: httpx imports them whenever they are installed).

    ours:  import activitysmith_jupyter; activitysmith_jupyter.ActivitySmith()     (the embedded simulator)
    sdk:   import activitysmith; activitysmith.ActivitySmith(api_key=...)

Two cases, side by side: "CLI extras" as installed here, and "no CLI extras" where rich, click and pygments
cannot be imported (as where they are not installed). Every statement of both cases runs interleaved, one
fresh interpreter each, median of N. Also checks that importing the package and making a client pulls in
neither IPython, ipywidgets, tqdm, httpx nor rich. Target: ratio ours/sdk <= 0.4 in both cases. The
"first push" row (ours, plus one push to the embedded simulator: httpx is imported then) is for information.

    python bench/import_time.py [--runs 15]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

TARGET = 0.4
HEAVY = ("IPython", "ipywidgets", "tqdm", "httpx", "rich")
CLI_EXTRAS = ("rich", "click", "pygments")
CASES = {
    "CLI extras": "",
    "no CLI extras": f"sys.modules.update(dict.fromkeys({CLI_EXTRAS!r}))  # None: cannot be imported",
}

_PROBE = """
import json, sys, time
{prelude}
t0 = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "heavy": [m for m in {heavy!r} if sys.modules.get(m) is not None]}}))
"""

STATEMENTS = {
    "package": "import activitysmith_jupyter",
    "ours": "import activitysmith_jupyter; activitysmith_jupyter.ActivitySmith()",
    "sdk": "import activitysmith; activitysmith.ActivitySmith(api_key='sk_bench_not_a_real_key')",
    "first push": "import activitysmith_jupyter; activitysmith_jupyter.ActivitySmith().notifications.send("
                  "{'title': 'bench'})",
}
LIGHT = ("package", "ours")  # must import none of HEAVY


def measure(stmt: str, prelude: str) -> dict:
    code = _PROBE.format(stmt=stmt, prelude=prelude, heavy=HEAVY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}  # ours: the simulator
    out = subprocess.run([sys.executable, "-X", "frozen_modules=on", "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    for prelude in CASES.values():  # warm the OS file cache and .pyc files
        for stmt in STATEMENTS.values():
            measure(stmt, prelude)
    times: dict[tuple[str, str], list[float]] = {(c, s): [] for c in CASES for s in STATEMENTS}
    for _ in range(args.runs):
        for case, prelude in CASES.items():
            for name, stmt in STATEMENTS.items():
                result = measure(stmt, prelude)
                if name in LIGHT:
                    assert not result["heavy"], f"{stmt!r} imported {result['heavy']} ({case})"
                times[case, name].append(result["seconds"])
    med = {key: statistics.median(values) for key, values in times.items()}
    print(f"median of {args.runs} fresh interpreters each, interleaved")
    print(f"{'':12s}" + "".join(f"{case:>16s}" for case in CASES))
    for name, stmt in STATEMENTS.items():
        print(f"{name:12s}" + "".join(f"{med[case, name] * 1000:13.1f} ms" for case in CASES) + f"   ({stmt})")
    print(f"not imported by {STATEMENTS['ours']!r}: {', '.join(HEAVY)}")
    ratios = {case: med[case, "ours"] / med[case, "sdk"] for case in CASES}
    for case, ratio in ratios.items():
        print(f"import_time ratio ours/sdk ({case}) = {ratio:.2f} (package alone "
              f"{med[case, 'package'] / med[case, 'sdk']:.3f}) (target <= {TARGET}) "
              f"{'OK' if ratio <= TARGET else 'MISSED'}")
    return ratios


if __name__ == "__main__":
    main()

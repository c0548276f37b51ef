"""`python -m activitysmith_jupyter quickstart | simulator …`."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m activitysmith_jupyter")
    commands = parser.add_subparsers(dest="command", required=True)
    quick = commands.add_parser("quickstart", help="run the quick-start notebook against the embedded simulator")
    quick.add_argument("notebook", nargs="?", help="a notebook to run instead of notebooks/01-quickstart.ipynb")
    commands.add_parser("simulator", help="serve the simulator on 127.0.0.1 (see --help of that command)", add_help=False)
    args, rest = parser.parse_known_args(argv)

    if args.command == "simulator":
        from .simulator.__main__ import main as simulator_main

        return simulator_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    from pathlib import Path

    from .quickstart import run_quickstart

    return run_quickstart(Path(args.notebook) if args.notebook else None)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m activitysmith_jupyter.simulator` / `activitysmith-simulator`: serve the simulator over HTTP."""
from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence

from .state import Simulator

__all__ = ["main"]


def _parser(prog: str = "activitysmith-simulator") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog,
                                description="Run the embedded ActivitySmith API simulator on a local port.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (0 picks a free one; default 8765)")
    p.add_argument("--api-key", default=None,
                   help="accept only this Bearer key (default: any non-empty key)")
    p.add_argument("--no-rate-limit", action="store_true", help="turn the 60 requests/minute limit off")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return p


def main(argv: Sequence[str] | None = None, *, prog: str = "activitysmith-simulator") -> int:
    args = _parser(prog).parse_args(argv)
    if args.api_key == "":
        _parser(prog).error("--api-key must not be empty")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    sim = Simulator(api_key=args.api_key, rate_limit_per_minute=None if args.no_rate_limit else 60)
    try:
        server = sim.serve(args.host, args.port)
    except OSError as exc:
        print(f"{prog}: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"ActivitySmith simulator listening on {server.url}", flush=True)
    print(f"  base URL: {server.url}   page: {server.url}/   state: {server.url}/_sim/state", flush=True)
    print("  Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        server.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

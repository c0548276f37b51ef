"""The command line: ``activitysmith run|setup|doctor|simulator|quickstart`` (also ``python -m activitysmith_jupyter``).

``--help`` names the program the way it was called: ``activitysmith``, ``python -m activitysmith_jupyter``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from . import doctor, setup

__all__ = ["main", "program_name"]

NOTIFY_CHOICES = ("always", "failure", "never")


def program_name(argv0: str | None = None) -> str:
    """``activitysmith`` for the console script, ``python -m activitysmith_jupyter`` for ``-m``."""
    arg = argv0 if argv0 is not None else (sys.argv[0] if sys.argv else "")
    base = os.path.basename(arg)
    if base in ("__main__.py", "cli.py", "-m", "-c", ""):
        return "python -m activitysmith_jupyter"
    return base


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Long work on your iPhone as ActivitySmith Live Activities.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run a command as a Live Activity (elapsed time or its tqdm bar, then its exit status)",
        description="Run CMD as one Live Activity: elapsed time (or a Python child's tqdm bar) while it "
                    "runs, then its exit status, with the last line of its stderr (never a progress bar) in a failure push. "
                    "Exits with CMD's own status. The API key comes from ACTIVITYSMITH_API_KEY (none: "
                    "the embedded simulator).",
        usage=f"{prog} run [-t TITLE] [-k KEY] [--notify {{{','.join(NOTIFY_CHOICES)}}}] [-c CHANNELS] -- CMD [ARGS ...]")
    run.add_argument("-t", "--title", help="the activity's title (default: the command line)")
    run.add_argument("-k", "--key", help="stream key, letters, digits, '_' and '-' (default: from the title)")
    run.add_argument("--notify", choices=NOTIFY_CHOICES, default="always",
                     help="when to send the closing push (default: always)")
    run.add_argument("-c", "--channels", help="comma-separated channel slugs (default: $ACTIVITYSMITH_CHANNELS)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD", help="the command and its arguments, after --")
    setup.add_parser(commands)
    doctor.add_parser(commands)
    quick = commands.add_parser("quickstart", help="run the quick-start notebook against the embedded simulator")
    quick.add_argument("notebook", nargs="?", help="a notebook to run instead of notebooks/01-quickstart.ipynb")
    commands.add_parser("simulator", help="serve the simulator on 127.0.0.1 (see `simulator --help`)",
                        add_help=False)
    return parser


def _channels(text: str | None) -> tuple[str, ...]:
    raw = text if text is not None else os.environ.get("ACTIVITYSMITH_CHANNELS", "")
    return tuple(c.strip() for c in raw.split(",") if c.strip())


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    prog = prog or program_name()
    parser = _parser(prog)
    args, rest = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "simulator":
        from ..simulator.__main__ import main as simulator_main

        return simulator_main(rest, prog=f"{prog} simulator")
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if hasattr(args, "handler"):  # setup, doctor
        return int(args.handler(args))
    if args.command == "quickstart":
        from pathlib import Path

        from .quickstart import run_quickstart

        return run_quickstart(Path(args.notebook) if args.notebook else None)
    return _run(parser, args)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        parser.error("run: give the command after --, e.g. `run -- python train.py`")
    from ..errors import PayloadError
    from .run import CommandOptions, prepare, run_command

    options = CommandOptions(command=tuple(command), title=args.title, key=args.key, notify=args.notify,
                         channels=_channels(args.channels))
    try:
        activity = prepare(options)
    except (PayloadError, ValueError, TypeError) as exc:  # a bad key, title, channel: nothing was sent
        print(f"{parser.prog} run: {exc}", file=sys.stderr)
        return 2
    status = run_command(options, activity=activity)
    if status < 0:  # the child was killed by a signal (our closing sends are flushed): end the same way
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
        return 128 - status  # a signal whose default is not to terminate
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

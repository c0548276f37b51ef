"""``activitysmith setup``: check the key with one push, store it, enable the extension everywhere.

``activitysmith setup`` asks for the key with hidden input (or reads one line from standard input when
that is not a terminal: ``echo "$KEY" | activitysmith setup``), sends one push "ActivitySmith is set up
on <host>" through our client (``ACTIVITYSMITH_BASE_URL`` honoured) and only then stores the key
(``api/key_store.py``) and writes the IPython startup file (``ipython_startup.py``). A refused key (401)
stores nothing. ``setup --undo`` removes what setup added and nothing else: it keeps a record of every
file and folder it created (``setup.json`` next to the key, no secret in it).
"""
from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["DEFAULT_THRESHOLD", "RECORD_FILE", "add_parser", "load_record", "read_key", "run_setup", "run_undo"]

DEFAULT_THRESHOLD = 60.0
RECORD_FILE = "setup.json"


def add_parser(commands: Any) -> None:
    """The ``setup`` subcommand of the ``activitysmith`` console script."""
    setup = commands.add_parser(
        "setup", help="check and store your API key; watch every IPython kernel (auto mode)",
        description="Asks for your ActivitySmith API key (hidden; or one line on standard input: "
                    "`echo \"$KEY\" | activitysmith setup`), checks it by sending one push, stores it in the "
                    "OS keyring or a file only you can read, and loads the extension in every IPython "
                    "kernel of yours with auto mode on. `--undo` removes all of that.")
    setup.add_argument("--threshold", type=_seconds, default=DEFAULT_THRESHOLD, metavar="SECONDS",
                       help=f"auto mode: runs of cells longer than this become Live Activities "
                            f"(default {DEFAULT_THRESHOLD:g})")
    setup.add_argument("--no-auto", action="store_true", help="load the extension but leave auto mode off")
    setup.add_argument("--undo", action="store_true", help="remove the stored key and the startup file")
    setup.set_defaults(handler=main)


def _seconds(text: str) -> float:
    """A threshold in seconds (no IPython import here: setup works before Jupyter is installed)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 60)") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must be a finite number >= 0")
    return seconds


def main(args: argparse.Namespace) -> int:
    if args.undo:
        return run_undo()
    try:
        key = read_key(sys.stdin)
    except (KeyboardInterrupt, EOFError):
        print("\nactivitysmith setup: cancelled; nothing was stored.", file=sys.stderr)
        return 130
    if not key:
        print("activitysmith setup: no key given; nothing was stored. Copy it from the ActivitySmith app.",
              file=sys.stderr)
        return 2
    return run_setup(key, after=None if args.no_auto else args.threshold)


def read_key(stdin: TextIO) -> str:
    """Hidden input on a terminal, else the first line of standard input."""
    if stdin.isatty():
        return getpass.getpass("ActivitySmith API key (input hidden): ").strip()
    return stdin.readline().strip()


def run_setup(key: str, *, after: float | None, out: TextIO | None = None) -> int:
    """Check `key` with one push, then store it and write the startup file; the exit status."""
    from ..api.key_store import config_dir, make_dirs, store_key
    from .ipython_startup import startup_file, startup_text

    checked = _check_key(key)
    if isinstance(checked, int):
        return checked
    path = startup_file()
    try:
        where, created = store_key(key)
        created += make_dirs(path.parent, mode=0o777)
        if not path.exists():
            created.append(path)
        path.write_text(startup_text(after), encoding="utf-8")
        _save_record(config_dir(), created, path, after)
    except OSError as exc:  # a read-only home, a full disk
        return _fail(1, f"cannot write {exc.filename or 'the configuration'}: {exc.strerror}")
    lines = [checked, f"Stored the key in {where}.",
             f"Every IPython kernel of yours loads the extension ({path})."]
    lines.append("Auto mode stays off (--no-auto): %activitysmith auto on turns it on in a notebook."
                 if after is None else f"Auto mode is on: runs of cells longer than {after:g} s show on your iPhone.")
    if os.environ.get("ACTIVITYSMITH_API_KEY"):
        lines.append("Note: ACTIVITYSMITH_API_KEY is set here, and it wins over the stored key.")
    lines.append("Check it all with `activitysmith doctor`; undo with `activitysmith setup --undo`.")
    print("\n".join(lines), file=out or sys.stdout)
    return 0


def _check_key(key: str) -> str | int:
    """Send the one test push: the line to print when the key authenticated, else the exit status."""
    from ..api.client import ActivitySmith
    from ..errors import APIConnectionError, APIError, AuthenticationError

    host = socket.gethostname() or "this computer"
    title = f"ActivitySmith is set up on {host}"
    try:
        with ActivitySmith(key) as client:
            url = client.base_url
            response = client.notifications.send(title=title, message="Long runs on this computer will show here.")
    except ValueError as exc:  # a pasted key with quotes or control characters (the message never holds it)
        return _fail(2, f"{exc}; nothing was stored.")
    except AuthenticationError:
        return _fail(1, "the API refused this key (401); nothing was stored.")
    except APIError as exc:
        if exc.status >= 500:  # says nothing about the key
            return _fail(1, f"the API failed ({exc}); nothing was stored. Try again in a minute.")
        return f"The key works with {url}, but the test push was refused: {exc}."  # it authenticated
    except APIConnectionError as exc:
        return _fail(1, f"cannot reach the API ({exc}); nothing was stored. `activitysmith doctor` shows "
                        "the network and proxy settings.")
    devices = getattr(response, "devices_notified", None)
    to = f" (received by {devices} device{'' if devices == 1 else 's'})" if isinstance(devices, int) else ""
    return f"Checked the key with {url}: sent the push \"{title}\"{to}."


def _fail(status: int, text: str) -> int:
    print(f"activitysmith setup: {text}", file=sys.stderr)
    return status


def _record_path() -> Path:
    from ..api.key_store import config_dir

    return config_dir() / RECORD_FILE


def load_record() -> dict[str, Any]:
    """setup.json as a dict ({} when setup never ran)."""
    try:
        data = json.loads(_record_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_record(folder: Path, created: list[Path], startup: Path, after: float | None) -> None:
    """What setup did, for --undo and doctor: created paths (a second run keeps the first run's)."""
    record = load_record()
    known = [str(p) for p in record.get("created", [])]
    record_file = folder / RECORD_FILE
    new = [str(p) for p in created + ([] if record_file.exists() else [record_file])]
    record.update(created=known + [p for p in new if p not in known], startup_file=str(startup), auto_after=after)
    record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def run_undo(out: TextIO | None = None) -> int:
    """Remove the stored key, the startup file, the record and the folders setup created (when empty)."""
    from ..api.key_store import delete_stored_key
    from .ipython_startup import remove_startup_file, startup_file

    out = out or sys.stdout
    record = load_record()
    removed = delete_stored_key()
    startup = Path(record.get("startup_file") or startup_file())
    if remove_startup_file(startup):
        removed.append(f"the startup file {startup}")
    with contextlib.suppress(FileNotFoundError):
        _record_path().unlink()
    for name in reversed(record.get("created", [])):
        path = Path(name)
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):  # not empty: something else lives there now, keep it
                path.rmdir()
    if not removed:
        print("activitysmith setup --undo: nothing to remove (setup has not run for this user).", file=out)
        return 0
    print("Removed " + "; ".join(removed) + ".", file=out)
    return 0

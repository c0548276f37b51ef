"""`python -m activitysmith_jupyter run|quickstart|simulator …` (the same as the `activitysmith` command)."""
from __future__ import annotations

import sys

from .command.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m activitysmith_jupyter"))

"""``python -m activitysmith_jupyter.watchdog``: the watchdog process (see ``main.py``)."""
from __future__ import annotations

import sys

# httpx imports its command-line client (click, rich, pygments) when those are installed; this process
# never runs it, and skipping it keeps the watchdog inside its memory budget (~24 MB once it sends,
# not ~29). httpx falls back to a stub `main` when the import fails, so nothing else changes.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"

from .main import main  # noqa: E402

sys.exit(main())

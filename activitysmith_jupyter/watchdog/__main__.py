"""``python -m activitysmith_jupyter.watchdog``: the watchdog process (see ``main.py``)."""
from __future__ import annotations

import sys

from .main import main

sys.exit(main())

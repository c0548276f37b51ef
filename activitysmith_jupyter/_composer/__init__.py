"""Building blocks of `activitysmith_jupyter.widgets.Composer` (private).

`parse` and `codegen` are pure (no ipywidgets); `forms` builds the field widgets and maps them to and
from request dicts; `layout` arranges them. The Composer in `widgets.py` only wires them together.
"""

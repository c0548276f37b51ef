"""Building blocks of `activitysmith_jupyter.widgets.Composer` (private).

`parse` and `codegen` are pure (no ipywidgets); `forms` builds and lays out the field widgets and maps
them to and from request dicts. The Composer in `widgets.py` only wires them together.
"""

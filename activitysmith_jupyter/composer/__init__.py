"""Building blocks of `activitysmith_jupyter.composer.widget.Composer` (private).

`parse`, `codegen` and `render` are pure (no ipywidgets): typed text <-> values, the Python snippet,
the HTML snippets. `fields` holds the field specs and the loops that build, read and load them; `rows`
the repeated sub-objects (actions, metrics); `forms` the two forms as tables of specs. The Composer in
`widgets.py` only wires them together.
"""

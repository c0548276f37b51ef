"""``papermill --engine activitysmith in.ipynb out.ipynb``: the whole notebook as one Live Activity.

A papermill engine (registered through papermill's ``papermill.engine`` entry point) that runs the
notebook exactly as papermill's default nbclient engine does, and hooks the notebook wrapper's
``cell_start`` / ``cell_exception``: one ``segmented_progress`` activity titled with the notebook's
name, step k of n code cells ("Cell 3 of 7 · df = load()"), ending with the failing cell's number and
error ("cell 3: ZeroDivisionError: division by zero"), or success and the duration. Ctrl-C ends it as
interrupted and SIGTERM as terminated (the hub's lifecycle).
"""
from __future__ import annotations

import logging
import os
from typing import Any

from papermill.engines import NBClientEngine  # type: ignore[import-untyped]

from ..hub.wording import MAX_TITLE, truncate

__all__ = ["ActivitySmithEngine", "NotebookRun", "notebook_title"]

log = logging.getLogger("activitysmith_jupyter")



def notebook_title(input_path: Any) -> str:
    """``analysis`` for ``reports/analysis.ipynb`` (the notebook's name, as papermill got it)."""
    name = os.path.basename(str(input_path or "").rstrip("/")) or "notebook"
    return name[: -len(".ipynb")] if name.endswith(".ipynb") and len(name) > len(".ipynb") else name


def _first_line(source: Any) -> str:
    text = "".join(source) if isinstance(source, list) else str(source or "")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return truncate(line.strip(), MAX_TITLE)
    return ""


class NotebookRun:
    """The activity of one papermill run, driven by the notebook wrapper's cell callbacks."""

    def __init__(self, nb_man: Any, *, title: str, **options: Any) -> None:
        from ..hub.activity import Activity

        self.nb_man = nb_man
        self.code_cells = [i for i, c in enumerate(nb_man.nb.cells) if c.get("cell_type") == "code"]
        self.activity = Activity(title, type="segmented_progress", steps=max(1, len(self.code_cells)),
                                 **options)
        self.failure: str | None = None

    def start(self) -> NotebookRun:
        self.activity.start()
        self._hook("cell_start", self._on_cell_start)
        self._hook("cell_exception", self._on_cell_exception)
        return self

    def _hook(self, name: str, before: Any) -> None:
        original = getattr(self.nb_man, name)

        def hooked(cell: Any, cell_index: Any = None, **kwargs: Any) -> Any:
            try:
                before(cell, cell_index, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the notebook runs on whatever we do
                log.warning("papermill %s hook failed: %s", name, exc)
            return original(cell, cell_index, **kwargs)

        setattr(self.nb_man, name, hooked)

    def _number(self, cell_index: Any) -> int | None:
        try:
            return self.code_cells.index(cell_index) + 1
        except ValueError:
            return None

    def _on_cell_start(self, cell: Any, cell_index: Any, **_: Any) -> None:
        k = self._number(cell_index)
        if k is None:
            return  # markdown and raw cells are not steps
        line = _first_line(cell.get("source"))
        label = f"Cell {k} of {len(self.code_cells)}" + (f" · {line}" if line else "")
        self.activity.step(label, current=k)

    def _on_cell_exception(self, cell: Any, cell_index: Any, exception: Any = None, **_: Any) -> None:
        k = self._number(cell_index)
        where = f"cell {k}" if k is not None else f"cell [{cell_index}]"
        ename = getattr(exception, "ename", None) or (type(exception).__name__ if exception else "error")
        evalue = getattr(exception, "evalue", None)
        self.failure = f"{where}: {ename}: {evalue}" if evalue else f"{where}: {ename}"

    def end(self, exc: BaseException | None) -> None:
        from ..hub.outcome import outcome_for

        if exc is None and self.failure is not None:
            self.activity.end("failed", error=self.failure)
        else:
            self.activity.end(outcome_for(exc), error=exc)


class ActivitySmithEngine(NBClientEngine):  # type: ignore[misc]  # papermill has no type hints
    """papermill's nbclient engine, with the run mirrored to one Live Activity."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
        run = NotebookRun(nb_man, title=notebook_title(kwargs.get("input_path"))).start()
        try:
            result = super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        except BaseException as exc:
            run.end(exc)
            raise
        run.end(None)
        return result

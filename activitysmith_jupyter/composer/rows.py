"""Repeated sub-objects of a request: action buttons, metrics, and the add/remove list that holds them."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]

from .. import payloads
from .fields import (
    Callback,
    Field,
    FieldSet,
    ParseError,
    choice_field,
    color_field,
    json_field,
    scalar_field,
    text_field,
)

__all__ = ["ActionRow", "MetricRow", "RowsEditor", "action_row"]

_BOX = {"border": "1px solid #ddd", "padding": "4px", "margin": "2px 0"}


def _remove_button(css: str) -> widgets.Button:
    button = widgets.Button(description="remove", icon="trash", layout=widgets.Layout(width="auto"))
    button.add_class(css)
    return button


class _Row:
    """A FieldSet shown as one boxed row; its attributes are its widgets (``row.title``)."""

    fields: FieldSet
    _extra: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("fields")
        if fields is not None and name in fields.widgets:
            return fields.widgets[name]
        raise AttributeError(name)

    def value(self, path: str) -> tuple[dict[str, Any], list[ParseError]]:
        item: dict[str, Any] = dict(self._extra)
        errors: list[ParseError] = []
        self.fields.read(item, errors, path=path)
        return item, errors

    def load(self, item: Mapping[str, Any] | None) -> None:
        rest = dict(item or {})
        self.fields.load(rest)
        self._extra = rest


def _action_fields(label: str) -> tuple[Field, ...]:
    return (
        text_field("title", f"{label} title", always=True),
        choice_field("type", "type", payloads.ACTION_TYPES, blank=None),
        text_field("url", "url", "https://…", always=True),
        choice_field("method", "method", payloads.WEBHOOK_METHODS, blank="(default)"),
        json_field("body", "webhook body", '{"json": "object"}', error_name="error"),
    )


class ActionRow(_Row):
    """One action button: title, type (open_url / webhook), url, method, JSON body."""

    def __init__(self, prefix: str, on_change: Callback, *, label: str = "Action", removable: bool = False) -> None:
        self.fields = FieldSet(prefix, _action_fields(label), on_change)
        self._extra = {}
        self.remove = _remove_button(f"{prefix}-remove")
        rows = [w for spec in self.fields.specs for w in self.fields.row(spec.attr)]
        self.box = widgets.VBox(rows + ([self.remove] if removable else []), layout=widgets.Layout(**_BOX))

    def is_blank(self) -> bool:
        w = self.fields.widgets
        return not (w["title"].value or w["url"].value or w["body"].value.strip() or w["method"].value or self._extra)


class MetricRow(_Row):
    """One metric: label, value, unit, color."""

    def __init__(self, prefix: str, on_change: Callback, index: int) -> None:
        specs = (
            text_field("label", f"Metric {index + 1} label", always=True),
            scalar_field("value", "value", 'number, or "text"', strings=True, always=True, name="value_", css="value"),
            text_field("unit", "unit", "%"),
            color_field("color", "color"),
        )
        self.fields = FieldSet(prefix, specs, on_change)
        self._extra = {}
        self.remove = _remove_button(f"{prefix}-remove")
        self.box = widgets.VBox([*self.fields.widgets.values(), self.remove], layout=widgets.Layout(**_BOX))


class _RowLike(Protocol):
    box: widgets.VBox
    remove: widgets.Button

    def load(self, item: Mapping[str, Any] | None) -> None: ...

    def value(self, path: str) -> tuple[dict[str, Any], list[ParseError]]: ...


R = TypeVar("R", bound=_RowLike)


class RowsEditor(Generic[R]):
    """Up to ``limit`` rows, each one dict of a list field (actions, metrics), with add/remove buttons.

    ``make_row(prefix, on_change, index)`` builds a row; ``noun`` names the add button; ``path`` is the
    list's field path in problems (``f"{path}[i]"``).
    """

    def __init__(self, prefix: str, on_change: Callback, *, make_row: Callable[[str, Callback, int], R], noun: str,
                 path: str, limit: int) -> None:
        self._prefix, self._on_change, self._make_row, self._path, self.limit = prefix, on_change, make_row, path, limit
        self.rows: list[R] = []
        self.add = widgets.Button(description=f"add {noun}", icon="plus", layout=widgets.Layout(width="auto"))
        self.add.add_class(f"{prefix}-add")
        self.add.on_click(lambda _b: self.add_row())
        self.box = widgets.VBox([self.add])

    def add_row(self, item: Mapping[str, Any] | None = None, *, notify: bool = True, force: bool = False) -> R:
        if len(self.rows) >= self.limit and not force:  # a disabled button can still be clicked from Python
            return self.rows[-1]
        row = self._make_row(f"{self._prefix}-{len(self.rows)}", self._on_change, len(self.rows))
        row.load(item)
        row.remove.on_click(lambda _b, r=row: self.remove_row(r))
        self.rows.append(row)
        self._relayout()
        if notify:
            self._on_change()
        return row

    def remove_row(self, row: R) -> None:
        self.rows.remove(row)
        self._relayout()
        self._on_change()

    def _relayout(self) -> None:
        self.add.disabled = len(self.rows) >= self.limit
        self.box.children = [r.box for r in self.rows] + [self.add]

    def value(self) -> tuple[list[dict[str, Any]] | None, list[ParseError]]:
        """The list (None with no rows) and the rows' parse errors."""
        if not self.rows:
            return None, []
        items, errors = [], []
        for i, row in enumerate(self.rows):
            item, errs = row.value(f"{self._path}[{i}]")
            items.append(item)
            errors.extend(errs)
        return items, errors

    def load(self, items: Any) -> None:
        self.rows = []
        for item in items if isinstance(items, list) else []:
            self.add_row(item if isinstance(item, Mapping) else {}, notify=False, force=True)
        self._relayout()


def action_row(prefix: str, on_change: Callback, index: int) -> ActionRow:
    return ActionRow(prefix, on_change, label=f"Action {index + 1}", removable=True)

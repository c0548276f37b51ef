"""One spec per field, and the loops that build, read and load a set of them.

A `Field` says which request key it edits, which widget shows it, how typed text becomes a value
(`parse`) and a value becomes text (`format`), and which values are allowed (choices). A `FieldSet`
builds the widgets of its specs and turns them into a dict (`read`) and back (`load`). Values a widget
cannot show stay in the dict they came from, so a loaded payload is sent back unchanged. Nothing here
checks the API's rules (that is `payloads.validate`); only JSON text that cannot be parsed is reported.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

import ipywidgets as ipw  # type: ignore[import-untyped, unused-ignore]

from .. import payloads
from .parse import format_json_object, format_list, format_scalar, parse_json_object, parse_scalar, split_list
from .render import error_html, heading_html

__all__ = ["Callback", "Field", "FieldSet", "ParseError", "bool_field", "choice_field", "color_field", "heading",
           "json_field", "list_field", "scalar_field", "text_field", "watch"]

ParseError = tuple[str, str]  # (field path, message)
Callback = Callable[[], None]
Parsed = tuple[Any, "str | None"]  # (value or None to leave the field out, parse error)
Formatted = tuple[bool, Any]  # (the widget can show the value, widget value)

_DESC = {"description_width": "132px"}
_WIDE = "97%"


@dataclass(frozen=True, kw_only=True)
class Field:
    """One field: ``key`` in the dict, ``name`` of the widget attribute (default: the key)."""

    key: str
    label: str
    widget: Literal["text", "area", "choice"]
    parse: Callable[[Any], Parsed]
    format: Callable[[Any], Formatted]
    placeholder: str = ""
    choices: tuple[tuple[str, Any], ...] = ()  # (label, value) pairs of a choice; the first is the default
    always: bool = False  # sent even when blank (parse gives the blank value, never None)
    name: str = ""
    css: str = ""  # CSS class suffix (default: the name)
    error_name: str = ""  # for JSON fields: the attribute of the inline error label
    rows: int = 2

    @property
    def attr(self) -> str:
        return self.name or self.key


# -- codecs: typed text <-> values ----------------------------------------------------------------------

def _text_parse(always: bool) -> Callable[[Any], Parsed]:
    return lambda shown: (shown if (shown or always) else None, None)


def _text_format(always: bool) -> Callable[[Any], Formatted]:
    if always:
        return lambda value: (True, str(value or ""))
    return lambda value: (True, value) if isinstance(value, str) else (value is None, "")


def text_field(key: str, label: str, placeholder: str = "", *, area: bool = False, always: bool = False,
               **options: Any) -> Field:
    """Free text; blank means left out (``always``: sent as typed, even blank)."""
    return Field(key=key, label=label, widget="area" if area else "text", placeholder=placeholder, always=always,
                 parse=_text_parse(always), format=_text_format(always), **options)


def scalar_field(key: str, label: str, placeholder: str = "", *, strings: bool = False, **options: Any) -> Field:
    """A number, bool or text typed as text (see `parse_scalar`; ``strings``: "9" quoted stays a string)."""
    return Field(key=key, label=label, widget="text", placeholder=placeholder,
                 parse=lambda shown: (parse_scalar(shown, strings=strings), None),
                 format=lambda value: (True, format_scalar(value, strings=strings)), **options)


def list_field(key: str, label: str, placeholder: str = "comma separated", **options: Any) -> Field:
    """A list of strings typed comma separated."""
    return Field(key=key, label=label, widget="text", placeholder=placeholder,
                 parse=lambda shown: (split_list(shown) if shown.strip() else None, None),
                 format=lambda value: (True, format_list(value)) if isinstance(value, list) else (value is None, ""),
                 **options)


def choice_field(key: str, label: str, allowed: tuple[str, ...], *, blank: str | None = "(none)",
                 **options: Any) -> Field:
    """One of ``allowed``; with a ``blank`` label, a first option that leaves the field out."""
    choices = (((blank, ""),) if blank is not None else ()) + tuple((v, v) for v in allowed)

    def fmt(value: Any) -> Formatted:
        if value in allowed and isinstance(value, str):
            return True, value
        return value is None, choices[0][1]
    return Field(key=key, label=label, widget="choice", choices=choices, always=blank is None,
                 parse=lambda shown: (shown if shown or blank is None else None, None), format=fmt, **options)


def color_field(key: str, label: str, **options: Any) -> Field:
    return choice_field(key, label, payloads.COLORS, **options)


def bool_field(key: str, label: str, **options: Any) -> Field:
    """true / false / (default): left out."""
    return Field(key=key, label=label, widget="choice",
                 choices=(("(default)", None), ("true", True), ("false", False)),
                 parse=lambda shown: (shown, None),
                 format=lambda value: (True, value) if isinstance(value, bool) else (value is None, None), **options)


def _json_parse(shown: Any) -> Parsed:
    return parse_json_object(shown)


def json_field(key: str, label: str, placeholder: str = "", *, rows: int = 2, **options: Any) -> Field:
    """A JSON object typed as text; text that is not one is an inline error and a parse error."""
    options.setdefault("error_name", f"{key}_error")
    return Field(key=key, label=label, widget="area", placeholder=placeholder, rows=rows, parse=_json_parse,
                 format=lambda value: (True, format_json_object(value)) if isinstance(value, Mapping)
                 else (value is None, ""), **options)


# -- widgets -------------------------------------------------------------------------------------------

def _make(spec: Field, prefix: str) -> ipw.ValueWidget:
    layout = ipw.Layout(width=_WIDE)
    w: ipw.ValueWidget
    if spec.widget == "text":
        w = ipw.Text(description=spec.label, placeholder=spec.placeholder, style=_DESC, layout=layout)
    elif spec.widget == "area":
        w = ipw.Textarea(description=spec.label, placeholder=spec.placeholder, rows=spec.rows, style=_DESC,
                             layout=layout)
    else:
        w = ipw.Dropdown(description=spec.label, options=list(spec.choices), value=spec.choices[0][1],
                             style=_DESC, layout=layout)
    w.add_class(f"{prefix}-{spec.css or spec.attr}")
    return w


def heading(text: str) -> ipw.HTML:
    return ipw.HTML(heading_html(text), layout=ipw.Layout(margin="8px 0 2px 0"))


def watch(callback: Callback, *ws: ipw.Widget) -> None:
    for w in ws:
        w.observe(lambda _change: callback(), names="value")


@dataclass
class FieldSet:
    """The widgets of some specs (``widgets[attr]``, inline JSON errors in ``errors[attr]``)."""

    prefix: str
    specs: tuple[Field, ...]
    on_change: Callback
    widgets: dict[str, ipw.Widget] = field(default_factory=dict)
    errors: dict[str, ipw.HTML] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for spec in self.specs:
            w = self.widgets[spec.attr] = _make(spec, self.prefix)
            watch(self.on_change, w)
            if spec.error_name:
                label = self.errors[spec.attr] = ipw.HTML("")
                label.add_class(f"{self.prefix}-{spec.error_name.replace('_', '-')}")
                self.widgets[spec.error_name] = label

    def __getitem__(self, attr: str) -> Any:
        return self.widgets[attr]

    def row(self, attr: str) -> list[ipw.Widget]:
        """The widget of ``attr`` and its error label, if it has one."""
        return [self.widgets[attr], *([self.errors[attr]] if attr in self.errors else [])]

    def read(self, into: dict[str, Any], errors: list[ParseError], *, path: str = "",
             uses: Callable[[str], bool] = lambda _key: True) -> None:
        """Put each used field's value into ``into``; parse errors go to ``errors`` at ``path.key``."""
        for spec in self.specs:
            if not uses(spec.key):
                continue
            value, error = spec.parse(self.widgets[spec.attr].value)
            if spec.attr in self.errors:
                self.errors[spec.attr].value = error_html(error)
            if error:
                errors.append((f"{path}.{spec.key}" if path else spec.key, error))
            elif value is not None or spec.always:
                into[spec.key] = "" if value is None else value

    def load(self, source: MutableMapping[str, Any], *, uses: Callable[[str], bool] = lambda _key: True) -> None:
        """Show each used field of ``source`` and pop it; what a widget cannot show stays in ``source``."""
        for spec in self.specs:
            value = source.pop(spec.key, None) if uses(spec.key) else None
            shown, widget_value = spec.format(value)
            self.widgets[spec.attr].value = widget_value
            if value is not None and not shown:
                source[spec.key] = value

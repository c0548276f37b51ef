"""The Composer's input widgets and their mapping to and from request dicts.

Each form owns plain ipywidgets (state in their ``value`` traits), reports every value change to one
callback, turns its values into a request dict (`request()`), and fills itself from one (`load()`).
Nothing here checks the API's rules: typed text goes into the dict as typed (see `parse`), and
`payloads.validate` reports what is wrong. Only JSON text that cannot be parsed is reported here.
Fields a loaded payload has but no widget shows are kept and sent back unchanged (lossless load).
"""
from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

import ipywidgets as widgets

from .. import payloads
from .parse import (
    format_json_object,
    format_list,
    format_scalar,
    parse_json_object,
    parse_scalar,
    split_list,
)

__all__ = ["ActionRow", "LiveActivityForm", "MetricRow", "NotificationForm", "RowsEditor", "TYPE_FIELDS"]

ParseError = tuple[str, str]  # (field path, message)
Callback = Callable[[], None]

_DESC = {"description_width": "132px"}

# Which content-state fields each Live Activity type uses (what the form shows); from the API's
# feature matrix: icon on all types, badge and secondary_action on alert/progress/segmented/value.
_COMMON = ("title", "subtitle", "icon")
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "segmented_progress": (*_COMMON, "number_of_steps", "current_step", "color", "step_color", "step_colors",
                           "badge", "secondary_action"),
    "progress": (*_COMMON, "percentage", "value", "upper_limit", "color", "badge", "secondary_action"),
    "metrics": (*_COMMON, "metrics", "color"),
    "stats": (*_COMMON, "metrics"),
    "value": (*_COMMON, "value", "color", "badge", "secondary_action"),
    "alert": (*_COMMON, "message", "color", "badge", "secondary_action"),
    "timer": (*_COMMON, "duration_seconds", "counts_down", "is_running", "color"),
}


# ------------------------------------------------------------------------------------ factories
def _text(description: str, css: str, placeholder: str = "") -> widgets.Text:
    w = widgets.Text(description=description, placeholder=placeholder, style=_DESC, layout=widgets.Layout(width="97%"))
    w.add_class(css)
    return w


def _area(description: str, css: str, placeholder: str = "", rows: int = 2) -> widgets.Textarea:
    w = widgets.Textarea(description=description, placeholder=placeholder, rows=rows, style=_DESC,
                         layout=widgets.Layout(width="97%"))
    w.add_class(css)
    return w


def _choice(description: str, css: str, options: list[Any]) -> widgets.Dropdown:
    """A dropdown of values or (label, value) pairs, starting at the first one."""
    first = options[0][1] if isinstance(options[0], tuple) else options[0]
    w = widgets.Dropdown(description=description, options=options, value=first, style=_DESC,
                         layout=widgets.Layout(width="97%"))
    w.add_class(css)
    return w


def _colors(description: str, css: str) -> widgets.Dropdown:
    return _choice(description, css, [("(none)", ""), *[(c, c) for c in payloads.COLORS]])


def _bool(description: str, css: str) -> widgets.Dropdown:
    return _choice(description, css, [("(default)", None), ("true", True), ("false", False)])


def _error_label(css: str) -> widgets.HTML:
    w = widgets.HTML("")
    w.add_class(css)
    return w


def _show_error(label: widgets.HTML, message: str | None) -> None:
    label.value = f'<span style="color:#d32f2f">⚠ {html.escape(message)}</span>' if message else ""


def _heading(text: str) -> widgets.HTML:
    return widgets.HTML(f"<b>{text}</b>", layout=widgets.Layout(margin="8px 0 2px 0"))


def _watch(callback: Callback, *ws: widgets.Widget) -> None:
    for w in ws:
        w.observe(lambda _change: callback(), names="value")


def _read_object(fields: dict[str, Any], name: str, area: widgets.Textarea, error_label: widgets.HTML,
                 errors: list[ParseError], *, path: str | None = None) -> None:
    """Set `name` from the JSON object typed in `area` (blank: left out); text that is not one is shown in
    `error_label` and added to `errors` at `path` (default `name`)."""
    value, error = parse_json_object(area.value)
    _show_error(error_label, error)
    if error:
        errors.append((path or name, error))
    elif value is not None:
        fields[name] = value


def _load_object(fields: dict[str, Any], name: str, area: widgets.Textarea) -> None:
    """Pop the JSON object field `name` into `area`; any other value stays in `fields` (sent back unchanged)."""
    value = fields.pop(name, None)
    area.value = format_json_object(value) if isinstance(value, Mapping) else ""
    if value is not None and not isinstance(value, Mapping):
        fields[name] = value


# -------------------------------------------------------------------------------------- actions
class ActionRow:
    """One action button: title, type (open_url / webhook), url, method, JSON body."""

    def __init__(self, prefix: str, on_change: Callback, *, label: str = "Action", removable: bool = False) -> None:
        self.title = _text(f"{label} title", f"{prefix}-title")
        self.type = _choice("type", f"{prefix}-type", list(payloads.ACTION_TYPES))
        self.url = _text("url", f"{prefix}-url", "https://…")
        self.method = _choice("method", f"{prefix}-method", [("(default)", ""), *[(m, m) for m in payloads.WEBHOOK_METHODS]])
        self.body = _area("webhook body", f"{prefix}-body", '{"json": "object"}')
        self.error = _error_label(f"{prefix}-error")
        self.remove = widgets.Button(description="remove", icon="trash", layout=widgets.Layout(width="auto"))
        self.remove.add_class(f"{prefix}-remove")
        self._extra: dict[str, Any] = {}
        rows = [self.title, self.type, self.url, self.method, self.body, self.error]
        if removable:
            rows.append(self.remove)
        self.box = widgets.VBox(rows, layout=widgets.Layout(border="1px solid #ddd", padding="4px", margin="2px 0"))
        _watch(on_change, self.title, self.type, self.url, self.method, self.body)

    def is_blank(self) -> bool:
        return not (self.title.value or self.url.value or self.body.value.strip() or self.method.value or self._extra)

    def value(self, path: str) -> tuple[dict[str, Any], list[ParseError]]:
        action: dict[str, Any] = {**self._extra, "title": self.title.value, "type": self.type.value, "url": self.url.value}
        if self.method.value:
            action["method"] = self.method.value
        errors: list[ParseError] = []
        _read_object(action, "body", self.body, self.error, errors, path=f"{path}.body")
        return action, errors

    def load(self, action: Mapping[str, Any] | None) -> None:
        action = dict(action or {})
        self.title.value = str(action.pop("title", "") or "")
        kind = action.pop("type", None)
        if kind in self.type.options:
            self.type.value = kind
        elif kind is not None:
            action["type"] = kind
        self.url.value = str(action.pop("url", "") or "")
        method = action.pop("method", None)
        if method in payloads.WEBHOOK_METHODS:
            self.method.value = method
        else:
            self.method.value = ""
            if method is not None:
                action["method"] = method
        _load_object(action, "body", self.body)
        self._extra = action


# -------------------------------------------------------------------------------------- metrics
class MetricRow:
    """One metric: label, value, unit, color."""

    def __init__(self, prefix: str, on_change: Callback, index: int) -> None:
        self.label = _text(f"Metric {index + 1} label", f"{prefix}-label")
        self.value_ = _text("value", f"{prefix}-value", 'number, or "text"')
        self.unit = _text("unit", f"{prefix}-unit", "%")
        self.color = _colors("color", f"{prefix}-color")
        self.remove = widgets.Button(description="remove", icon="trash", layout=widgets.Layout(width="auto"))
        self._extra: dict[str, Any] = {}
        self.box = widgets.VBox([self.label, self.value_, self.unit, self.color, self.remove],
                                layout=widgets.Layout(border="1px solid #ddd", padding="4px", margin="2px 0"))
        _watch(on_change, self.label, self.value_, self.unit, self.color)

    def value(self, path: str) -> tuple[dict[str, Any], list[ParseError]]:
        metric: dict[str, Any] = {**self._extra, "label": self.label.value, "value": parse_scalar(self.value_.value, strings=True)}
        if metric["value"] is None:
            metric["value"] = ""
        if self.unit.value:
            metric["unit"] = self.unit.value
        if self.color.value:
            metric["color"] = self.color.value
        return metric, []  # values are sent as typed (see parse_scalar); validate() reports problems

    def load(self, metric: Mapping[str, Any] | None) -> None:
        metric = dict(metric or {})
        self.label.value = str(metric.pop("label", "") or "")
        self.value_.value = format_scalar(metric.pop("value", None), strings=True)
        self.unit.value = str(metric.pop("unit", "") or "")
        color = metric.pop("color", None)
        self.color.value = color if color in payloads.COLORS else ""
        if color is not None and color not in payloads.COLORS:
            metric["color"] = color
        self._extra = metric


# ----------------------------------------------------------------------------------- row lists
class _Row(Protocol):
    box: widgets.VBox
    remove: widgets.Button

    def load(self, item: Mapping[str, Any] | None) -> None: ...

    def value(self, path: str) -> tuple[dict[str, Any], list[ParseError]]: ...


R = TypeVar("R", bound=_Row)


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


def _action_row(prefix: str, on_change: Callback, index: int) -> ActionRow:
    return ActionRow(prefix, on_change, label=f"Action {index + 1}", removable=True)


# --------------------------------------------------------------------------- shared small fields
class _Common:
    """tags, channels and metadata (push and stream share them)."""

    def __init__(self, prefix: str, on_change: Callback, *, channels: bool = True) -> None:
        self.tags = _text("tags", f"{prefix}-tags", "comma separated")
        self.channels = _text("channels", f"{prefix}-channels", "comma separated channel slugs")
        self.metadata = _area("metadata", f"{prefix}-metadata", '{"run": "nightly"}  (history only)', rows=2)
        self.metadata_error = _error_label(f"{prefix}-metadata-error")
        self.has_channels = channels
        _watch(on_change, self.tags, self.channels, self.metadata)

    def widgets(self) -> list[widgets.Widget]:
        return [self.tags, *([self.channels] if self.has_channels else []), self.metadata, self.metadata_error]

    def fill(self, request: dict[str, Any], errors: list[ParseError]) -> None:
        if self.tags.value.strip():
            request["tags"] = split_list(self.tags.value)
        if self.has_channels and split_list(self.channels.value):
            request["channels"] = split_list(self.channels.value)
        _read_object(request, "metadata", self.metadata, self.metadata_error, errors)

    def load(self, body: dict[str, Any]) -> None:
        """Pop the fields this part shows out of ``body`` (a copy)."""
        tags = body.pop("tags", None)
        self.tags.value = format_list(tags) if isinstance(tags, list) else ""
        if tags is not None and not isinstance(tags, list):
            body["tags"] = tags
        channels = body.pop("channels", None)
        target = body.get("target")
        if isinstance(target, Mapping) and set(target) == {"channels"} and isinstance(target["channels"], list) \
                and channels is None:
            channels = body.pop("target")["channels"]
        if isinstance(channels, str):
            channels = split_list(channels)
        self.channels.value = format_list(channels) if isinstance(channels, list) else ""
        if channels is not None and not isinstance(channels, list):
            body["channels"] = channels
        _load_object(body, "metadata", self.metadata)


# ---------------------------------------------------------------------------------- notification
class NotificationForm:
    """Every field of POST /push-notification."""

    def __init__(self, on_change: Callback) -> None:
        p = "asj-push"
        self.title = _text("title *", f"{p}-title", "Build finished")
        self.subtitle = _text("subtitle", f"{p}-subtitle")
        self.message = _area("message", f"{p}-message")
        self.icon = _text("icon (image URL)", f"{p}-icon", "https://…/avatar.png")
        self.media = _text("media URL", f"{p}-media", "https://…/image.png, .mp4, .m4a")
        self.redirection = _text("redirection", f"{p}-redirection", "https://…, shortcuts://…, app://…")
        self.interruption_level = _choice("interruption level", f"{p}-interruption_level",
                                          [("(default: active)", ""), *[(v, v) for v in payloads.INTERRUPTION_LEVELS]])
        self.actions = RowsEditor(f"{p}-action", on_change, make_row=_action_row, noun="action", path="actions",
                                  limit=payloads.MAX_ACTIONS)
        self.common = _Common(p, on_change)
        # legacy, undocumented fields (kept for completeness)
        self.badge = _text("badge (legacy)", f"{p}-badge", "integer")
        self.sound = _text("sound (legacy)", f"{p}-sound")
        self.payload = _area("payload (legacy)", f"{p}-payload", "{}")
        self.payload_error = _error_label(f"{p}-payload-error")
        self._extra: dict[str, Any] = {}
        _watch(on_change, self.title, self.subtitle, self.message, self.icon, self.media, self.redirection,
               self.interruption_level, self.badge, self.sound, self.payload)
        legacy = widgets.Accordion([widgets.VBox([self.badge, self.sound, self.payload, self.payload_error])])
        legacy.set_title(0, "legacy fields")
        legacy.selected_index = None
        self.box = widgets.VBox([
            self.title, self.subtitle, self.message, self.icon, self.media, self.redirection, self.interruption_level,
            _heading(f"Actions (up to {self.actions.limit})"), self.actions.box,
            _heading("Targeting and history"), *self.common.widgets(), legacy,
        ])

    def request(self) -> tuple[dict[str, Any], list[ParseError]]:
        errors: list[ParseError] = []
        req: dict[str, Any] = {}
        for name in ("title", "subtitle", "icon", "media", "redirection"):
            if getattr(self, name).value:
                req[name] = getattr(self, name).value
        if self.message.value:
            req["message"] = self.message.value
        actions, action_errors = self.actions.value()
        errors.extend(action_errors)
        if actions is not None:
            req["actions"] = actions
        if self.interruption_level.value:
            req["interruption_level"] = self.interruption_level.value
        self.common.fill(req, errors)
        if parse_scalar(self.badge.value) is not None:
            req["badge"] = parse_scalar(self.badge.value)
        if self.sound.value:
            req["sound"] = self.sound.value
        _read_object(req, "payload", self.payload, self.payload_error, errors)
        return {**self._extra, **req}, errors

    def load(self, body: Mapping[str, Any]) -> None:
        body = dict(body)
        for name in ("title", "subtitle", "icon", "media", "redirection", "sound", "message"):
            value = body.pop(name, None)
            getattr(self, name).value = value if isinstance(value, str) else ""
            if value is not None and not isinstance(value, str):
                body[name] = value
        level = body.pop("interruption_level", None)
        self.interruption_level.value = level if level in payloads.INTERRUPTION_LEVELS else ""
        if level is not None and level not in payloads.INTERRUPTION_LEVELS:
            body["interruption_level"] = level
        actions = body.pop("actions", None)
        self.actions.load(actions)
        if actions is not None and not isinstance(actions, list):
            body["actions"] = actions
        self.common.load(body)
        self.badge.value = format_scalar(body.pop("badge", None))
        _load_object(body, "payload", self.payload)
        self._extra = body


# --------------------------------------------------------------------------------- live activity
class LiveActivityForm:
    """A managed stream (PUT / DELETE /live-activity/stream/{key}); type first, then its fields."""

    SCALARS = ("number_of_steps", "current_step", "percentage", "value", "upper_limit", "duration_seconds")

    def __init__(self, on_change: Callback) -> None:
        p = "asj-live"
        self._on_change = on_change
        self.stream_key = _text("stream key *", f"{p}-stream_key", "nightly-backup")
        self.type = _choice("type *", f"{p}-type", list(payloads.TYPES))
        self.title = _text("title *", f"{p}-title", "Nightly backup")
        self.subtitle = _text("subtitle", f"{p}-subtitle")
        self.message = _area("message", f"{p}-message")
        self.number_of_steps = _text("number of steps", f"{p}-number_of_steps", "5")
        self.current_step = _text("current step", f"{p}-current_step", "2")
        self.percentage = _text("percentage", f"{p}-percentage", "0–100")
        self.value = _text("value", f"{p}-value", 'number, or "text"')
        self.upper_limit = _text("upper limit", f"{p}-upper_limit", "number")
        self.duration_seconds = _text("duration seconds", f"{p}-duration_seconds", "1500")
        self.counts_down = _bool("counts down", f"{p}-counts_down")
        self.is_running = _bool("is running", f"{p}-is_running")
        self.color = _colors("color", f"{p}-color")
        self.step_color = _colors("step color", f"{p}-step_color")
        self.step_colors = _text("step colors", f"{p}-step_colors", "green, green, red")
        self.metrics = RowsEditor(f"{p}-metric", on_change, make_row=MetricRow, noun="metric",
                                  path="content_state.metrics", limit=payloads.MAX_METRICS)
        self.icon_symbol = _text("icon (SF Symbol)", f"{p}-icon_symbol", "bolt.fill")
        self.icon_color = _colors("icon color", f"{p}-icon_color")
        self.badge_title = _text("badge", f"{p}-badge_title", "LIVE")
        self.badge_color = _colors("badge color", f"{p}-badge_color")
        self.action = ActionRow(f"{p}-action", on_change, label="Action")
        self.secondary_action = ActionRow(f"{p}-secondary_action", on_change, label="2nd action")
        self.alert_title = _text("alert title", f"{p}-alert_title")
        self.alert_body = _text("alert body", f"{p}-alert_body")
        self.common = _Common(p, on_change)
        self.auto_dismiss_seconds = _text("auto-dismiss s", f"{p}-auto_dismiss_seconds", "on end; 0 = now")
        self.auto_dismiss_minutes = _text("auto-dismiss min", f"{p}-auto_dismiss_minutes", "on end")
        self._extra: dict[str, Any] = {}
        self._cs_extra: dict[str, Any] = {}
        self._alert_extra: dict[str, Any] = {}
        _watch(on_change, self.stream_key, self.title, self.subtitle, self.message, *self._scalar_widgets(),
               self.counts_down, self.is_running, self.color, self.step_color, self.step_colors, self.icon_symbol,
               self.icon_color, self.badge_title, self.badge_color, self.alert_title, self.alert_body,
               self.auto_dismiss_seconds, self.auto_dismiss_minutes)
        self.type.observe(self._on_type, names="value")
        # layout: one box per content-state field so the type can hide what it does not use
        self._field_boxes: dict[str, widgets.Widget] = {
            "title": self.title, "subtitle": self.subtitle, "message": self.message,
            **{name: getattr(self, name) for name in self.SCALARS},
            "counts_down": self.counts_down, "is_running": self.is_running, "color": self.color,
            "step_color": self.step_color, "step_colors": self.step_colors,
            "metrics": widgets.VBox([_heading(f"Metrics (up to {self.metrics.limit})"), self.metrics.box]),
            "icon": widgets.VBox([self.icon_symbol, self.icon_color]),
            "badge": widgets.VBox([self.badge_title, self.badge_color]),
            "secondary_action": self.secondary_action.box,
        }
        order = ("title", "subtitle", "message", "number_of_steps", "current_step", "percentage", "value", "upper_limit",
                 "duration_seconds", "counts_down", "is_running", "metrics", "color", "step_color", "step_colors",
                 "icon", "badge")
        self.box = widgets.VBox([
            self.type, self.stream_key, *[self._field_boxes[name] for name in order],
            _heading("Buttons"), self.action.box, self._field_boxes["secondary_action"],
            _heading("Alert, targeting and history"), self.alert_title, self.alert_body, *self.common.widgets(),
            _heading("End stream"), self.auto_dismiss_seconds, self.auto_dismiss_minutes,
        ])
        self._show_fields()

    def _scalar_widgets(self) -> list[widgets.Text]:
        return [getattr(self, name) for name in self.SCALARS]

    def _on_type(self, _change: Any) -> None:
        self._show_fields()
        self._on_change()

    def _show_fields(self) -> None:
        used = set(TYPE_FIELDS.get(self.type.value, ()))
        for name, box in self._field_boxes.items():
            box.layout.display = None if name in used else "none"

    def uses(self, field_name: str) -> bool:
        return field_name in TYPE_FIELDS.get(self.type.value, ())

    # -------------------------------------------------------------------------- to / from dicts
    def content_state(self, *, end: bool = False) -> dict[str, Any]:
        cs: dict[str, Any] = {"title": self.title.value} if self.title.value else {}
        cs["type"] = self.type.value
        if self.uses("subtitle") and self.subtitle.value:
            cs["subtitle"] = self.subtitle.value
        if self.uses("message") and self.message.value:
            cs["message"] = self.message.value
        for name in self.SCALARS:
            parsed = parse_scalar(getattr(self, name).value, strings=(name == "value"))
            if self.uses(name) and parsed is not None:
                cs[name] = parsed
        for name in ("counts_down", "is_running"):
            if self.uses(name) and getattr(self, name).value is not None:
                cs[name] = getattr(self, name).value
        for name in ("color", "step_color"):
            if self.uses(name) and getattr(self, name).value:
                cs[name] = getattr(self, name).value
        if self.uses("step_colors") and self.step_colors.value.strip():
            cs["step_colors"] = split_list(self.step_colors.value)
        if self.uses("metrics"):
            metrics, _ = self.metrics.value()  # metric rows report no parse errors
            if metrics is not None:
                cs["metrics"] = metrics
        if self.uses("icon") and self.icon_symbol.value:
            cs["icon"] = {"symbol": self.icon_symbol.value, **({"color": self.icon_color.value} if self.icon_color.value else {})}
        if self.uses("badge") and self.badge_title.value:
            cs["badge"] = {"title": self.badge_title.value, **({"color": self.badge_color.value} if self.badge_color.value else {})}
        if end:
            for name in ("auto_dismiss_seconds", "auto_dismiss_minutes"):
                parsed = parse_scalar(getattr(self, name).value)
                if parsed is not None:
                    cs[name] = parsed
        return {**self._cs_extra, **cs}

    def request(self, *, end: bool = False) -> tuple[dict[str, Any], list[ParseError]]:
        """The stream PUT body, or with ``end=True`` the DELETE body (auto-dismiss, no channels)."""
        errors: list[ParseError] = []
        req: dict[str, Any] = {"content_state": self.content_state(end=end)}
        for name, row in (("action", self.action), ("secondary_action", self.secondary_action)):
            if name == "secondary_action" and not self.uses(name):
                continue
            if not row.is_blank():
                value, errs = row.value(name)
                req[name] = value
                errors.extend(errs)
        alert = {**self._alert_extra}
        if self.alert_title.value:
            alert["title"] = self.alert_title.value
        if self.alert_body.value:
            alert["body"] = self.alert_body.value
        if alert:
            req["alert"] = alert
        self.common.fill(req, errors)
        if end:
            req.pop("channels", None)
        return {**self._extra, **req}, errors

    def load(self, body: Mapping[str, Any], *, stream_key: str | None = None) -> None:
        body = dict(body)
        if stream_key is not None:
            self.stream_key.value = stream_key
        cs = dict(body.pop("content_state", None) or {})
        kind = cs.pop("type", None)
        if kind in payloads.TYPES:
            self.type.value = kind
        elif kind is not None:
            cs["type"] = kind
        used = set(TYPE_FIELDS.get(self.type.value, ()))
        self.title.value = str(cs.pop("title", "") or "")
        for name in ("subtitle", "message"):
            value = cs.pop(name, None) if name in used else None
            getattr(self, name).value = value if isinstance(value, str) else ""
            if value is not None and not isinstance(value, str):
                cs[name] = value
        for name in self.SCALARS:
            getattr(self, name).value = format_scalar(cs.pop(name, None) if name in used else None,
                                                       strings=(name == "value"))
        for name in ("counts_down", "is_running"):
            value = cs.pop(name, None) if name in used else None
            getattr(self, name).value = value if isinstance(value, bool) else None
            if value is not None and not isinstance(value, bool):
                cs[name] = value
        for name in ("color", "step_color"):
            value = cs.pop(name, None) if name in used else None
            getattr(self, name).value = value if value in payloads.COLORS else ""
            if value is not None and value not in payloads.COLORS:
                cs[name] = value
        steps = cs.pop("step_colors", None) if "step_colors" in used else None
        self.step_colors.value = format_list(steps) if isinstance(steps, list) else ""
        metrics = cs.pop("metrics", None) if "metrics" in used else None
        self.metrics.load(metrics)
        for name, key, symbol_widget, color_widget in (("icon", "symbol", self.icon_symbol, self.icon_color),
                                                         ("badge", "title", self.badge_title, self.badge_color)):
            value = cs.pop(name, None) if name in used else None
            ok = isinstance(value, Mapping) and set(value) <= {key, "color"} and value.get("color", "") in ("", *payloads.COLORS)
            symbol_widget.value = str(value.get(key, "")) if ok else ""
            color_widget.value = value.get("color", "") if ok else ""
            if value is not None and not ok:
                cs[name] = value
        for name in ("auto_dismiss_seconds", "auto_dismiss_minutes"):
            getattr(self, name).value = format_scalar(cs.pop(name, None))
        self._cs_extra = cs
        self.action.load(body.pop("action", None))
        self.secondary_action.load(body.pop("secondary_action", None) if "secondary_action" in used else None)
        alert = dict(body.pop("alert", None) or {})
        self.alert_title.value = str(alert.pop("title", "") or "")
        self.alert_body.value = str(alert.pop("body", "") or "")
        self._alert_extra = alert
        self.common.load(body)
        self._extra = body
        self._show_fields()

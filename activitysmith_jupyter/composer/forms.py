"""The Composer's two forms as tables of field specs (see `fields`), and their mapping to and from
request dicts.

Each form lists its fields once; building, reading (`request()`), loading (`load()`) and showing only
what a Live Activity type uses (`payloads.TYPE_FIELDS`) are loops over those tables. Typed text goes
into the dict as typed and `payloads.validate` reports what is wrong. Fields a loaded payload has but
no widget shows are kept and sent back unchanged (lossless load).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]

from .. import payloads
from .fields import (
    Callback,
    Field,
    FieldSet,
    ParseError,
    bool_field,
    choice_field,
    color_field,
    heading,
    json_field,
    list_field,
    scalar_field,
    text_field,
)
from .parse import split_list
from .rows import ActionRow, MetricRow, RowsEditor, action_row

__all__ = ["ActionRow", "LiveActivityForm", "MetricRow", "NotificationForm", "RowsEditor"]


class _Exposed:
    """Forms expose their field widgets as attributes (``form.title``), as tests and users expect."""

    _sets: tuple[FieldSet, ...] = ()

    def __getattr__(self, name: str) -> Any:
        for fields in self.__dict__.get("_sets", ()):
            if name in fields.widgets:
                return fields.widgets[name]
        raise AttributeError(name)


class SubObject(_Exposed):
    """A small object field (icon, badge, alert) edited by a FieldSet; sent when its ``required`` field
    is set (``required=None``: when anything is)."""

    def __init__(self, key: str, prefix: str, specs: tuple[Field, ...], on_change: Callback, *,
                 required: str | None) -> None:
        self.key, self.required = key, required
        self.fields = FieldSet(prefix, specs, on_change)
        self._sets = (self.fields,)
        self._extra: dict[str, Any] = {}

    def read(self, into: dict[str, Any], errors: list[ParseError]) -> None:
        value = dict(self._extra)
        self.fields.read(value, errors, path=self.key)
        if (value.get(self.required) if self.required else value):
            into[self.key] = value

    def load(self, source: dict[str, Any], *, used: bool = True) -> None:
        value = source.pop(self.key, None) if used else None
        rest = dict(value) if isinstance(value, Mapping) else {}
        self.fields.load(rest)
        self._extra = rest
        if value is not None and not isinstance(value, Mapping):
            source[self.key] = value  # not an object: sent back unchanged for validate to report


class Common(_Exposed):
    """tags, channels and metadata (push and stream share them)."""

    def __init__(self, prefix: str, on_change: Callback, *, channels: bool = True) -> None:
        specs = (
            list_field("tags", "tags"),
            *([list_field("channels", "channels", "comma separated channel slugs")] if channels else []),
            json_field("metadata", "metadata", '{"run": "nightly"}  (history only)'),
        )
        self.fields = FieldSet(prefix, specs, on_change)
        self._sets = (self.fields,)

    def widgets(self) -> list[widgets.Widget]:
        return list(self.fields.widgets.values())

    def fill(self, request: dict[str, Any], errors: list[ParseError]) -> None:
        self.fields.read(request, errors)

    def load(self, body: dict[str, Any]) -> None:
        """Pop the fields this part shows out of ``body`` (a copy); ``target: {channels}`` shows as channels."""
        target = body.get("target")
        if (body.get("channels") is None and isinstance(target, Mapping) and set(target) == {"channels"}
                and isinstance(target["channels"], list)):
            body["channels"] = body.pop("target")["channels"]
        if isinstance(body.get("channels"), str):
            body["channels"] = split_list(body["channels"])
        self.fields.load(body)


# ---------------------------------------------------------------------------------- notification
_PUSH_FIELDS = (  # in the order they are sent
    text_field("title", "title *", "Build finished"),
    text_field("subtitle", "subtitle"),
    text_field("icon", "icon (image URL)", "https://…/avatar.png"),
    text_field("media", "media URL", "https://…/image.png, .mp4, .m4a"),
    text_field("redirection", "redirection", "https://…, shortcuts://…, app://…"),
    text_field("message", "message", area=True),
)
_PUSH_AFTER_ACTIONS = (
    choice_field("interruption_level", "interruption level", payloads.INTERRUPTION_LEVELS, blank="(default: active)"),
)
_PUSH_LAYOUT = ("title", "subtitle", "message", "icon", "media", "redirection", "interruption_level")
_PUSH_LEGACY = (  # undocumented fields, kept for completeness
    scalar_field("badge", "badge (legacy)", "integer"),
    text_field("sound", "sound (legacy)"),
    json_field("payload", "payload (legacy)", "{}"),
)


class NotificationForm(_Exposed):
    """Every field of POST /push-notification."""

    def __init__(self, on_change: Callback) -> None:
        p = "asj-push"
        self.fields = FieldSet(p, _PUSH_FIELDS, on_change)
        self.after_actions = FieldSet(p, _PUSH_AFTER_ACTIONS, on_change)
        self.legacy = FieldSet(p, _PUSH_LEGACY, on_change)
        self.actions = RowsEditor(f"{p}-action", on_change, make_row=action_row, noun="action", path="actions",
                                  limit=payloads.MAX_ACTIONS)
        self.common = Common(p, on_change)
        self._sets = (self.fields, self.after_actions, self.legacy)
        self._extra: dict[str, Any] = {}
        legacy = widgets.Accordion([widgets.VBox(list(self.legacy.widgets.values()))])
        legacy.set_title(0, "legacy fields")
        legacy.selected_index = None
        self.box = widgets.VBox([
            *[getattr(self, name) for name in _PUSH_LAYOUT],
            heading(f"Actions (up to {self.actions.limit})"), self.actions.box,
            heading("Targeting and history"), *self.common.widgets(), legacy,
        ])

    def request(self) -> tuple[dict[str, Any], list[ParseError]]:
        errors: list[ParseError] = []
        req: dict[str, Any] = {}
        self.fields.read(req, errors)
        actions, action_errors = self.actions.value()
        errors.extend(action_errors)
        if actions is not None:
            req["actions"] = actions
        self.after_actions.read(req, errors)
        self.common.fill(req, errors)
        self.legacy.read(req, errors)
        return {**self._extra, **req}, errors

    def load(self, body: Mapping[str, Any]) -> None:
        rest = dict(body)
        self.fields.load(rest)
        actions = rest.pop("actions", None)
        self.actions.load(actions)
        if actions is not None and not isinstance(actions, list):
            rest["actions"] = actions
        self.after_actions.load(rest)
        self.common.load(rest)
        self.legacy.load(rest)
        self._extra = rest


# --------------------------------------------------------------------------------- live activity
_STATE_FIELDS = (  # content_state, in the order they are sent; shown when the type uses them
    text_field("title", "title *", "Nightly backup"),
    text_field("subtitle", "subtitle"),
    text_field("message", "message", area=True),
    scalar_field("number_of_steps", "number of steps", "5"),
    scalar_field("current_step", "current step", "2"),
    scalar_field("percentage", "percentage", "0–100"),
    scalar_field("value", "value", 'number, or "text"', strings=True),
    scalar_field("upper_limit", "upper limit", "number"),
    scalar_field("duration_seconds", "duration seconds", "1500"),
    bool_field("counts_down", "counts down"),
    bool_field("is_running", "is running"),
    color_field("color", "color"),
    color_field("step_color", "step color"),
    list_field("step_colors", "step colors", "green, green, red"),
)
_END_FIELDS = (  # content_state fields the End button sends
    scalar_field("auto_dismiss_seconds", "auto-dismiss s", "on end; 0 = now"),
    scalar_field("auto_dismiss_minutes", "auto-dismiss min", "on end"),
)
_ICON = (text_field("symbol", "icon (SF Symbol)", "bolt.fill", name="icon_symbol"),
         color_field("color", "icon color", name="icon_color"))
_BADGE = (text_field("title", "badge", "LIVE", name="badge_title"),
          color_field("color", "badge color", name="badge_color"))
_ALERT = (text_field("title", "alert title", name="alert_title"), text_field("body", "alert body", name="alert_body"))
# Where each content-state field sits in the form (metrics before the colors).
_LAYOUT = ("title", "subtitle", "message", "number_of_steps", "current_step", "percentage", "value", "upper_limit",
           "duration_seconds", "counts_down", "is_running", "metrics", "color", "step_color", "step_colors",
           "icon", "badge")


class LiveActivityForm(_Exposed):
    """A managed stream (PUT / DELETE /live-activity/stream/{key}); type first, then its fields."""

    SCALARS = ("number_of_steps", "current_step", "percentage", "value", "upper_limit", "duration_seconds")

    def __init__(self, on_change: Callback) -> None:
        p = "asj-live"
        self._on_change = on_change
        self.head = FieldSet(p, (choice_field("type", "type *", payloads.TYPES, blank=None),
                                 text_field("stream_key", "stream key *", "nightly-backup")), on_change)
        self.head["stream_key"].tooltip = f"stream key: {payloads.STREAM_KEY_RULE}"
        self.state = FieldSet(p, _STATE_FIELDS, on_change)
        self.end_fields = FieldSet(p, _END_FIELDS, on_change)
        self.metrics = RowsEditor(f"{p}-metric", on_change, make_row=MetricRow, noun="metric",
                                  path="content_state.metrics", limit=payloads.MAX_METRICS)
        self.icon = SubObject("icon", p, _ICON, on_change, required="symbol")
        self.badge = SubObject("badge", p, _BADGE, on_change, required="title")
        self.alert = SubObject("alert", p, _ALERT, on_change, required=None)
        self.action = ActionRow(f"{p}-action", on_change, label="Action")
        self.secondary_action = ActionRow(f"{p}-secondary_action", on_change, label="2nd action")
        self.common = Common(p, on_change)
        self._sets = (self.head, self.state, self.end_fields, self.icon.fields, self.badge.fields, self.alert.fields)
        self._extra: dict[str, Any] = {}
        self._cs_extra: dict[str, Any] = {}
        self.head["type"].observe(self._on_type, names="value")
        # one box per content-state field, so the type can hide what it does not use
        self._field_boxes: dict[str, widgets.Widget] = {
            **self.state.widgets,
            "metrics": widgets.VBox([heading(f"Metrics (up to {self.metrics.limit})"), self.metrics.box]),
            "icon": widgets.VBox(list(self.icon.fields.widgets.values())),
            "badge": widgets.VBox(list(self.badge.fields.widgets.values())),
            "secondary_action": self.secondary_action.box,
        }
        self.box = widgets.VBox([
            *self.head.widgets.values(), *[self._field_boxes[name] for name in _LAYOUT],
            heading("Buttons"), self.action.box, self._field_boxes["secondary_action"],
            heading("Alert, targeting and history"), *self.alert.fields.widgets.values(), *self.common.widgets(),
            heading("End stream"), *self.end_fields.widgets.values(),
        ])
        self._show_fields()

    def _on_type(self, _change: Any) -> None:
        self._show_fields()
        self._on_change()

    def _show_fields(self) -> None:
        for name, box in self._field_boxes.items():
            box.layout.display = None if self.uses(name) else "none"

    def uses(self, field_name: str) -> bool:
        """The current type uses ``field_name`` (`payloads.TYPE_FIELDS`)."""
        return field_name in payloads.TYPE_FIELDS.get(self.head["type"].value, ())

    # -------------------------------------------------------------------------- to / from dicts
    def content_state(self, *, end: bool = False) -> dict[str, Any]:
        cs: dict[str, Any] = {}
        errors: list[ParseError] = []  # content-state fields report no parse errors
        self.state.read(cs, errors, uses=self.uses)
        cs = {**({"title": cs.pop("title")} if "title" in cs else {}), "type": self.head["type"].value, **cs}
        if self.uses("metrics"):
            metrics, _ = self.metrics.value()
            if metrics is not None:
                cs["metrics"] = metrics
        for part in (self.icon, self.badge):
            if self.uses(part.key):
                part.read(cs, errors)
        if end:
            self.end_fields.read(cs, errors)
        return {**self._cs_extra, **cs}

    def request(self, *, end: bool = False) -> tuple[dict[str, Any], list[ParseError]]:
        """The stream PUT body, or with ``end=True`` the DELETE body (auto-dismiss, no channels)."""
        errors: list[ParseError] = []
        req: dict[str, Any] = {"content_state": self.content_state(end=end)}
        for name, row in (("action", self.action), ("secondary_action", self.secondary_action)):
            if (name == "action" or self.uses(name)) and not row.is_blank():
                value, errs = row.value(name)
                req[name] = value
                errors.extend(errs)
        self.alert.read(req, errors)
        self.common.fill(req, errors)
        if end:
            req.pop("channels", None)
        return {**self._extra, **req}, errors

    def load(self, body: Mapping[str, Any], *, stream_key: str | None = None) -> None:
        rest = dict(body)
        if stream_key is not None:
            self.head["stream_key"].value = stream_key
        state = rest.pop("content_state", None)
        cs = dict(state) if isinstance(state, Mapping) else {}
        if state is not None and not isinstance(state, Mapping):
            rest["content_state"] = state
        kind = cs.pop("type", None)
        if kind in payloads.TYPES:
            self.head["type"].value = kind
        elif kind is not None:
            cs["type"] = kind  # not a type: kept (and reported); the form keeps its type
        self.state.load(cs, uses=self.uses)
        metrics = cs.pop("metrics", None) if self.uses("metrics") else None
        self.metrics.load(metrics)
        if metrics is not None and not isinstance(metrics, list):
            cs["metrics"] = metrics
        for part in (self.icon, self.badge):
            part.load(cs, used=self.uses(part.key))
        self.end_fields.load(cs)
        self._cs_extra = cs
        for name, row in (("action", self.action), ("secondary_action", self.secondary_action)):
            value = rest.pop(name, None) if name == "action" or self.uses(name) else None
            row.load(value if isinstance(value, Mapping) else None)
            if value is not None and not isinstance(value, Mapping):
                rest[name] = value
        self.alert.load(rest)
        self.common.load(rest)
        self._extra = rest
        self._show_fields()



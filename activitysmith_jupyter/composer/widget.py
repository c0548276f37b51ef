"""`Composer`: an ipywidgets form for push notifications and Live Activity streams.

As you type it shows the exact JSON body, a Lock Screen preview (`preview.py`), every problem that
`payloads.validate` finds (the same check the client runs before sending) and the Python call that
sends the same thing with this package. Its buttons send through the shared client.

State lives in traits (`payload`, `endpoint`, `stream_key`, `problems`, `result`); the field widgets
and their layout live in `activitysmith_jupyter.composer`. No API key or client is ever stored in a
trait: widget state is saved into notebooks.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]
import traitlets

from .. import payloads
from ..simulator import preview
from .codegen import python_snippet
from .forms import LiveActivityForm, NotificationForm
from .render import code_html, json_html, problems_html, result_html
from ..errors import ActivitySmithError, APIError, PayloadError, Problem

__all__ = ["Composer"]

_TABS = ("push", "stream")  # tab index -> endpoint


class Composer(widgets.VBox):  # type: ignore[misc, unused-ignore]
    """Compose, check, preview and send a push notification or a Live Activity stream update.

    ``Composer(client=None, *, payload=None, endpoint=None, stream_key=None)``: ``client`` defaults
    to `activitysmith_jupyter.api.client.default_client()` (resolved when a button is clicked);
    ``payload`` loads an existing request body (a body with ``content_state`` opens the Live
    Activity tab). Set ``composer.payload = {...}`` to load another one.
    """

    payload = traitlets.Dict(help="The request body the Composer shows and sends.")
    endpoint = traitlets.Enum(_TABS, default_value="push", help="'push' (notification) or 'stream' (Live Activity).")
    stream_key = traitlets.Unicode("", help="Stream key for the Live Activity endpoints.")
    problems: traitlets.List[Problem] = traitlets.List(help="Problems in the current body (payloads.validate + unparsable JSON fields).")
    result = traitlets.Dict(help="The last answer: {'ok', 'call', 'response' | 'error'} (no secrets).")
    notification_id = traitlets.Unicode("", help="The id of the last notification sent.")

    def __init__(
        self,
        client: Any = None,
        *,
        payload: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        stream_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._client = client  # plain attribute, never a trait
        self._loading = False
        self._parse_errors: list[Problem] = []
        self.last_response: Any = None
        self.notification = NotificationForm(self._on_fields)
        self.live = LiveActivityForm(self._on_fields)
        self._build_views()
        self._layout()
        self._wire()
        if stream_key is not None:
            self.stream_key = stream_key
        if payload is not None:
            self.load(payload, endpoint=endpoint)
        else:
            if endpoint is not None:
                self.endpoint = endpoint
            self._on_fields()

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], *, client: Any = None, endpoint: str | None = None,
                     stream_key: str | None = None) -> Composer:
        """A Composer filled from an existing request body."""
        return cls(client, payload=payload, endpoint=endpoint, stream_key=stream_key)

    # --------------------------------------------------------------------------------- widgets
    def _build_views(self) -> None:
        self.tabs = widgets.Tab([self.notification.box, self.live.box])
        self.tabs.set_title(0, "Notification")
        self.tabs.set_title(1, "Live Activity")
        self.send_button = self._button("Send notification", "paper-plane", "asj-send", "primary")
        self.stream_button = self._button("Stream (PUT)", "play", "asj-stream", "primary")
        self.end_button = self._button("End stream (DELETE)", "stop", "asj-end", "danger")
        self.json_view = self._html("asj-json")
        self.preview_view = self._html("asj-preview-view")
        self.problems_view = self._html("asj-problems")
        self.code_view = self._html("asj-code")
        self.result_view = self._html("asj-result")

    @staticmethod
    def _button(description: str, icon: str, css: str, style: str) -> widgets.Button:
        button = widgets.Button(description=description, icon=icon, button_style=style,
                                layout=widgets.Layout(width="auto"))
        button.add_class(css)
        return button

    @staticmethod
    def _html(css: str) -> widgets.HTML:
        view = widgets.HTML("", layout=widgets.Layout(width="100%"))
        view.add_class(css)
        return view

    def _layout(self) -> None:
        self.notification.box.children = (*self.notification.box.children, widgets.HBox([self.send_button]))
        self.live.box.children = (*self.live.box.children, widgets.HBox([self.stream_button, self.end_button]))
        left = widgets.VBox([self.tabs], layout=widgets.Layout(width="52%", min_width="360px"))
        right = widgets.VBox(
            [self.preview_view, self.problems_view, self.result_view,
             widgets.HTML("<b>JSON body</b>"), self.json_view, widgets.HTML("<b>Python</b>"), self.code_view],
            layout=widgets.Layout(width="48%", min_width="320px", padding="0 0 0 12px"))
        self.children = [widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap", width="100%"))]
        self.add_class("asj-composer")

    def _wire(self) -> None:
        self.tabs.observe(self._on_tab, names="selected_index")
        traitlets.link((self.live.stream_key, "value"), (self, "stream_key"))
        self.send_button.on_click(self._on_send)
        self.stream_button.on_click(self._on_stream)
        self.end_button.on_click(self._on_end)

    # -------------------------------------------------------------------------------- handlers
    def _on_tab(self, change: Mapping[str, Any]) -> None:
        if change["new"] is not None:
            self.endpoint = _TABS[change["new"]]

    @traitlets.observe("endpoint")
    def _on_endpoint(self, change: Mapping[str, Any]) -> None:
        self.tabs.selected_index = _TABS.index(change["new"])
        self._on_fields()

    @traitlets.observe("stream_key")
    def _on_stream_key(self, _change: Mapping[str, Any]) -> None:
        self._refresh()

    def _on_fields(self) -> None:
        """A field changed: rebuild the body from the form (unless we are filling the form)."""
        if self._loading:
            return
        request, parse_errors = self._form_request(end=False)
        payload, refused = _built(self.endpoint, request)
        self._parse_errors = [Problem(path, message) for path, message in parse_errors] + refused
        self._loading = True
        try:
            self.payload = payload
        finally:
            self._loading = False
        self._refresh()

    @traitlets.observe("payload")
    def _on_payload(self, change: Mapping[str, Any]) -> None:
        """The trait was set from outside: show that body in the form (switching tab if needed)."""
        if self._loading:
            return
        self._fill_form(change["new"])
        self._on_fields()  # normalise (e.g. channels -> target) exactly as a send would

    # --------------------------------------------------------------------------- form <-> body
    def load(self, payload: Mapping[str, Any], *, endpoint: str | None = None) -> None:
        """Fill the form from a request body (``content_state`` in it means a Live Activity)."""
        if endpoint is not None:
            self.endpoint = endpoint
        self.payload = dict(payload)

    @staticmethod
    def _endpoint_of(payload: Mapping[str, Any], current: str) -> str:
        if "content_state" in payload:
            return "stream"
        return "push" if "title" in payload else current

    def _fill_form(self, payload: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self.endpoint = self._endpoint_of(payload, self.endpoint)
            if self.endpoint == "push":
                self.notification.load(payload)
            else:
                self.live.load(payload)
        finally:
            self._loading = False

    def _form_request(self, *, end: bool) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if self.endpoint == "push":
            return self.notification.request()
        return self.live.request(end=end)

    @property
    def end_payload(self) -> dict[str, Any]:
        """The body the End button sends (DELETE /live-activity/stream/{key})."""
        request, _errors = self._form_request(end=True)
        return _built("end_stream", request)[0]

    def _key(self) -> str | None:
        return self.stream_key if self.endpoint == "stream" else None

    def _refresh(self) -> None:
        """Re-render JSON, preview, problems and code from the current traits (and the form's parse errors)."""
        body = self.payload
        own = {p.path for p in self._parse_errors}
        problems = self._parse_errors + [p for p in payloads.validate(self.endpoint, body, key=self._key())
                                         if p.path not in own]
        self.problems = problems
        self.json_view.value = json_html(self.json_text)
        if self.endpoint == "push":
            self.preview_view.value = preview.render_notification(body, wallpaper=True)
        else:
            self.preview_view.value = preview.render_live_activity(body, wallpaper=True)
        self.problems_view.value = problems_html(problems)
        if _refused_here(self.result):  # "not sent: <problems>" is about an older form; the list above is current
            self.result = {}
            self.result_view.value = ""
        self.code_view.value = code_html(self.python_code)

    @property
    def json_text(self) -> str:
        """The body exactly as it is sent, pretty-printed."""
        return json.dumps(self.payload, indent=2, ensure_ascii=False)

    @property
    def python_code(self) -> str:
        """Python that makes the same call with this package (the key comes from the environment)."""
        return python_snippet(self.endpoint, self.payload, key=self._key())

    # ----------------------------------------------------------------------------------- send
    def _get_client(self) -> Any:
        if self._client is None:
            from ..api.client import default_client

            return default_client()
        return self._client

    def _on_send(self, _button: Any = None) -> None:
        self._call("push", lambda c: c.notifications.send(self.payload))

    def _on_stream(self, _button: Any = None) -> None:
        self._call("stream", lambda c: c.live_activities.stream(self.stream_key, self.payload))

    def _on_end(self, _button: Any = None) -> None:
        body = self.end_payload
        self._call("end_stream", lambda c: c.live_activities.end_stream(self.stream_key, body))

    def _call(self, call: str, send: Callable[[Any], Any]) -> None:
        parse_errors = self._parse_errors
        if parse_errors:
            self._show_result({"ok": False, "call": call, "error": {
                "type": "PayloadError", "problems": [[p.path, p.message] for p in parse_errors]}})
            return
        try:
            response = send(self._get_client())
        except PayloadError as exc:
            self._show_result({"ok": False, "call": call, "error": {
                "type": "PayloadError", "problems": [[p.path, p.message] for p in exc.problems]}})
        except APIError as exc:
            self._show_result({"ok": False, "call": call, "error": {
                "type": type(exc).__name__, "status": exc.status, "code": exc.error, "message": exc.message}})
        except ActivitySmithError as exc:
            self._show_result({"ok": False, "call": call, "error": {"type": type(exc).__name__, "message": str(exc)}})
        else:
            self.last_response = response
            data = response.to_dict() if hasattr(response, "to_dict") else dict(response)
            self._show_result({"ok": True, "call": call, "response": data})
            if call == "push" and data.get("notification_id"):
                self.notification_id = data["notification_id"]

    def _show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        self.result_view.value = result_html(result)

    # ---------------------------------------------------------------------------------- repr
    def __repr__(self) -> str:
        title = (self.payload.get("content_state") or {}).get("title") if self.endpoint == "stream" else self.payload.get("title")
        key = f", stream_key={self.stream_key!r}" if self.endpoint == "stream" else ""
        return f"Composer(endpoint={self.endpoint!r}{key}, title={title!r}, problems={len(self.problems)})"


def _built(endpoint: str, request: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The body a send would make of ``request``, or, when building refuses it (e.g. ``channels: 5``),
    the request as it is and the reasons."""
    try:
        return payloads.build_request(endpoint, request), []
    except PayloadError as exc:
        return request, list(exc.problems)


def _refused_here(result: Mapping[str, Any]) -> bool:
    """A result that never left the machine (the form's own problems), as opposed to an answer."""
    return bool(result) and not result.get("ok") and "problems" in (result.get("error") or {})

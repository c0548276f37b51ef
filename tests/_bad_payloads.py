"""Bad request bodies, each with the one field path its problem must name (shared by the payload
rules tests and the client tests that check nothing is sent)."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def _state(endpoint: str = "stream", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"content_state": {"title": "Job", **fields}}
    if endpoint in ("update", "end"):
        body["activity_id"] = "act_1"
    return body


def _start(kind: str, **fields: Any) -> dict[str, Any]:
    return {"content_state": {"title": "Job", "type": kind, **fields}}


def _metrics(*values: Any, **extra: Any) -> list[dict[str, Any]]:
    return [{"label": f"m{i}", "value": v, **extra} for i, v in enumerate(values)]


def _action(**fields: Any) -> dict[str, Any]:
    return {"title": "Open", "type": "open_url", "url": "https://a.io", **fields}


BAD = [
    # push / replace
    ("push-missing-title", "push", {"message": "m"}, None, "title"),
    ("push-title-not-string", "push", {"title": 3}, None, "title"),
    ("push-media-http", "push", {"title": "t", "media": "http://a.io/x.png"}, None, "media"),
    ("push-icon-http", "push", {"title": "t", "icon": "http://a.io/i.png"}, None, "icon"),
    ("push-icon-with-credentials", "push", {"title": "t", "icon": "https://u:p@a.io/i.png"}, None, "icon"),
    ("push-redirection-without-scheme", "push", {"title": "t", "redirection": "example.com/x"}, None, "redirection"),
    ("push-redirection-too-long", "push", {"title": "t", "redirection": "https://a.io/" + "x" * 2048}, None, "redirection"),
    ("push-five-actions", "push", {"title": "t", "actions": [_action()] * 5}, None, "actions"),
    ("push-media-with-actions", "push", {"title": "t", "media": "https://a.io/x.png", "actions": [_action()]}, None, "actions"),
    ("push-action-missing-url", "push", {"title": "t", "actions": [{"title": "a", "type": "open_url"}]}, None, "actions[0].url"),
    ("push-action-bad-type", "push", {"title": "t", "actions": [_action(), _action(type="link")]}, None, "actions[1].type"),
    ("push-action-bad-method", "push", {"title": "t", "actions": [_action(type="webhook", method="PUT")]}, None, "actions[0].method"),
    ("push-webhook-not-https", "push", {"title": "t", "actions": [_action(type="webhook", url="http://h.io")]}, None, "actions[0].url"),
    ("push-open-url-without-scheme", "push", {"title": "t", "actions": [_action(url="a.io/x")]}, None, "actions[0].url"),
    ("push-action-body-not-object", "push", {"title": "t", "actions": [_action(type="webhook", body=[1])]}, None, "actions[0].body"),
    ("push-action-unknown-field", "push", {"title": "t", "actions": [_action(urls="x")]}, None, "actions[0].urls"),
    ("push-bad-interruption-level", "push", {"title": "t", "interruption_level": "urgent"}, None, "interruption_level"),
    ("push-tag-too-long", "push", {"title": "t", "tags": ["ok", "x" * 65]}, None, "tags[1]"),
    ("push-empty-tag", "push", {"title": "t", "tags": [""]}, None, "tags[0]"),
    ("push-tags-not-a-list", "push", {"title": "t", "tags": "a,b"}, None, "tags"),
    ("push-target-empty-channels", "push", {"title": "t", "target": {"channels": []}}, None, "target.channels"),
    ("push-target-channels-string", "push", {"title": "t", "target": {"channels": "a"}}, None, "target.channels"),
    ("push-target-channel-not-string", "push", {"title": "t", "target": {"channels": ["a", 3]}}, None, "target.channels[1]"),
    ("push-target-channels-numbers", "push", {"title": "t", "target": {"channels": [1]}}, None, "target.channels[0]"),
    ("push-target-channels-number", "push", {"title": "t", "target": {"channels": 123}}, None, "target.channels"),
    ("push-redirection-javascript", "push", {"title": "t", "redirection": "javascript:alert(1)"}, None, "redirection"),
    ("push-redirection-data", "push", {"title": "t", "redirection": "data:text/html,<b>x</b>"}, None, "redirection"),
    ("push-redirection-vbscript", "push", {"title": "t", "redirection": "VBScript:msgbox(1)"}, None, "redirection"),
    ("push-open-url-javascript", "push", {"title": "t", "actions": [_action(url="javascript:x()")]}, None,
     "actions[0].url"),
    ("replace-redirection-javascript", "replace", {"title": "t", "redirection": "javascript:x()"}, "n_1", "redirection"),
    ("push-metadata-not-object", "push", {"title": "t", "metadata": ["a"]}, None, "metadata"),
    ("push-metadata-nested", "push", {"title": "t", "metadata": {"nested": {"a": 1}}}, None, "metadata.nested"),
    ("push-metadata-list-value", "push", {"title": "t", "metadata": {"ids": [1, 2]}}, None, "metadata.ids"),
    ("push-metadata-null", "push", {"title": "t", "metadata": {"owner": None}}, None, "metadata.owner"),
    ("push-metadata-long-string", "push", {"title": "t", "metadata": {"note": "x" * 4001}}, None, "metadata.note"),
    ("push-metadata-51-entries", "push", {"title": "t", "metadata": {f"k{i}": i for i in range(51)}}, None, "metadata"),
    ("push-metadata-long-key", "push", {"title": "t", "metadata": {"k" * 101: 1}}, None, "metadata." + "k" * 101),
    ("push-metadata-over-16kb", "push", {"title": "t", "metadata": {f"k{i}": "x" * 4000 for i in range(5)}}, None, "metadata"),
    ("push-metadata-nan", "push", {"title": "t", "metadata": {"loss": math.nan}}, None, "metadata.loss"),
    ("push-payload-infinity", "push", {"title": "t", "payload": {"x": [math.inf]}}, None, "payload.x[0]"),
    ("push-payload-not-json", "push", {"title": "t", "payload": {"when": datetime(2026, 1, 1)}}, None, "payload.when"),
    ("push-legacy-badge-bool", "push", {"title": "t", "badge": True}, None, "badge"),
    ("push-unknown-field", "push", {"title": "t", "priority": "high"}, None, "priority"),
    ("push-raw-channels-field", "push", {"title": "t", "channels": ["a"]}, None, "channels"),
    ("replace-sound", "replace", {"title": "t", "sound": "ding"}, "n_1", "sound"),
    ("replace-target", "replace", {"title": "t", "target": {"channels": ["a"]}}, "n_1", "target"),
    ("replace-empty-notification-id", "replace", {"title": "t"}, "", "notification_id"),
    # start: required fields per type
    ("start-missing-content-state", "start", {"tags": ["a"]}, None, "content_state"),
    ("start-missing-type", "start", {"content_state": {"title": "Job", "percentage": 5}}, None, "content_state.type"),
    ("start-unknown-type", "start", _start("gauge"), None, "content_state.type"),
    ("start-progress-without-percentage", "start", _start("progress", value=3), None, "content_state.percentage"),
    ("start-progress-string-value", "start", _start("progress", value="3", upper_limit=10), None, "content_state.value"),
    ("start-segmented-without-steps", "start", _start("segmented_progress", current_step=1), None, "content_state.number_of_steps"),
    ("start-segmented-without-current", "start", _start("segmented_progress", number_of_steps=3), None, "content_state.current_step"),
    ("start-segmented-current-beyond-steps", "start", _start("segmented_progress", number_of_steps=3, current_step=4), None,
     "content_state.current_step"),
    ("start-metrics-without-metrics", "start", _start("metrics"), None, "content_state.metrics"),
    ("start-stats-nine-metrics", "start", _start("stats", metrics=_metrics(*range(9))), None, "content_state.metrics"),
    ("start-metrics-empty-list", "start", _start("metrics", metrics=[]), None, "content_state.metrics"),
    ("start-value-without-value", "start", _start("value"), None, "content_state.value"),
    ("start-alert-without-message", "start", _start("alert"), None, "content_state.message"),
    ("start-timer-without-duration", "start", _start("timer", counts_down=True), None, "content_state.duration_seconds"),
    ("start-auto-dismiss", "start", _start("value", value=1, auto_dismiss_minutes=1), None, "content_state.auto_dismiss_minutes"),
    ("start-target-channels-numbers", "start", {**_start("value", value=1), "target": {"channels": [1]}}, None,
     "target.channels[0]"),
    ("start-alert-field-not-string", "start", {**_start("value", value=1), "alert": {"title": 1}}, None, "alert.title"),
    # content_state fields (stream)
    ("stream-missing-content-state", "stream", {"tags": ["a"]}, "k", "content_state"),
    ("stream-missing-title", "stream", {"content_state": {"percentage": 5}}, "k", "content_state.title"),
    ("stream-title-not-string", "stream", {"content_state": {"title": ["Job"]}}, "k", "content_state.title"),
    ("stream-percentage-above-100", "stream", _state(percentage=100.5), "k", "content_state.percentage"),
    ("stream-percentage-negative", "stream", _state(percentage=-1), "k", "content_state.percentage"),
    ("stream-percentage-bool", "stream", _state(percentage=True), "k", "content_state.percentage"),
    ("stream-percentage-string", "stream", _state(percentage="50"), "k", "content_state.percentage"),
    ("stream-percentage-nan", "stream", _state(percentage=math.nan), "k", "content_state.percentage"),
    ("stream-upper-limit-infinity", "stream", _state(upper_limit=math.inf), "k", "content_state.upper_limit"),
    ("stream-duration-string", "stream", _state(duration_seconds="60"), "k", "content_state.duration_seconds"),
    ("stream-value-bool", "stream", _state(value=False), "k", "content_state.value"),
    ("stream-value-nan", "stream", _state(value=math.nan), "k", "content_state.value"),
    ("stream-steps-zero", "stream", _state(number_of_steps=0), "k", "content_state.number_of_steps"),
    ("stream-current-step-negative", "stream", _state(current_step=-1), "k", "content_state.current_step"),
    ("stream-current-step-float", "stream", _state(current_step=1.0), "k", "content_state.current_step"),
    ("stream-current-step-beyond-steps", "stream", _state(number_of_steps=2, current_step=3), "k", "content_state.current_step"),
    ("stream-metric-negative", "stream", _state(metrics=_metrics(1, 2, 3, -4)), "k", "content_state.metrics[3].value"),
    ("stream-metric-bool", "stream", _state(metrics=_metrics(True)), "k", "content_state.metrics[0].value"),
    ("stream-metric-long-string", "stream", _state(metrics=_metrics("x" * 65)), "k", "content_state.metrics[0].value"),
    ("stream-metric-empty-string", "stream", _state(metrics=_metrics("")), "k", "content_state.metrics[0].value"),
    ("stream-metric-missing-label", "stream", _state(metrics=[{"label": "a", "value": 1}, {"value": 2}]), "k",
     "content_state.metrics[1].label"),
    ("stream-metric-empty-label", "stream", _state(metrics=[{"label": "", "value": 2}]), "k", "content_state.metrics[0].label"),
    ("stream-metric-bad-color", "stream", _state(metrics=_metrics(1, color="pink")), "k", "content_state.metrics[0].color"),
    ("stream-metric-unknown-field", "stream", _state(metrics=[{"label": "a", "value": 1, "colour": "red"}]), "k",
     "content_state.metrics[0].colour"),
    ("stream-metric-not-object", "stream", _state(metrics=[5]), "k", "content_state.metrics[0]"),
    ("stream-bad-color", "stream", _state(color="pink"), "k", "content_state.color"),
    ("stream-bad-step-color", "stream", _state(step_color="Red"), "k", "content_state.step_color"),
    ("stream-bad-step-colors-item", "stream", _state(step_colors=["red", "blue", "teal"]), "k", "content_state.step_colors[2]"),
    ("stream-icon-missing-symbol", "stream", _state(icon={"color": "red"}), "k", "content_state.icon.symbol"),
    ("stream-icon-bad-color", "stream", _state(icon={"symbol": "x", "color": "white"}), "k", "content_state.icon.color"),
    ("stream-icon-string", "stream", _state(icon="bolt"), "k", "content_state.icon"),
    ("stream-badge-empty-title", "stream", _state(badge={"title": ""}), "k", "content_state.badge.title"),
    ("stream-badge-unknown-field", "stream", _state(badge={"title": "a", "text": "b"}), "k", "content_state.badge.text"),
    ("stream-counts-down-string", "stream", _state(counts_down="yes"), "k", "content_state.counts_down"),
    ("stream-is-running-int", "stream", _state(is_running=1), "k", "content_state.is_running"),
    ("stream-empty-message", "stream", _state(message=""), "k", "content_state.message"),
    ("stream-negative-auto-dismiss-seconds", "stream", _state(auto_dismiss_seconds=-5), "k", "content_state.auto_dismiss_seconds"),
    ("stream-float-auto-dismiss-minutes", "stream", _state(auto_dismiss_minutes=1.5), "k", "content_state.auto_dismiss_minutes"),
    ("stream-unknown-content-field", "stream", _state(progress=5), "k", "content_state.progress"),
    ("stream-request-field-inside-content-state", "stream", _state(tags=["a"]), "k", "content_state.tags"),
    ("stream-content-field-at-top-level", "stream", {**_state(), "percentage": 5}, "k", "percentage"),
    # stream request fields and key
    ("stream-key-with-space", "stream", _state(), "bad key", "stream_key"),
    ("stream-key-with-slash", "stream", _state(), "a/b", "stream_key"),
    ("stream-key-too-long", "stream", _state(), "k" * 256, "stream_key"),
    ("stream-key-empty", "stream", _state(), "", "stream_key"),
    ("stream-channels-empty", "stream", {**_state(), "channels": []}, "k", "channels"),
    ("stream-target-channels-number", "stream", {**_state(), "target": {"channels": 123}}, "k", "target.channels"),
    ("stream-channels-numbers", "stream", {**_state(), "channels": [1]}, "k", "channels[0]"),
    ("stream-channels-mismatch-target", "stream", {**_state(), "channels": ["a"], "target": {"channels": ["b"]}}, "k", "channels"),
    ("stream-action-custom-scheme", "stream", {**_state(), "action": _action(url="spotify:track:1")}, "k", "action.url"),
    ("stream-secondary-action-missing-title", "stream",
     {**_state(), "secondary_action": {"type": "open_url", "url": "https://a.io"}}, "k", "secondary_action.title"),
    ("stream-action-not-object", "stream", {**_state(), "action": "https://a.io"}, "k", "action"),
    ("stream-unknown-top-level-field", "stream", {**_state(), "activity_id": "a"}, "k", "activity_id"),
    # update / end / end_stream
    ("update-missing-activity-id", "update", {"content_state": {"title": "t"}}, None, "activity_id"),
    ("update-empty-activity-id", "update", {**_state("update"), "activity_id": ""}, None, "activity_id"),
    ("update-missing-content-state", "update", {"activity_id": "a"}, None, "content_state"),
    ("update-21-tags", "update", {**_state("update"), "tags": [f"t{i}" for i in range(21)]}, None, "tags"),
    ("update-channels", "update", {**_state("update"), "channels": ["a"]}, None, "channels"),
    ("update-alert", "update", {**_state("update"), "alert": {"title": "x"}}, None, "alert"),
    ("update-auto-dismiss-minutes", "update", _state("update", auto_dismiss_minutes=1), None, "content_state.auto_dismiss_minutes"),
    ("end-auto-dismiss-seconds", "end", _state("end", auto_dismiss_seconds=5), None, "content_state.auto_dismiss_seconds"),
    ("end-negative-auto-dismiss-minutes", "end", _state("end", auto_dismiss_minutes=-1), None, "content_state.auto_dismiss_minutes"),
    ("end-21-tags", "end", {**_state("end"), "tags": ["t"] * 21}, None, "tags"),
    ("end-stream-state-without-title", "end_stream", {"content_state": {"auto_dismiss_minutes": 0}}, "k", "content_state.title"),
    ("end-stream-target", "end_stream", {"target": {"channels": ["a"]}}, "k", "target"),
    ("end-stream-bad-key", "end_stream", {}, "no spaces", "stream_key"),
    # metric / badge
    ("metric-missing-value", "metric", {"timestamp": "2026-01-02T03:04:05+00:00"}, "cpu", "value"),
    ("metric-value-bool", "metric", {"value": True}, "cpu", "value"),
    ("metric-value-long-string", "metric", {"value": "x" * 65}, "cpu", "value"),
    ("metric-value-infinity", "metric", {"value": -math.inf}, "cpu", "value"),
    ("metric-bad-timestamp", "metric", {"value": 1, "timestamp": "yesterday"}, "cpu", "timestamp"),
    ("metric-key-uppercase", "metric", {"value": 1}, "CPU", "key"),
    ("metric-key-too-long", "metric", {"value": 1}, "k" * 65, "key"),
    ("metric-key-empty", "metric", {"value": 1}, "", "key"),
    ("badge-missing", "badge", {"target": {"channels": ["a"]}}, None, "badge"),
    ("badge-negative", "badge", {"badge": -1}, None, "badge"),
    ("badge-too-large", "badge", {"badge": 2147483648}, None, "badge"),
    ("badge-float", "badge", {"badge": 1.0}, None, "badge"),
    ("badge-target-channels-numbers", "badge", {"badge": 1, "target": {"channels": [1]}}, None, "target.channels[0]"),
    ("badge-channels-field", "badge", {"badge": 1, "channels": ["a"]}, None, "channels"),
    # shape
    ("body-not-an-object", "push", ["title"], None, "request"),
]

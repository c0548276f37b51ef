"""Bad input is refused before anything is sent (issue 8), through the real clients (sync and async)
and the dispatcher: non-string channels on every endpoint, script URLs on a tap, requests that are not
objects. Each case asserts the PayloadError names the field and that the simulator recorded nothing."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from _client_twins import api, call  # noqa: F401  (api is a fixture)

from activitysmith_jupyter import payloads
from activitysmith_jupyter.errors import PayloadError

pytestmark = pytest.mark.anyio

_STATE = {"title": "Job", "type": "progress", "percentage": 5}
BAD_CHANNELS = {"int-list": [1, 2], "int": 123, "mixed-list": ["ops", 2], "none-in-list": ["ops", None],
                "dict": {"ops": True}}

# endpoint -> a call that passes `channels` the way that endpoint's users would (keyword or in the dict)
CHANNEL_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "push-keyword": lambda c, ch: c.notifications.send(title="x", channels=ch),
    "push-dict": lambda c, ch: c.notifications.send({"title": "x", "channels": ch}),
    "start-keyword": lambda c, ch: c.live_activities.start(content_state=_STATE, channels=ch),
    "start-dict": lambda c, ch: c.live_activities.start({"content_state": _STATE, "channels": ch}),
    "stream-keyword": lambda c, ch: c.live_activities.stream("job", content_state=_STATE, channels=ch),
    "stream-dict": lambda c, ch: c.live_activities.stream("job", {"content_state": _STATE, "channels": ch}),
    "badge-keyword": lambda c, ch: c.badge_count(3, channels=ch),
    "replace-dict": lambda c, ch: c.notifications.replace("ntf_1", {"title": "x", "channels": ch}),
    "update-dict": lambda c, ch: c.live_activities.update({"activity_id": "a", "content_state": _STATE,
                                                           "channels": ch}),
    "end-dict": lambda c, ch: c.live_activities.end({"activity_id": "a", "content_state": _STATE, "channels": ch}),
    "end-stream-dict": lambda c, ch: c.live_activities.end_stream("job", {"content_state": _STATE, "channels": ch}),
    "metric-dict": lambda c, ch: c.metrics.update("cpu", {"value": 1, "channels": ch}),
}


@pytest.mark.parametrize("channels", list(BAD_CHANNELS.values()), ids=list(BAD_CHANNELS))
@pytest.mark.parametrize("shape", list(CHANNEL_CALLS), ids=list(CHANNEL_CALLS))
async def test_non_string_channels_are_refused_on_every_endpoint(api, sim, shape: str, channels: Any) -> None:  # noqa: F811
    with pytest.raises(PayloadError) as info:
        await call(CHANNEL_CALLS[shape](api, channels))
    assert "channels" in [p.path for p in info.value.problems]
    assert sim.requests == []


TARGET_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "push": lambda c, t: c.notifications.send(title="x", target=t),
    "start": lambda c, t: c.live_activities.start(content_state=_STATE, target=t),
    "stream": lambda c, t: c.live_activities.stream("job", content_state=_STATE, target=t),
}


@pytest.mark.parametrize(("target", "path"), [({"channels": [1, 2]}, "target.channels[0]"),
                                              ({"channels": 123}, "target.channels"),
                                              ({"channels": "ops"}, "target.channels")],
                         ids=["int-list", "int", "string"])
@pytest.mark.parametrize("endpoint", list(TARGET_CALLS), ids=list(TARGET_CALLS))
async def test_non_string_target_channels_are_refused(api, sim, endpoint: str, target: Any, path: str) -> None:  # noqa: F811
    with pytest.raises(PayloadError) as info:
        await call(TARGET_CALLS[endpoint](api, target))
    assert path in [p.path for p in info.value.problems]
    assert sim.requests == []


def test_the_dispatcher_refuses_non_string_channels_in_the_callers_thread(dispatcher, sim) -> None:
    with pytest.raises(PayloadError, match="channels"):
        dispatcher.push({"title": "x", "channels": [1, 2]})
    with pytest.raises(PayloadError, match="channels"):
        dispatcher.update_stream("job", {"content_state": _STATE, "channels": 123})
    assert dispatcher.flush(timeout=5)
    assert sim.requests == []


SCRIPT_URLS = ["javascript:alert(1)", "JavaScript:alert(document.cookie)", "data:text/html,<script>x</script>",
               "vbscript:msgbox(1)", "DATA:,hi"]
URL_CALLS: dict[str, tuple[Callable[[Any, str], Any], str]] = {
    "push-redirection": (lambda c, u: c.notifications.send(title="x", redirection=u), "redirection"),
    "replace-redirection": (lambda c, u: c.notifications.replace("ntf_1", title="x", redirection=u), "redirection"),
    "push-open-url-action": (lambda c, u: c.notifications.send(
        title="x", actions=[payloads.action("Open", "open_url", u)]), "actions[0].url"),
    "push-webhook-action": (lambda c, u: c.notifications.send(
        title="x", actions=[payloads.action("Hook", "webhook", u)]), "actions[0].url"),
    "stream-action": (lambda c, u: c.live_activities.stream(
        "job", content_state=_STATE, action=payloads.action("Open", "open_url", u)), "action.url"),
    "start-secondary-action": (lambda c, u: c.live_activities.start(
        content_state={**_STATE, "type": "value", "value": 1},
        secondary_action=payloads.action("Open", "open_url", u)), "secondary_action.url"),
}


@pytest.mark.parametrize("url", SCRIPT_URLS, ids=["javascript", "javascript-mixed-case", "data", "vbscript",
                                                  "data-upper"])
@pytest.mark.parametrize("where", list(URL_CALLS), ids=list(URL_CALLS))
async def test_a_tap_never_runs_script(api, sim, where: str, url: str) -> None:  # noqa: F811
    make_call, path = URL_CALLS[where]
    with pytest.raises(PayloadError) as info:
        await call(make_call(api, url))
    assert path in [p.path for p in info.value.problems]
    assert sim.requests == []


@pytest.mark.parametrize("url", ["https://ci.example.com/runs/1", "shortcuts://run-shortcut?name=X",
                                 "spotify:track:1", "myapp://open/42", "datadog://dash"],
                         ids=["https", "shortcuts", "custom-scheme", "app-url", "scheme-starting-with-data"])
async def test_ordinary_redirections_still_go_through(api, sim, url: str) -> None:  # noqa: F811
    await call(api.notifications.send(title="x", redirection=url))
    assert [r.json for r in sim.requests] == [{"title": "x", "redirection": url}]


NOT_OBJECTS = {"string": "hi", "json-text": '{"title": "x"}', "bytes": b'{"title": "x"}', "list": [{"title": "x"}],
               "number": 3}
REQUEST_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "push": lambda c, r: c.notifications.send(r),
    "replace": lambda c, r: c.notifications.replace("ntf_1", r),
    "start": lambda c, r: c.live_activities.start(r),
    "update": lambda c, r: c.live_activities.update(r),
    "end": lambda c, r: c.live_activities.end(r),
    "stream": lambda c, r: c.live_activities.stream("job", r),
    "end_stream": lambda c, r: c.live_activities.end_stream("job", r),
}


@pytest.mark.parametrize("request_value", list(NOT_OBJECTS.values()), ids=list(NOT_OBJECTS))
@pytest.mark.parametrize("endpoint", list(REQUEST_CALLS), ids=list(REQUEST_CALLS))
async def test_a_request_that_is_not_an_object_is_a_payload_error_naming_the_request(
        api, sim, endpoint: str, request_value: Any) -> None:  # noqa: F811
    with pytest.raises(PayloadError) as info:
        await call(REQUEST_CALLS[endpoint](api, request_value))
    assert [p.path for p in info.value.problems] == ["request"]
    message = str(info.value)
    assert f"the {endpoint} request must be a dict" in message
    assert ("bytes" if isinstance(request_value, bytes) else payloads.checks.kind_of(request_value)) in message
    assert isinstance(info.value, TypeError)  # what the official SDK raises for it
    assert sim.requests == []


async def test_json_text_gets_a_hint_to_parse_it(api, sim) -> None:  # noqa: F811
    with pytest.raises(PayloadError, match=r"json\.loads"):
        await call(api.notifications.send('{"title": "x"}'))
    assert sim.requests == []


def test_one_wording_of_the_stream_key_rule() -> None:
    problem = payloads.stream_key_problem("nightly backup")
    assert problem == "may only contain letters, digits, '_' and '-'; got 'nightly backup'"
    assert [(p.path, p.message) for p in payloads.validate("stream", {"content_state": {"title": "x"}},
                                                           key="nightly backup")] == [("stream_key", problem)]
    assert payloads.stream_key_problem("k" * 256) == "must be 1-255 characters; got 256"
    assert payloads.stream_key_problem("") == "must be 1-255 characters; got 0"
    assert payloads.stream_key_problem(7) == f"must be a string of {payloads.STREAM_KEY_RULE}; got int"
    assert payloads.stream_key_problem("nightly-backup_2") is None
    assert payloads.STREAM_KEY_RULE == "1-255 characters: letters, digits, '_' and '-'"

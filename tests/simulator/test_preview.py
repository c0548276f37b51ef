"""preview.py: payload -> Lock Screen HTML, checked on structure and text (parsed, not string-matched)."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from activitysmith_jupyter.simulator import preview


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        out = list(self.text)
        for child in self.children:
            out.append(child.all_text())
        return "".join(out)

    def find_all(self, cls: str) -> list[Node]:
        found = [self] if cls in self.classes else []
        for child in self.children:
            found.extend(child.find_all(cls))
        return found

    def find(self, cls: str) -> Node:
        found = self.find_all(cls)
        assert found, f"no element with class {cls!r}"
        return found[0]

    def tags(self, tag: str) -> list[Node]:
        found = [self] if self.tag == tag else []
        for child in self.children:
            found.extend(child.tags(tag))
        return found


class _TreeBuilder(HTMLParser):
    VOID = {"br", "img", "hr", "meta", "link", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"unbalanced </{tag}> inside <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].text.append(data)


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def text_of(root: Node, cls: str) -> str:
    return root.find(cls).all_text()


# ------------------------------------------------------------------------------------ scoping
def test_css_rules_are_all_scoped_under_the_preview_class():
    style = parse(preview.render_notification({"title": "x"})).tags("style")[0].all_text()
    selectors = [rule.split("{", 1)[0].strip() for rule in style.split("}") if "{" in rule]
    assert selectors
    for selector in selectors:
        for part in selector.split(","):
            assert part.strip().startswith(f".{preview.SCOPE_CLASS}"), part


def test_wallpaper_puts_the_card_on_a_lock_screen_backdrop():
    root = parse(preview.render_notification({"title": "x"}, wallpaper=True))
    assert root.find("asj-screen").find_all("asj-notification")
    assert parse(preview.render_notification({"title": "x"})).find_all("asj-screen") == []


def test_output_is_one_balanced_root_element_with_the_scope_class():
    root = parse(preview.render_live_activity({"title": "x", "type": "progress", "percentage": 5}))
    assert len(root.children) == 1
    assert preview.SCOPE_CLASS in root.children[0].classes


def test_importing_preview_does_not_import_ipywidgets_or_ipython():
    code = ("import sys, activitysmith_jupyter.simulator.preview; "
            "bad = [m for m in ('ipywidgets', 'IPython') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_color_table_covers_exactly_the_api_colors():
    from activitysmith_jupyter.payloads import COLORS

    assert set(preview.COLOR_HEX) == set(COLORS)
    assert len(COLORS) == 10


# ----------------------------------------------------------------------------------- escaping
HOSTILE = '<script>alert("x")</script>&<b>'


@pytest.mark.parametrize("field_name", ["title", "subtitle", "message"])
def test_notification_text_is_escaped(field_name):
    markup = preview.render_notification({"title": "t", field_name: HOSTILE})
    root = parse(markup)
    assert root.tags("script") == [] and root.tags("b") == []
    assert HOSTILE in root.all_text()
    assert "<script>alert" not in markup


def test_live_activity_text_everywhere_is_escaped():
    cs = {
        "title": HOSTILE, "subtitle": HOSTILE, "message": HOSTILE, "type": "stats",
        "badge": {"title": HOSTILE}, "icon": {"symbol": HOSTILE},
        "metrics": [{"label": HOSTILE, "value": HOSTILE, "unit": HOSTILE}],
    }
    action = {"title": HOSTILE, "type": "open_url", "url": 'https://x/"><script>'}
    root = parse(preview.render_live_activity(cs, action=action))
    assert root.tags("script") == [] and root.tags("b") == []
    assert root.all_text().count(HOSTILE) >= 6
    assert root.find("asj-action").attrs["data-url"] == 'https://x/"><script>'


def test_attribute_values_are_quoted_and_escaped():
    url = 'https://cdn.example.com/a.png" onerror="alert(1)'
    root = parse(preview.render_notification({"title": "t", "media": url, "icon": url}))
    media = root.find("asj-media")
    assert media.attrs["data-url"] == url
    assert "onerror" not in media.attrs


# ------------------------------------------------------------------------------- notification
def test_notification_banner_shows_every_visible_field():
    request = {
        "title": "Homepage ready",
        "subtitle": "agent run #12",
        "message": "Your agent finished the redesign.",
        "media": "https://cdn.example.com/output/homepage-v2.png",
        "redirection": "https://github.com/acme/web/pull/482",
        "interruption_level": "time-sensitive",
        "tags": ["deploy"],
        "metadata": {"secret_internal": "history only"},
    }
    root = parse(preview.render_notification(request))
    assert text_of(root, "asj-title") == "Homepage ready"
    assert text_of(root, "asj-subtitle") == "agent run #12"
    assert text_of(root, "asj-message") == "Your agent finished the redesign."
    media = root.find("asj-media")
    assert media.attrs["data-kind"] == "image" and "homepage-v2.png" in media.all_text()
    assert "github.com/acme/web/pull/482" in text_of(root, "asj-redirection")
    assert text_of(root, "asj-level") == "Time Sensitive"
    assert "history only" not in root.all_text()  # metadata is never shown on the device
    assert root.tags("img") == []  # nothing remote is loaded


@pytest.mark.parametrize(("url", "kind"), [
    ("https://x/y.mp4", "video"), ("https://x/y.m4a", "audio"), ("https://x/y.jpg", "image"),
], ids=["video", "audio", "image"])
def test_notification_media_kind_from_extension(url, kind):
    root = parse(preview.render_notification({"title": "t", "media": url}))
    assert root.find("asj-media").attrs["data-kind"] == kind


def test_notification_action_buttons_in_order_with_type():
    actions = [
        {"title": "Open CRM", "type": "open_url", "url": "https://crm.example.com"},
        {"title": "Rerun", "type": "webhook", "url": "https://hooks.example.com/rerun", "method": "GET"},
    ]
    root = parse(preview.render_notification({"title": "t", "actions": actions}))
    buttons = root.find_all("asj-action")
    assert [b.find_all("asj-action")[0].tags("span")[0].all_text() for b in buttons] == ["Open CRM", "Rerun"]
    assert [b.attrs["data-type"] for b in buttons] == ["open_url", "webhook"]
    assert "GET" in text_of(buttons[1], "asj-button-kind")


def test_notification_without_optional_fields_has_no_empty_sections():
    root = parse(preview.render_notification({"title": "Only a title"}))
    for cls in ("asj-subtitle", "asj-message", "asj-media", "asj-redirection", "asj-actions"):
        assert root.find_all(cls) == []


# ------------------------------------------------------------------------------ live activity
def _fill_width(node: Node) -> float:
    style = node.find("asj-fill").attrs["style"]
    return float(style.split("width:", 1)[1].split("%", 1)[0])


def test_progress_percentage_bar_and_color():
    root = parse(preview.render_live_activity(
        {"title": "Training", "type": "progress", "percentage": 42, "color": "green"}))
    assert _fill_width(root) == 42.0
    assert preview.COLOR_HEX["green"] in root.find("asj-fill").attrs["style"]
    assert "42%" in text_of(root, "asj-progress-label")


@pytest.mark.parametrize("pct", [41.2, 66.7, 99.5])
def test_fractional_percentage_is_shown_once(pct):
    root = parse(preview.render_live_activity({"title": "Epochs", "type": "progress", "percentage": pct}))
    spans = [s.all_text().strip() for s in root.find("asj-progress-label").children]
    assert [s for s in spans if s] == [f"{pct}%"]  # was "41.2%" and "41%" side by side


def test_progress_value_over_upper_limit():
    root = parse(preview.render_live_activity(
        {"title": "Rows", "type": "progress", "value": 250, "upper_limit": 1000}))
    assert _fill_width(root) == 25.0
    assert "250 / 1000" in text_of(root, "asj-progress-label")
    assert "25%" in text_of(root, "asj-progress-label")  # the rounded percent beside value / upper_limit


def test_progress_percentage_wins_over_value():
    root = parse(preview.render_live_activity(
        {"title": "x", "type": "progress", "percentage": 80, "value": 1, "upper_limit": 10}))
    assert _fill_width(root) == 80.0


def test_segmented_progress_segments_and_step_colors():
    cs = {"title": "Deploy", "type": "segmented_progress", "number_of_steps": 4, "current_step": 2,
          "color": "blue", "step_colors": ["green", "red"]}
    root = parse(preview.render_live_activity(cs))
    segments = root.find_all("asj-segment")
    assert [s.attrs["data-done"] for s in segments] == ["true", "true", "false", "false"]
    assert preview.COLOR_HEX["green"] in segments[0].attrs["style"]
    assert preview.COLOR_HEX["red"] in segments[1].attrs["style"]
    assert "Step 2 of 4" in text_of(root, "asj-progress-label")


def test_metrics_bars_with_units_and_per_metric_color():
    cs = {"title": "Server", "type": "metrics", "color": "cyan", "metrics": [
        {"label": "CPU", "value": 76, "unit": "%", "color": "orange"},
        {"label": "MEM", "value": 52, "unit": "%"},
    ]}
    root = parse(preview.render_live_activity(cs))
    metrics = root.find_all("asj-metric")
    assert [text_of(m, "asj-metric-label") for m in metrics] == ["CPU", "MEM"]
    assert [text_of(m, "asj-metric-value") for m in metrics] == ["76%", "52%"]
    assert [_fill_width(m) for m in metrics] == [76.0, 52.0]
    assert preview.COLOR_HEX["orange"] in metrics[0].find("asj-fill").attrs["style"]
    assert preview.COLOR_HEX["cyan"] in metrics[1].find("asj-fill").attrs["style"]


def test_stats_grid_cells():
    cs = {"title": "Sales", "type": "stats", "metrics": [
        {"label": "Orders", "value": 128}, {"label": "Revenue", "value": "$1,240"},
        {"label": "Refunds", "value": 2.5, "unit": "k"},
    ]}
    root = parse(preview.render_live_activity(cs))
    cells = root.find_all("asj-stat")
    assert [(text_of(c, "asj-stat-label"), text_of(c, "asj-stat-value")) for c in cells] == [
        ("Orders", "128"), ("Revenue", "$1,240"), ("Refunds", "2.5k")]


@pytest.mark.parametrize(("value", "shown"), [("$1,240", "$1,240"), (9.0, "9"), (3.25, "3.25")],
                         ids=["string-kept", "integral-float", "float"])
def test_value_readout(value, shown):
    root = parse(preview.render_live_activity({"title": "MRR", "type": "value", "value": value, "color": "lime"}))
    assert text_of(root, "asj-value") == shown
    assert preview.COLOR_HEX["lime"] in root.find("asj-value").attrs["style"]


def test_alert_with_icon_badge_message_and_tinted_buttons():
    cs = {"title": "Disk almost full", "type": "alert", "message": "92% used on db-1", "color": "red",
          "icon": {"symbol": "exclamationmark.triangle.fill", "color": "yellow"},
          "badge": {"title": "SEV2", "color": "orange"}}
    root = parse(preview.render_live_activity(
        cs, action={"title": "Runbook", "type": "open_url", "url": "https://wiki"},
        secondary_action={"title": "Ack", "type": "webhook", "url": "https://hooks/ack", "method": "POST"}))
    assert text_of(root, "asj-message") == "92% used on db-1"
    icon = root.find("asj-icon")
    assert icon.attrs["data-symbol"] == "exclamationmark.triangle.fill"
    assert preview.COLOR_HEX["yellow"] in icon.attrs["style"]
    badge = root.find("asj-badge")
    assert badge.all_text() == "SEV2" and preview.COLOR_HEX["orange"] in badge.attrs["style"]
    assert "Runbook" in text_of(root, "asj-action")
    assert "Ack" in text_of(root, "asj-secondary-action")
    assert preview.COLOR_HEX["red"] in root.find("asj-action").attrs["style"]


@pytest.mark.parametrize(("cs", "clock", "note"), [
    ({"duration_seconds": 1500}, "25:00", "counts down"),
    ({"duration_seconds": 5400, "is_running": False}, "1:30:00", "counts down · paused"),
    ({"counts_down": False}, "00:00", "elapsed"),
], ids=["countdown", "paused-hours", "elapsed"])
def test_timer(cs, clock, note):
    root = parse(preview.render_live_activity({"title": "Focus", "type": "timer", **cs}))
    assert text_of(root, "asj-timer") == clock
    assert text_of(root, "asj-timer-note") == note


def test_request_body_is_accepted_and_its_actions_rendered():
    body = {"content_state": {"title": "Nightly", "type": "progress", "percentage": 10},
            "action": {"title": "Logs", "type": "open_url", "url": "https://ci"},
            "alert": {"title": "Started", "body": "nightly backup"}}
    root = parse(preview.render_live_activity(body))
    assert text_of(root, "asj-title") == "Nightly"
    assert "Logs" in text_of(root, "asj-action")
    assert "nightly backup" in text_of(root, "asj-alert-extra")


def test_ended_activity_is_marked():
    root = parse(preview.render_live_activity({"title": "x", "type": "value", "value": 1}, ended=True))
    card = root.find("asj-activity")
    assert card.attrs["data-state"] == "ended" and "asj-ended" in card.classes
    assert text_of(root, "asj-state") == "Ended"


@pytest.mark.parametrize("cs", [
    {}, {"title": None}, {"type": "progress", "percentage": "lots"}, {"type": "metrics", "metrics": "nope"},
    {"type": "segmented_progress", "number_of_steps": -3, "current_step": "x"},
    {"type": "timer", "duration_seconds": float("nan")}, {"type": "unknown-type"}, {"type": "stats", "metrics": [None, 3]},
], ids=["empty", "none-title", "bad-percentage", "bad-metrics", "bad-steps", "nan-timer", "unknown-type", "junk-metrics"])
def test_half_typed_payloads_never_raise(cs):
    parse(preview.render_live_activity(cs))


# -------------------------------------------------------------------------------- lock screen
@pytest.mark.parametrize("kind", ["segmented_progress", "progress", "metrics", "stats", "alert", "timer", "value"])
def test_every_type_renders_its_own_body(kind):
    cs = {"title": f"A {kind}", "type": kind, "percentage": 50, "number_of_steps": 3, "current_step": 1,
          "metrics": [{"label": "a", "value": 1}], "value": 7, "message": "m", "duration_seconds": 60}
    expected = {"segmented_progress": "asj-segments", "progress": "asj-bar", "metrics": "asj-metric",
                "stats": "asj-stats", "alert": "asj-message", "timer": "asj-timer", "value": "asj-value"}[kind]
    root = parse(preview.render_live_activity(cs))
    assert root.find("asj-activity").attrs["data-type"] == kind
    assert root.find_all(expected)


def test_lock_screen_lists_activities_then_newest_notification_first():
    activities = [
        {"activity_id": "a1", "stream_key": "train", "state": "active",
         "content_state": {"title": "Training", "type": "progress", "percentage": 30},
         "action": None, "secondary_action": None},
        {"activity_id": "a2", "stream_key": "etl", "state": "ended",
         "content_state": {"title": "ETL", "type": "value", "value": "done"}, "action": None, "secondary_action": None},
    ]
    notifications = [{"notification_id": "n1", "request": {"title": "first"}, "replaced": 0},
                     {"notification_id": "n2", "request": {"title": "second"}, "replaced": 1,
                      "time": "2026-11-26T03:52:00.104Z"}]
    root = parse(preview.render_lock_screen(activities, notifications))
    assert len(root.tags("style")) == 1
    cards = root.find_all("asj-activity")
    assert [text_of(c, "asj-title") for c in cards] == ["Training", "ETL"]
    assert [c.attrs["data-state"] for c in cards] == ["active", "ended"]
    notes = root.find_all("asj-notification")
    assert [text_of(n, "asj-title") for n in notes] == ["second", "first"]
    assert text_of(notes[0], "asj-when") == "03:52 · replaced"
    assert text_of(notes[1], "asj-when") == "now"


def test_empty_lock_screen_says_so():
    root = parse(preview.render_lock_screen([], []))
    assert [n.all_text() for n in root.find_all("asj-empty")] == ["No Live Activities", "No notifications"]


# ------------------------------------------------------------------------- the simulator page
def _get(url: str) -> tuple[int, str, str]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return response.status, response.headers.get("content-type", ""), response.read().decode("utf-8")


def test_simulator_page_shows_lock_screen_and_history_over_http(client, server):
    client.notifications.send({"title": "Backup <done>", "message": "42 GB"})
    client.live_activities.stream("train-1", {"content_state": {"title": "Training", "type": "progress",
                                                                "percentage": 30, "color": "green"}})
    status, content_type, page = _get(server.url + "/")
    assert status == 200 and content_type.startswith("text/html")
    root = parse(page.split("<!doctype html>", 1)[1])
    phone = root.find_all("asj-screen")[0]
    [activity] = phone.find_all("asj-activity")
    assert text_of(activity, "asj-title") == "Training" and _fill_width(activity) == 30.0
    assert [text_of(n, "asj-title") for n in phone.find_all("asj-notification")] == ["Backup <done>"]
    assert root.tags("script")[0].all_text().count("/_sim/state") == 1
    assert "Training" in page and "started" in page  # the event log


def test_simulator_page_polls_state_and_rerenders():
    from activitysmith_jupyter.simulator import page

    script = page._SCRIPT % {"interval": page.POLL_INTERVAL_MS}
    assert "fetch('/_sim/state'" in script and "fetch('/'" in script
    assert page.POLL_INTERVAL_MS == 1000


def test_simulator_page_never_contains_the_api_key(clock):
    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.simulator import Simulator
    from activitysmith_jupyter.simulator.page import render_page

    secret = "ask_secret_for_page_test"
    sim = Simulator(api_key=secret, clock=clock)
    with ActivitySmith(api_key=secret, transport=sim.transport()) as keyed:
        keyed.notifications.send({"title": "hello"})
        keyed.live_activities.stream("k", {"content_state": {"title": "t", "type": "value", "value": 1}})
    markup = render_page(sim)
    assert secret not in markup and "hello" in markup


def test_simulator_page_marks_ended_activities(client, sim):
    from activitysmith_jupyter.simulator.page import render_page

    client.live_activities.stream("etl", {"content_state": {"title": "ETL", "type": "value", "value": "3 rows"}})
    client.live_activities.end_stream("etl", {"content_state": {"title": "ETL", "type": "value", "value": "done",
                                                                "auto_dismiss_minutes": 5}})
    root = parse(render_page(sim).split("<!doctype html>", 1)[1])
    [card] = root.find_all("asj-activity")
    assert card.attrs["data-state"] == "ended" and text_of(card, "asj-value") == "done"

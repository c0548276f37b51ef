"""Differential test: the official SDK 1.14.0 and our client, called the same way (the SDK README's
keyword-style examples and helpers), send the same JSON. The SDK talks HTTP to the simulator's
loopback server; ours talks to the same simulator (over HTTP for sync, in-process for async).
"""
from __future__ import annotations

import datetime as dt
import types
from collections.abc import Callable
from typing import Any

import pytest
from _wire_compare import same_json, without_sdk_defaults

activitysmith = pytest.importorskip("activitysmith")

from activitysmith_openapi.exceptions import ApiException  # noqa: E402

from activitysmith_jupyter import payloads  # noqa: E402
from activitysmith_jupyter.api.client import ActivitySmith, AsyncActivitySmith  # noqa: E402
from activitysmith_jupyter.errors import ActivitySmithError  # noqa: E402

KEY = "test-key"
SDK_HELPERS = types.SimpleNamespace(content_state=activitysmith.content_state, metric=activitysmith.metric,
                                    action=activitysmith.action, alert_icon=activitysmith.alert_icon,
                                    alert_badge=activitysmith.alert_badge)
OUR_HELPERS = types.SimpleNamespace(content_state=payloads.content_state, metric=payloads.metric,
                                    action=payloads.action, alert_icon=payloads.alert_icon,
                                    alert_badge=payloads.alert_badge)

# An example: (client, helpers, ids) -> the call's result (a coroutine for the async client).
# `ids` carries ids created by the test's setup (a notification id, an activity id).
Example = Callable[[Any, Any, dict[str, str]], Any]

WEBHOOK_BODY = {"approval_id": "approval_01JY3J7Q9S0P8M1V5PZK7DR4M2", "decision": "send"}


def _server_metrics(h: Any, cpu: float, mem: float) -> dict[str, Any]:
    return h.content_state(title="Server Health", subtitle="prod-web-1", type="metrics",
                           metrics=[h.metric(label="CPU", value=cpu, unit="%"), h.metric(label="MEM", value=mem, unit="%")])


EXAMPLES: dict[str, Example] = {
    # --- push notifications (keyword style)
    "push_keywords": lambda c, h, ids: c.notifications.send(
        title="New subscription 💸", message="Customer upgraded to Pro plan"),
    "push_icon": lambda c, h, ids: c.notifications.send(
        title="MRR just crossed $10,000 🎉", message="Up 18% this month from 31 new subscriptions.",
        icon="https://cdn.activitysmith.com/integrations/icons/stripe.png"),
    "push_media": lambda c, h, ids: c.notifications.send(
        title="Homepage ready", message="Your agent finished the redesign.",
        media="https://cdn.example.com/output/homepage-v2.png"),
    "push_redirection": lambda c, h, ids: c.notifications.send(
        title="Homepage ready", message="Your agent finished the redesign.",
        redirection="https://github.com/acme/web/pull/482"),
    "push_actions_helpers": lambda c, h, ids: c.notifications.send(
        title="New subscription 💸", message="Customer upgraded to Pro plan",
        actions=[
            h.action(title="Open CRM", type="open_url", url="https://crm.example.com/customers/cus_9f3a1d"),
            h.action(title="Chat with Jarvis", type="open_url", url="shortcuts://run-shortcut?name=Jarvis"),
            h.action(title="Start Onboarding Workflow", type="webhook",
                     url="https://hooks.example.com/activitysmith/onboarding/start", method="POST",
                     body={"customer_id": "cus_9f3a1d", "plan": "pro"}),
        ]),
    "push_passive": lambda c, h, ids: c.notifications.send(
        title="Daily summary", message="All scheduled jobs completed successfully.", interruption_level="passive"),
    "push_active": lambda c, h, ids: c.notifications.send(
        title="Deployment complete", message="Your latest changes are live.", interruption_level="active"),
    "push_time_sensitive": lambda c, h, ids: c.notifications.send(
        title="🚨 checkout-api is down", message="500 errors on 62% of requests. Customers can't complete payments.",
        interruption_level="time-sensitive"),
    "push_metadata": lambda c, h, ids: c.notifications.send(
        title="New subscription 💸", message="Customer upgraded to Pro plan",
        metadata={"customer_id": "382", "plan": "Pro", "amount": 29, "trial": False}),
    "push_tags": lambda c, h, ids: c.notifications.send(
        title="New subscription 💸", message="Customer upgraded to Pro plan", tags=["user:382", "billing"]),
    "push_channels_list": lambda c, h, ids: c.notifications.send(
        title="New subscription 💸", message="Customer upgraded to Pro plan", channels=["sales", "customer-success"]),
    "push_channels_comma_string": lambda c, h, ids: c.notifications.send(
        title="Heads up", channels=" sales, customer-success ,, "),
    "push_channels_with_target_drops_channels": lambda c, h, ids: c.notifications.send(
        {"title": "Both"}, target={"channels": ["ops"]}, channels=["sales"]),
    "push_dict_merged_with_keywords": lambda c, h, ids: c.notifications.send(
        {"title": "Old", "message": "kept"}, title="New"),
    "push_alias_send_push_notification": lambda c, h, ids: c.notifications.send_push_notification(
        {"title": "Via alias", "message": "generated-style name"}),
    "replace_keywords": lambda c, h, ids: c.notifications.replace(
        ids["notification_id"], title="✅ checkout-api recovered",
        message="Error rate is back to normal. Incident resolved."),
    "replace_alias": lambda c, h, ids: c.notifications.replace_push_notification(
        ids["notification_id"], {"title": "Replaced via alias", "tags": []}),
    # --- Live Activity streams: all seven types with the helpers
    "stream_value": lambda c, h, ids: c.live_activities.stream(
        "revenue-today", content_state=h.content_state(
            title="Revenue", type="value", value="$1,240", color="green",
            icon=h.alert_icon("dollarsign.circle", color="green"), badge=h.alert_badge("↑ 18%", color="purple"))),
    "stream_value_number": lambda c, h, ids: c.live_activities.stream(
        "queue-depth", content_state=h.content_state(title="Queue", type="value", value=1200)),
    "stream_stats": lambda c, h, ids: c.live_activities.stream(
        "sales-hourly", content_state=h.content_state(
            title="Sales", subtitle="last hour", type="stats",
            metrics=[h.metric(label="Revenue", value="$2430", color="blue"),
                     h.metric(label="Orders", value="37", color="green"),
                     h.metric(label="Conversion", value="4.8%", color="magenta"),
                     h.metric(label="Avg Order", value="$65.68", color="yellow"),
                     h.metric(label="Refunds", value="$84", color="red"),
                     h.metric(label="New Buyers", value="18", color="cyan")])),
    "stream_alert": lambda c, h, ids: c.live_activities.stream(
        "customer-ops", content_state=h.content_state(
            title="Reactivation", message="Lumen came back after 2 weeks", type="alert",
            icon=h.alert_icon("cloud.sun", color="yellow"), badge=h.alert_badge("Customer", color="magenta"))),
    "stream_metrics": lambda c, h, ids: c.live_activities.stream("prod-web-1", content_state=_server_metrics(h, 9, 45)),
    "stream_segmented_progress": lambda c, h, ids: c.live_activities.stream(
        "nightly-backup", content_state=h.content_state(
            title="Nightly Backup", subtitle="upload archive", type="segmented_progress",
            number_of_steps=3, current_step=2)),
    "stream_progress": lambda c, h, ids: c.live_activities.stream(
        "search-reindex", content_state=h.content_state(
            title="Search Reindex", subtitle="catalog-v2", type="progress", percentage=42)),
    "stream_timer": lambda c, h, ids: c.live_activities.stream(
        "benchmark-run", content_state=h.content_state(
            title="Benchmark Run", subtitle="sampling", type="timer", duration_seconds=300, color="cyan")),
    "stream_timer_counting_up": lambda c, h, ids: c.live_activities.stream(
        "uptime-clock", content_state=h.content_state(title="Job running", type="timer", counts_down=False)),
    "stream_icon_type_constant": lambda c, h, ids: c.live_activities.stream(
        "prod-web-1", content_state=h.content_state(
            title="Server Health", subtitle="prod-web-1", type=c.live_activities.TYPE_METRICS,
            icon=h.alert_icon("server.rack", color="blue"),
            metrics=[h.metric(label="CPU", value=18, unit="%"), h.metric(label="MEM", value=42, unit="%")])),
    "stream_badge_type_constant": lambda c, h, ids: c.live_activities.stream(
        "nightly-database-backup", content_state=h.content_state(
            title="Nightly Database Backup", subtitle="verify restore", type=c.live_activities.TYPE_PROGRESS,
            badge=h.alert_badge("S3", color="cyan"), percentage=62)),
    "stream_open_url_action": lambda c, h, ids: c.live_activities.stream(
        "prod-web-1", content_state=_server_metrics(h, 76, 52),
        action=h.action(title="Dashboard", type="open_url", url="https://status.example.com/servers/prod-web-1")),
    "stream_shortcut_action": lambda c, h, ids: c.live_activities.stream(
        "prod-web-1", content_state=_server_metrics(h, 76, 52),
        action=h.action(title="Chat with Jarvis", type="open_url", url="shortcuts://run-shortcut?name=Jarvis")),
    "stream_webhook_action": lambda c, h, ids: c.live_activities.stream(
        "search-reindex", content_state=h.content_state(
            title="Reindexing product search", subtitle="Shard 7 of 12", type="segmented_progress",
            number_of_steps=12, current_step=7),
        action=h.action(title="Pause Reindex", type="webhook", url="https://ops.example.com/hooks/search/reindex/pause",
                        method="POST", body={"job_id": "reindex-2026-03-19", "requested_by": "activitysmith-python"})),
    "stream_secondary_action": lambda c, h, ids: c.live_activities.stream(
        "agent-approval", content_state=h.content_state(
            title="Approval Needed", message="Should I send the follow-up email to Brightlane?", type="alert",
            color="green", icon=h.alert_icon("sparkles", color="green"), badge=h.alert_badge("Agent", color="green")),
        action=h.action(title="Send", type="webhook", url="https://agent.example.com/live-activity/approve",
                        method="POST", body=WEBHOOK_BODY),
        secondary_action=h.action(title="Deny", type="webhook", url="https://agent.example.com/live-activity/deny",
                                  method="POST", body={**WEBHOOK_BODY, "decision": "deny"})),
    "stream_keywords_metadata": lambda c, h, ids: c.live_activities.stream(
        "customer-import", title="Customer Import", type="progress", percentage=60,
        metadata={"job_id": "import-382", "records": 1200}),
    "stream_channels": lambda c, h, ids: c.live_activities.stream(
        "nightly-backup", content_state=h.content_state(
            title="Nightly database backup", type="segmented_progress", number_of_steps=3, current_step=1),
        channels=["ios-builds"]),
    "stream_channels_and_target_both_sent": lambda c, h, ids: c.live_activities.stream(
        "both-targets", {"content_state": {"title": "T", "type": "progress", "percentage": 1}},
        target={"channels": ["ops"]}, channels=["ops"]),
    "stream_tags_dict_and_keywords": lambda c, h, ids: c.live_activities.stream(
        "tagged", {"content_state": {"title": "Tagged", "type": "progress", "percentage": 1}},
        percentage=2, tags=["etl", "nightly"]),
    "stream_alias_reconcile": lambda c, h, ids: c.live_activities.reconcile_live_activity_stream(
        "alias-stream", {"content_state": {"title": "Alias", "type": "value", "value": 3}}),
    # --- ending streams
    "end_stream_auto_dismiss_seconds_in_content_state": lambda c, h, ids: c.live_activities.end_stream(
        "prod-web-1", content_state=h.content_state(
            title="Server Health", subtitle="prod-web-1", type="metrics",
            metrics=[h.metric(label="CPU", value=7, unit="%"), h.metric(label="MEM", value=38, unit="%")],
            auto_dismiss_seconds=30)),
    "end_stream_auto_dismiss_minutes_keyword": lambda c, h, ids: c.live_activities.end_stream(
        "prod-web-1", title="Server Health", auto_dismiss_minutes=0),
    "end_stream_without_body": lambda c, h, ids: c.live_activities.end_stream("prod-web-1"),
    "end_stream_alias": lambda c, h, ids: c.live_activities.end_live_activity_stream(
        "prod-web-1", {"content_state": {"title": "Done"}, "tags": []}),
    # --- legacy lifecycle
    "start_keywords_channels": lambda c, h, ids: c.live_activities.start(
        title="Deploy", type="segmented_progress", number_of_steps=4, current_step=1, color="blue",
        channels="devs, ops", tags=["deploy"]),
    "start_alias_with_action": lambda c, h, ids: c.live_activities.start_live_activity(
        {"content_state": {"title": "Charging", "type": "progress", "percentage": 15}},
        action=h.action("Open", "open_url", "https://example.com")),
    "update_tags_cleared": lambda c, h, ids: c.live_activities.update(
        activity_id=ids["activity_id"], title="Customer Import", percentage=60, tags=[]),
    "update_alias": lambda c, h, ids: c.live_activities.update_live_activity(
        {"activity_id": ids["activity_id"], "content_state": {"title": "Halfway", "percentage": 50}}),
    "end_keywords_auto_dismiss": lambda c, h, ids: c.live_activities.end(
        activity_id=ids["activity_id"], title="Done", percentage=100, auto_dismiss_minutes=1),
    "end_default_auto_dismiss": lambda c, h, ids: c.live_activities.end_live_activity(
        {"activity_id": ids["activity_id"], "content_state": {"title": "Done", "current_step": 3}}),
    # --- metrics and badge
    "metric_number": lambda c, h, ids: c.metrics.update("deploy.success_rate", 99.9),
    "metric_string": lambda c, h, ids: c.metrics.update("prod.status", "healthy"),
    "metric_timestamp_string": lambda c, h, ids: c.metrics.update("deploy.success_rate", 97, "2026-03-19T08:00:00Z"),
    "metric_timestamp_datetime": lambda c, h, ids: c.metrics.update(
        "deploy.success_rate", 98.5, dt.datetime(2026, 3, 19, 8, 30, tzinfo=dt.timezone.utc)),
    "metric_request_dict": lambda c, h, ids: c.metrics.update("signups.today", {"value": 42}),
    "metric_alias": lambda c, h, ids: c.metrics.update_metric_value("signups.today", {"value": "42 new"}),
    "badge_count": lambda c, h, ids: c.badge_count(8333),
    "badge_clear": lambda c, h, ids: c.badge_count(0),
    "badge_channels": lambda c, h, ids: c.badge_count(3, channels=["sales", "customer-success"]),
}

# Examples acting on something that must exist first: the setup runs on our client before both calls.
NEEDS_NOTIFICATION = {"replace_keywords", "replace_alias"}
NEEDS_ACTIVITY = {"update_tags_cleared", "update_alias", "end_keywords_auto_dismiss", "end_default_auto_dismiss"}


def _setup(name: str, ours: ActivitySmith) -> dict[str, str]:
    ids: dict[str, str] = {}
    if name in NEEDS_NOTIFICATION:
        ids["notification_id"] = ours.notifications.send(title="🚨 checkout-api is down").notification_id
    if name in NEEDS_ACTIVITY:
        ids["activity_id"] = ours.live_activities.start(title="Import", type="progress", percentage=1).activity_id
    if name.startswith("end_stream"):
        ours.live_activities.stream("prod-web-1", title="Server Health", type="progress", percentage=5)
    return ids


def _assert_same_body(name: str, sdk_request, our_request) -> None:
    assert (our_request.method, our_request.path) == (sdk_request.method, sdk_request.path)
    legacy_end = sdk_request.path == "/live-activity/end"
    sdk_body = without_sdk_defaults(sdk_request.json, legacy_end=legacy_end)
    our_body = without_sdk_defaults(our_request.json, legacy_end=legacy_end)
    assert same_json(our_body, sdk_body), f"{name}:\n ours={our_request.json}\n  sdk={sdk_request.json}"
    assert our_request.headers["content-type"] == sdk_request.headers["content-type"] == "application/json"
    assert our_request.headers["authorization"] == sdk_request.headers["authorization"] == f"Bearer {KEY}"


def _call_sdk(sdk, example: Example, ids: dict[str, str], sim):
    before = len(sim.requests)
    try:
        example(sdk, SDK_HELPERS, ids)
    except (ApiException, ValueError):
        pass  # the SDK raises on non-2xx: only the recorded request matters here
    assert len(sim.requests) == before + 1, "the SDK call must send exactly one request"
    return sim.requests[-1]


@pytest.mark.parametrize("name", list(EXAMPLES), ids=list(EXAMPLES))
def test_sdk_and_client_send_the_same_body(name: str, sdk, server, sim) -> None:
    with ActivitySmith(KEY, base_url=server.url, max_retries=0) as ours:
        ids = _setup(name, ours)
        sdk_request = _call_sdk(sdk, EXAMPLES[name], ids, sim)
        if name.startswith("end_stream"):
            _setup(name, ours)
        before = len(sim.requests)
        try:
            EXAMPLES[name](ours, OUR_HELPERS, ids)
        except ActivitySmithError:
            pass
        assert len(sim.requests) == before + 1
        _assert_same_body(name, sdk_request, sim.requests[-1])


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(EXAMPLES), ids=list(EXAMPLES))
async def test_sdk_and_async_client_send_the_same_body(name: str, sdk, server, sim) -> None:
    with ActivitySmith(KEY, transport=sim.transport()) as setup_client:
        ids = _setup(name, setup_client)
        sdk_request = _call_sdk(sdk, EXAMPLES[name], ids, sim)
        if name.startswith("end_stream"):
            _setup(name, setup_client)
    async with AsyncActivitySmith(KEY, transport=sim.transport(), max_retries=0) as ours:
        before = len(sim.requests)
        try:
            await EXAMPLES[name](ours, OUR_HELPERS, ids)
        except ActivitySmithError:
            pass
        assert len(sim.requests) == before + 1
        _assert_same_body(name, sdk_request, sim.requests[-1])

"""The resources of both clients (``client.notifications``, ``.live_activities``, ``.metrics``).

Each method names its endpoint and hands the prepared call to the client's ``_execute``; the resources
depend on that one method (a Protocol), not on the client classes. The SDK's generated-style method
names are aliases. The typed result of each call is its response class.
"""
from __future__ import annotations

from typing import Any, Protocol, cast

from . import requests as rq
from .. import payloads
from ..responses import (
    APIObject,
    LiveActivityEndResponse,
    LiveActivityStartResponse,
    LiveActivityStreamDeleteResponse,
    LiveActivityStreamPutResponse,
    LiveActivityUpdateResponse,
    MetricValueUpdateResponse,
    PushNotificationReplaceResponse,
    PushNotificationResponse,
)

__all__ = [
    "AsyncLiveActivities",
    "AsyncMetrics",
    "AsyncNotifications",
    "LiveActivities",
    "Metrics",
    "Notifications",
]


class SyncExecutor(Protocol):
    def _execute(self, prepared: rq.PreparedRequest) -> APIObject: ...


class AsyncExecutor(Protocol):
    async def _execute(self, prepared: rq.PreparedRequest) -> APIObject: ...


# ------------------------------------------------------------------------------------- sync


class Notifications:
    """Push notifications: `send` and `replace` (plus the SDK's generated-style aliases)."""

    def __init__(self, client: SyncExecutor) -> None:
        self._client = client

    def send(self, request: Any = None, **fields: Any) -> PushNotificationResponse:
        return cast(PushNotificationResponse, self._client._execute(rq.build("push", request, fields)))

    def send_push_notification(self, push_notification_request: Any = None, **fields: Any) -> PushNotificationResponse:
        return self.send(push_notification_request, **fields)

    def replace(self, notification_id: str, request: Any = None, **fields: Any) -> PushNotificationReplaceResponse:
        return cast(PushNotificationReplaceResponse,
                    self._client._execute(rq.build("replace", request, fields, key=notification_id)))

    def replace_push_notification(self, notification_id: str, push_notification_replace_request: Any = None,
                                  **fields: Any) -> PushNotificationReplaceResponse:
        return self.replace(notification_id, push_notification_replace_request, **fields)


class _LiveActivityHelpers:
    """The SDK resource's type constants and helpers (the values and helpers live in payloads)."""

    (TYPE_SEGMENTED_PROGRESS, TYPE_PROGRESS, TYPE_METRICS, TYPE_STATS,
     TYPE_ALERT, TYPE_TIMER, TYPE_VALUE) = payloads.TYPES

    metric = staticmethod(payloads.metric)
    alert_icon = staticmethod(payloads.alert_icon)
    alert_badge = staticmethod(payloads.alert_badge)
    action = staticmethod(payloads.action)
    content_state = staticmethod(payloads.content_state)


class LiveActivities(_LiveActivityHelpers):
    """Live Activities: managed streams (`stream`/`end_stream`) and the legacy start/update/end."""

    def __init__(self, client: SyncExecutor) -> None:
        self._client = client

    def stream(self, stream_key: str, request: Any = None, **fields: Any) -> LiveActivityStreamPutResponse:
        return cast(LiveActivityStreamPutResponse,
                    self._client._execute(rq.build("stream", request, fields, key=stream_key)))

    def end_stream(self, stream_key: str, request: Any = None, **fields: Any) -> LiveActivityStreamDeleteResponse:
        return cast(LiveActivityStreamDeleteResponse,
                    self._client._execute(rq.build("end_stream", request, fields, key=stream_key)))

    def start(self, request: Any = None, **fields: Any) -> LiveActivityStartResponse:
        return cast(LiveActivityStartResponse, self._client._execute(rq.build("start", request, fields)))

    def update(self, request: Any = None, **fields: Any) -> LiveActivityUpdateResponse:
        return cast(LiveActivityUpdateResponse, self._client._execute(rq.build("update", request, fields)))

    def end(self, request: Any = None, **fields: Any) -> LiveActivityEndResponse:
        return cast(LiveActivityEndResponse, self._client._execute(rq.build("end", request, fields)))

    # the official SDK's backward-compatible aliases
    def reconcile_live_activity_stream(self, stream_key: str, live_activity_stream_request: Any = None,
                                       **fields: Any) -> LiveActivityStreamPutResponse:
        return self.stream(stream_key, live_activity_stream_request, **fields)

    def end_live_activity_stream(self, stream_key: str, live_activity_stream_delete_request: Any = None,
                                 **fields: Any) -> LiveActivityStreamDeleteResponse:
        return self.end_stream(stream_key, live_activity_stream_delete_request, **fields)

    def start_live_activity(self, live_activity_start_request: Any = None, **fields: Any) -> LiveActivityStartResponse:
        return self.start(live_activity_start_request, **fields)

    def update_live_activity(self, live_activity_update_request: Any = None, **fields: Any) -> LiveActivityUpdateResponse:
        return self.update(live_activity_update_request, **fields)

    def end_live_activity(self, live_activity_end_request: Any = None, **fields: Any) -> LiveActivityEndResponse:
        return self.end(live_activity_end_request, **fields)


class Metrics:
    """Lock Screen widget metrics."""

    def __init__(self, client: SyncExecutor) -> None:
        self._client = client

    def update(self, key: str, value_or_request: Any, timestamp: Any = None) -> MetricValueUpdateResponse:
        return cast(MetricValueUpdateResponse,
                    self._client._execute(rq.build("metric", value_or_request, {"timestamp": timestamp}, key=key)))

    def update_metric_value(self, key: str, metric_value_update_request: Any) -> MetricValueUpdateResponse:
        return self.update(key, metric_value_update_request)


# ------------------------------------------------------------------------------------ async


class AsyncNotifications:
    """Push notifications (async)."""

    def __init__(self, client: AsyncExecutor) -> None:
        self._client = client

    async def send(self, request: Any = None, **fields: Any) -> PushNotificationResponse:
        return cast(PushNotificationResponse, await self._client._execute(rq.build("push", request, fields)))

    async def send_push_notification(self, push_notification_request: Any = None, **fields: Any) -> PushNotificationResponse:
        return await self.send(push_notification_request, **fields)

    async def replace(self, notification_id: str, request: Any = None, **fields: Any) -> PushNotificationReplaceResponse:
        return cast(PushNotificationReplaceResponse,
                    await self._client._execute(rq.build("replace", request, fields, key=notification_id)))

    async def replace_push_notification(self, notification_id: str, push_notification_replace_request: Any = None,
                                        **fields: Any) -> PushNotificationReplaceResponse:
        return await self.replace(notification_id, push_notification_replace_request, **fields)


class AsyncLiveActivities(_LiveActivityHelpers):
    """Live Activities (async)."""

    def __init__(self, client: AsyncExecutor) -> None:
        self._client = client

    async def stream(self, stream_key: str, request: Any = None, **fields: Any) -> LiveActivityStreamPutResponse:
        return cast(LiveActivityStreamPutResponse,
                    await self._client._execute(rq.build("stream", request, fields, key=stream_key)))

    async def end_stream(self, stream_key: str, request: Any = None, **fields: Any) -> LiveActivityStreamDeleteResponse:
        return cast(LiveActivityStreamDeleteResponse,
                    await self._client._execute(rq.build("end_stream", request, fields, key=stream_key)))

    async def start(self, request: Any = None, **fields: Any) -> LiveActivityStartResponse:
        return cast(LiveActivityStartResponse, await self._client._execute(rq.build("start", request, fields)))

    async def update(self, request: Any = None, **fields: Any) -> LiveActivityUpdateResponse:
        return cast(LiveActivityUpdateResponse, await self._client._execute(rq.build("update", request, fields)))

    async def end(self, request: Any = None, **fields: Any) -> LiveActivityEndResponse:
        return cast(LiveActivityEndResponse, await self._client._execute(rq.build("end", request, fields)))

    async def reconcile_live_activity_stream(self, stream_key: str, live_activity_stream_request: Any = None,
                                             **fields: Any) -> LiveActivityStreamPutResponse:
        return await self.stream(stream_key, live_activity_stream_request, **fields)

    async def end_live_activity_stream(self, stream_key: str, live_activity_stream_delete_request: Any = None,
                                       **fields: Any) -> LiveActivityStreamDeleteResponse:
        return await self.end_stream(stream_key, live_activity_stream_delete_request, **fields)

    async def start_live_activity(self, live_activity_start_request: Any = None, **fields: Any) -> LiveActivityStartResponse:
        return await self.start(live_activity_start_request, **fields)

    async def update_live_activity(self, live_activity_update_request: Any = None, **fields: Any) -> LiveActivityUpdateResponse:
        return await self.update(live_activity_update_request, **fields)

    async def end_live_activity(self, live_activity_end_request: Any = None, **fields: Any) -> LiveActivityEndResponse:
        return await self.end(live_activity_end_request, **fields)


class AsyncMetrics:
    """Lock Screen widget metrics (async)."""

    def __init__(self, client: AsyncExecutor) -> None:
        self._client = client

    async def update(self, key: str, value_or_request: Any, timestamp: Any = None) -> MetricValueUpdateResponse:
        return cast(MetricValueUpdateResponse,
                    await self._client._execute(rq.build("metric", value_or_request, {"timestamp": timestamp}, key=key)))

    async def update_metric_value(self, key: str, metric_value_update_request: Any) -> MetricValueUpdateResponse:
        return await self.update(key, metric_value_update_request)

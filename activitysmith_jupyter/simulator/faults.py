"""Fault injection: scripted failures matched by method and path prefix, consumed `times` times."""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from .records import SimResponse, json_response

__all__ = ["Fault", "FaultSet", "default_error_body"]

_ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 402: "trial_expired", 403: "forbidden", 404: "not_found",
    409: "conflict", 422: "no_recipients", 429: "rate_limited", 500: "internal_error",
    502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}


def default_error_body(status: int) -> dict[str, Any]:
    """A plausible ActivitySmith error body for an injected status (§8 of the API doc)."""
    code = _ERROR_CODES.get(status, "error")
    body: dict[str, Any] = {"error": code, "message": f"Simulated {status} response (injected fault)."}
    if status == 402:
        body["upgrade_url"] = "https://activitysmith.com/pricing"
    if status == 429:
        body["code"] = "rate_limited"
    return body


@dataclass(kw_only=True)
class Fault:
    """One scripted failure, built with keywords. `times=None` matches forever."""

    status: int | None = None
    times: int | None = 1
    method: str | None = None
    path: str | None = None
    retry_after: float | None = None
    body: Any = None
    drop: bool = False
    refuse: bool = False
    delay: float = 0.0
    malformed: bool = False

    def error_response(self) -> SimResponse:
        """The scripted status with its body (or a default error body) and optional Retry-After."""
        assert self.status is not None
        payload = self.body if self.body is not None else default_error_body(self.status)
        extra = {"retry-after": f"{self.retry_after:g}"} if self.retry_after is not None else {}
        return json_response(self.status, payload, extra)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or path.startswith(self.path)


class FaultSet:
    """Ordered list of faults; `take` consumes the first match. Guarded by `lock` (the simulator
    passes its own, so taking a fault and answering the request happen under one lock)."""

    def __init__(self, lock: AbstractContextManager[Any]) -> None:
        self._faults: list[Fault] = []
        self._lock = lock

    def add(self, fault: Fault) -> Fault:
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None")
        if fault.status is not None and not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if fault.delay < 0:
            raise ValueError("delay must be >= 0")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

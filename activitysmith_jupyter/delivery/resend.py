"""What the dispatcher does after a failed send: a pure decision, no I/O, no threads.

The dispatcher's sends are **at least once** (a rare duplicate "finished" beats a missing one):

* 408, 429 and 5xx answers are sent again (the server says it did not act);
* a connection that could not be made, dropped after sending, or timed out is sent again (the server
  may have acted: for a push that risks a duplicate, which is accepted);
* a 401 stops the dispatcher (a bad key will not heal); other 4xx answers are given up (the request
  is refused for good, sending it again changes nothing);
* a 2xx whose body cannot be read (the server acted, we cannot see how) counts as delivered;
* a Live Activity limit answer (the device shows 4 already) makes a start wait for a free slot.

Waits come from the one backoff function, `_retry.exponential_backoff`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ..api.retry import MAX_RETRY_AFTER, Failure, classify_failure, exponential_backoff
from ..errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    LiveActivityLimitError,
    NotFoundError,
    RateLimitError,
)

__all__ = ["LIVE_ACTIVITY_LIMIT_BACKOFF", "MAX_BACKOFF", "Notice", "Plan", "Verdict", "notice", "plan_failure"]

# Seconds between two attempts of one background send, at most (1, 2, 4, 8, 16, 30, 30 ...). The client's own
# retries (api/retry.py, MAX_RETRY_DELAY = 8 s) are for direct calls; the dispatcher makes one attempt per
# call and waits on this plan instead.
MAX_BACKOFF = 30.0
LIVE_ACTIVITY_LIMIT_BACKOFF = 15.0  # device full (4 activities): ask again no sooner than this


class Verdict(enum.Enum):
    RETRY = "retry"  # send it again after `delay`
    WAIT_FOR_SLOT = "wait_for_slot"  # a start the device had no room for: again when a slot frees
    DELIVERED = "delivered"  # it took effect although the answer was an error
    GIVE_UP = "give_up"  # refused for good
    STOP = "stop"  # the API key was refused: send nothing more


@dataclass(frozen=True, kw_only=True)
class Plan:
    verdict: Verdict
    delay: float = 0.0
    reached: bool = True  # the request reached the server (it counts against the budget)
    throttled: bool = False  # a 429: pause every send for `delay`, and log it quietly


def _failure(exc: APIConnectionError) -> Failure:
    """How the connection failed; the transport's exception travels as ``__cause__``."""
    cause = exc.__cause__
    if cause is not None:
        return classify_failure(cause)
    return Failure.TIMEOUT if isinstance(exc, APITimeoutError) else Failure.DROPPED


def plan_failure(kind: str, exc: BaseException, *, attempts: int, ambiguous: bool, throttled: int) -> Plan:
    """The plan after `exc` ended one attempt of a job.

    kind: "update" (a stream PUT), "end" (a stream DELETE) or "push". attempts: earlier attempts of
    this job. ambiguous: an earlier attempt may have reached the server. throttled: 429 answers in a
    row, across every job (a storm of ``Retry-After: 0`` still backs off).
    """
    backoff = exponential_backoff(attempts, base=1.0, cap=MAX_BACKOFF)
    if isinstance(exc, AuthenticationError):
        return Plan(verdict=Verdict.STOP)
    if isinstance(exc, LiveActivityLimitError):
        if kind == "update":
            return Plan(verdict=Verdict.WAIT_FOR_SLOT, delay=max(backoff, LIVE_ACTIVITY_LIMIT_BACKOFF))
        return Plan(verdict=Verdict.RETRY, delay=max(backoff, LIVE_ACTIVITY_LIMIT_BACKOFF))
    if isinstance(exc, RateLimitError):
        storm = exponential_backoff(throttled, base=1.0, cap=MAX_BACKOFF)
        after = min(exc.retry_after, MAX_RETRY_AFTER) if exc.retry_after is not None else 0.0
        return Plan(verdict=Verdict.RETRY, delay=max(after, storm), throttled=True)
    if isinstance(exc, APIError):
        if 200 <= exc.status < 300:  # an answer we cannot read: the server acted
            return Plan(verdict=Verdict.DELIVERED)
        if kind == "end" and ambiguous and isinstance(exc, NotFoundError):
            return Plan(verdict=Verdict.DELIVERED)  # an earlier attempt ended it, its answer was lost
        if exc.status == 408 or exc.status >= 500:
            return Plan(verdict=Verdict.RETRY, delay=backoff)
        return Plan(verdict=Verdict.GIVE_UP)
    if isinstance(exc, APIConnectionError):
        failure = _failure(exc)
        if failure is Failure.OTHER:  # a local problem (protocol, proxy set-up) that waiting will not fix
            return Plan(verdict=Verdict.GIVE_UP, reached=False)
        return Plan(verdict=Verdict.RETRY, delay=backoff, reached=failure is not Failure.NOT_SENT)
    return Plan(verdict=Verdict.GIVE_UP, reached=False)


@dataclass(frozen=True, kw_only=True)
class Notice:
    """How a failure is told (`report.describe`): what happens next, and its kind — the user sees one line
    per `topic`, the first; later ones of that topic and `quiet` ones are INFO log lines."""

    what: str  # what happens next
    topic: str = "server"  # unreachable | server | refused | auth | slots | internal | throttled
    quiet: bool = False  # flow control (a 429): an INFO log line only


def _retry_words(delay: float) -> str:
    return (f"will retry in {delay:.0f} s in the background (waits double up to {MAX_BACKOFF:.0f} s); "
            "your code keeps running")


def _topic(exc: BaseException) -> str:
    if isinstance(exc, APIConnectionError):
        return "unreachable"
    if isinstance(exc, LiveActivityLimitError):
        return "slots"
    return "server" if isinstance(exc, APIError) else "internal"


def notice(plan: Plan, exc: BaseException, label: str | None) -> Notice:
    """The words for `plan` after `exc` (label: the stream key, None for a push)."""
    if plan.verdict is Verdict.STOP:
        return Notice(topic="auth", what=(
            "the API key was refused, so nothing more is sent to ActivitySmith from this client. "
            "Check the API key (ACTIVITYSMITH_API_KEY)"))
    if plan.verdict is Verdict.WAIT_FOR_SLOT:
        limit = getattr(exc, "limit", None) or 4
        return Notice(topic="slots", what=(
            f"the device shows {limit} Live Activities already (its limit); {label!r} waits and starts when one "
            "ends, and its final state is still delivered (`dispatcher.waiting` lists what waits)"))
    if plan.verdict is Verdict.RETRY:  # 429s are flow control: logged, the user hears only of real trouble
        return Notice(what=_retry_words(plan.delay), topic="throttled" if plan.throttled else _topic(exc),
                      quiet=plan.throttled)
    if plan.verdict is Verdict.DELIVERED:
        return Notice(what="counted as delivered (the server acted; its answer could not be read)")
    topic = "refused" if isinstance(exc, APIError) else _topic(exc)
    return Notice(what="given up: sending it again would change nothing", topic=topic)

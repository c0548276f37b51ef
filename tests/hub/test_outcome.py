"""The one set of outcome words: outcome x last snapshot -> the last content state and the closing push.
Pure functions, no shell, no network."""
from __future__ import annotations

import pytest

from activitysmith_jupyter import payloads
from activitysmith_jupyter.hub.outcome import (
    OUTCOMES,
    FinalState,
    Snapshot,
    final_state,
    outcome_for,
)
from activitysmith_jupyter.hub.wording import format_metrics, metric_list

BAR = Snapshot(n=40, total=100, unit="it", description="train")
COUNT = Snapshot(n=500, unit="rows")


def boom() -> KeyError:
    try:
        {}["missing"]
    except KeyError as exc:
        return exc
    raise AssertionError("unreachable")


# outcome, last snapshot, error -> subtitle, percentage, color, push title, push message
TABLE = [
    ("completed", None, None, "Done in 1m 30s", 100, "green", "✅ Job finished in 1m 30s", None),
    ("completed", BAR, None, "Done · 40/100 in 1m 30s", 100, "green", "✅ Job finished in 1m 30s", "40/100"),
    ("stopped", BAR, None, "Stopped at 40/100 · 1m 30s", 40, "orange", "⏹️ Job stopped after 1m 30s", "40/100"),
    ("stopped", None, None, "Stopped after 1m 30s", 0, "orange", "⏹️ Job stopped after 1m 30s", None),
    ("failed", None, "exc", "Failed after 1m 30s: KeyError", 0, "red", "❌ Job failed after 1m 30s",
     "KeyError: 'missing'"),
    ("failed", BAR, "ValueError: shard 7", "Failed at 40/100: ValueError: shard 7 · 1m 30s", 40, "red",
     "❌ Job failed after 1m 30s", "ValueError: shard 7"),
    ("failed", BAR, None, "Failed at 40/100 · 1m 30s", 40, "red", "❌ Job failed after 1m 30s", "40/100"),
    ("interrupted", None, None, "Interrupted after 1m 30s", 0, "orange", "⏹️ Job interrupted after 1m 30s",
     "KeyboardInterrupt"),
    ("interrupted", BAR, None, "Interrupted at 40/100 · 1m 30s", 40, "orange", "⏹️ Job interrupted after 1m 30s",
     "KeyboardInterrupt"),
    ("terminated", BAR, "SIGTERM", "Terminated at 40/100: SIGTERM · 1m 30s", 40, "red",
     "🛑 Job terminated after 1m 30s", "SIGTERM"),
    ("killed", None, None, "Died after 1m 30s", 0, "red", "💀 Job died after 1m 30s", None),
]


@pytest.mark.parametrize(("outcome", "last", "error", "subtitle", "percentage", "color", "title", "message"), TABLE,
                         ids=[f"{row[0]}-{'bar' if row[1] else 'none'}-{'error' if row[2] else 'plain'}" for row in TABLE])
def test_final_state_words_every_outcome_the_same_way(outcome, last, error, subtitle, percentage, color, title,
                                                      message) -> None:
    final = final_state(outcome, last, title="Job", duration=90, error=boom() if error == "exc" else error)
    state = final.content_state
    assert (state["subtitle"], state["percentage"], state["color"]) == (subtitle, percentage, color)
    assert final.push_title == title
    if message is None:
        assert final.push_message is None
    else:
        assert final.push_message is not None and final.push_message.startswith(message)
    assert payloads.validate("end_stream", {"content_state": state}, key="k") == []  # the API takes it


def test_a_failure_push_names_the_error_and_the_line_of_user_code() -> None:
    final = final_state("failed", None, title="Job", duration=1, error=boom(),
                        describe_file=lambda f: "Cell In[3]" if f == __file__ else None)
    first, where = (final.push_message or "").split("\n")
    assert first == "KeyError: 'missing'"
    assert where.startswith("Cell In[3], line ") and where.endswith('{}["missing"]')


def test_every_outcome_has_words_and_a_color() -> None:
    seen = {final_state(o, BAR, title="T", duration=1).push_title.split()[-3] for o in OUTCOMES}
    assert seen == {"finished", "stopped", "failed", "interrupted", "terminated", "died"}
    assert OUTCOMES == ("completed", "stopped", "failed", "interrupted", "terminated", "killed")


def test_an_unknown_outcome_is_refused_with_the_allowed_words() -> None:
    with pytest.raises(ValueError, match="outcome='success' is not one of: completed, stopped"):
        final_state("success", None, title="T", duration=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("activity_type", "content", "last", "expected"),
    [
        ("segmented_progress", {"number_of_steps": 4, "current_step": 2}, None,
         {"number_of_steps": 4, "current_step": 4}),
        ("value", {"value": 0}, COUNT, {"value": "500 rows"}),
        ("stats", {"metrics": [{"label": "status", "value": "running"}]}, None,
         {"metrics": [{"label": "loss", "value": 0.231}, {"label": "acc", "value": 0.912}]}),
    ],
    ids=["segments-filled", "value-count", "stats-metrics"],
)
def test_each_activity_type_ends_with_its_own_fields(activity_type, content, last, expected) -> None:
    final = final_state("completed", last, title="T", duration=5, activity_type=activity_type, steps=4,
                        metrics={"loss": 0.23149, "acc": 0.9123}, content={"title": "T", **content})
    assert {k: final.content_state[k] for k in expected} == expected
    assert payloads.validate("end_stream", {"content_state": final.content_state}, key="k") == []


def test_metrics_ride_on_a_completed_push_and_the_running_color_stays_when_none_is_set() -> None:
    final = final_state("completed", BAR, title="T", duration=5, metrics={"loss": 0.23149, "acc": 0.9123},
                        colors={"completed": None}, content={"title": "T", "color": "purple"})
    assert final.push_title.endswith(" · loss 0.231 · acc 0.912") and final.push_message == "40/100"
    assert final.content_state["color"] == "purple"
    assert isinstance(final, FinalState)


def test_the_end_drops_the_running_auto_dismiss_and_keeps_other_fields() -> None:
    final = final_state("completed", None, title="T", duration=1,
                        content={"title": "old", "message": "m", "auto_dismiss_minutes": 5})
    assert final.content_state["title"] == "T" and final.content_state["message"] == "m"
    assert "auto_dismiss_minutes" not in final.content_state


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [(None, "completed"), (SystemExit(0), "completed"), (SystemExit(None), "completed"), (SystemExit(3), "failed"),
     (KeyboardInterrupt(), "interrupted"), (ValueError("x"), "failed"), (GeneratorExit(), "failed")],
    ids=["none", "exit-0", "exit-none", "exit-3", "ctrl-c", "exception", "base-exception"],
)
def test_outcome_for_an_exception(exc, outcome) -> None:
    assert outcome_for(exc) == outcome


def test_outcome_for_a_cancelled_task_is_interrupted() -> None:
    import asyncio

    assert outcome_for(asyncio.CancelledError()) == "interrupted"


@pytest.mark.parametrize(
    ("metrics", "limit", "text"),
    [({"loss": 0.23149, "acc": 0.91249}, 3, "loss 0.231 · acc 0.912"),
     ({"a": 1, "b": 2.0, "c": "x", "d": 4}, 3, "a 1 · b 2 · c x"),
     ({"rows": 12345678, "lr": 3e-4}, 3, "rows 12,345,678 · lr 0.0003"),
     ({"big": 12345.678}, 1, "big 12,346"), ({}, 3, "")],
    ids=["floats", "limit", "large-and-small", "big-float", "empty"],
)
def test_format_metrics(metrics, limit, text) -> None:
    assert format_metrics(metrics, limit=limit) == text


def test_metric_list_keeps_numbers_the_api_takes_and_words_the_rest() -> None:
    shown = metric_list({"loss": 0.23149, "delta": -0.5, "epoch": 3, "phase": "eval", **{f"m{i}": i for i in range(9)}})
    assert shown[:4] == [{"label": "loss", "value": 0.231}, {"label": "delta", "value": "-0.5"},
                         {"label": "epoch", "value": 3}, {"label": "phase", "value": "eval"}]
    assert len(shown) == 8
    assert payloads.validate("end_stream", {"content_state": {"title": "t", "type": "stats", "metrics": shown}},
                             key="k") == []


@pytest.mark.parametrize(
    ("snap", "percentage", "count"),
    [(Snapshot(n=25, total=100), 25.0, "25/100"), (Snapshot(n=150, total=100), 100.0, "150/100"),
     (Snapshot(n=7), None, "7 it"), (Snapshot(), None, None), (Snapshot(n=3, total=0), None, "3 it")],
    ids=["quarter", "over-total", "no-total", "empty", "zero-total"],
)
def test_snapshot_percentage_and_count(snap, percentage, count) -> None:
    assert snap.percentage == percentage and snap.count() == count

"""`steps=` means segmented progress on every front end that takes steps, unless `type=` says otherwise."""
from __future__ import annotations

import textwrap

import pytest

from activitysmith_jupyter.hub.options import RunOptions


@pytest.mark.parametrize(("fields", "shown"), [
    ({"steps": 3}, "segmented_progress"),
    ({"steps": 3, "type": "progress"}, "progress"),
    ({"steps": 3, "type": "stats"}, "stats"),
    ({}, "progress"),
    ({"type": "value"}, "value"),
], ids=["steps", "steps-with-progress", "steps-with-stats", "nothing", "value"])
def test_the_type_shown_follows_steps_unless_type_is_given(fields, shown) -> None:
    assert RunOptions(title="Nightly ETL", **fields).activity_type == shown


def states(sim, key: str) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests if r.key == key and r.method in ("PUT", "DELETE")]


def test_activity_with_steps_fills_one_segment_per_step(client, dispatcher, sim) -> None:
    from activitysmith_jupyter import activity

    with activity("Nightly ETL", steps=3, client=client, dispatcher=dispatcher) as a:
        assert dispatcher.flush(5)  # the start is sent before a newer state could replace it
        for name in ("extract", "transform", "load"):
            a.step(name)
            assert dispatcher.flush(5)
    assert dispatcher.flush(5)
    shown = states(sim, "Nightly-ETL")
    assert {s["type"] for s in shown} == {"segmented_progress"}
    assert [s.get("current_step") for s in shown] == [0, 1, 2, 3, 3]
    assert shown[-1]["number_of_steps"] == 3 and "percentage" not in shown[-1]


def test_an_activity_made_with_steps_shows_segments(dispatcher, sim) -> None:
    from activitysmith_jupyter.hub.activity import Activity

    act = Activity("Reindex", steps=4, dispatcher=dispatcher).start()
    assert dispatcher.flush(5)
    act.step("shard 1")
    act.end("completed")
    assert dispatcher.flush(5)
    first, *_, last = states(sim, "Reindex")
    assert (first["type"], first["number_of_steps"], first["current_step"]) == ("segmented_progress", 4, 0)
    assert (last["type"], last["current_step"]) == ("segmented_progress", 4)


def test_the_magic_with_steps_shows_segments(dispatcher, sim, monkeypatch) -> None:
    pytest.importorskip("IPython")
    from shell_helpers import fresh_shell

    for name in ("ACTIVITYSMITH_NOTIFY", "ACTIVITYSMITH_CHANNELS", "ACTIVITYSMITH_COLOR", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as ip:
        ip.user_ns["sim_dispatcher"] = dispatcher
        ip.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        code = """\
            %%activitysmith_progress -t "Steps cell" -k steps-cell --steps 2
            from activitysmith_jupyter import current_activity
            current_activity().step("one")
            current_activity().step("two")
        """
        result = ip.run_cell(textwrap.dedent(code), store_history=True)
        assert result.success, result.error_in_exec
    assert dispatcher.flush(5)
    shown = states(sim, "steps-cell")
    assert {s["type"] for s in shown} == {"segmented_progress"}
    assert shown[-1]["current_step"] == shown[-1]["number_of_steps"] == 2


def test_a_callback_given_steps_shows_segments(dispatcher, sim) -> None:
    from activitysmith_jupyter.integrations.training import TrainingFollower

    follower = TrainingFollower("Fine-tune", {"steps": 3, "dispatcher": dispatcher},
                                build=lambda: {"n": 1.0, "total": 3.0, "unit": "epoch"}, unfinished="stopped")
    assert follower.options.activity_type == "segmented_progress"

"""%activitysmith status names what the dispatcher knows (a refused key, activities waiting for a slot);
mistyped magic options get a suggestion."""
from __future__ import annotations

import time
import pytest
from IPython.core.error import UsageError
import warnings
from typing import Any

from test_magics import ip  # noqa: F401  (the shell fixture, its dispatcher on the simulator)


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def status(ip, capsys) -> list[str]:  # noqa: F811
    capsys.readouterr()
    ip.run_line_magic("activitysmith", "status")
    return capsys.readouterr().out.splitlines()


def test_status_lists_activities_waiting_for_a_free_slot(ip, sim, capsys) -> None:  # noqa: F811
    dispatcher = ip.user_ns["sim_dispatcher"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(5):
            dispatcher.update_stream(f"job-{i}", {"content_state": {"title": f"job {i}", "type": "progress",
                                                                    "percentage": 0}})
        wait_until(lambda: dispatcher.waiting == ("job-4",))
    lines = status(ip, capsys)
    assert "waiting:    job-4 (for a free Live Activity slot; the device shows 4)" in lines
    assert not [line for line in lines if line.startswith("stopped:")]


def test_status_says_a_refused_key_stopped_sending(ip, sim, capsys) -> None:  # noqa: F811
    dispatcher = ip.user_ns["sim_dispatcher"]
    sim.inject(401, times=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ip.run_line_magic("activitysmith", 'notify "hello"')
        wait_until(lambda: dispatcher.auth_failed)
    [stopped] = [line for line in status(ip, capsys) if line.startswith("stopped:")]
    assert "the API key was refused" in stopped and "401" in stopped


@pytest.mark.parametrize(
    ("line", "message"),
    [("--notfy always", "unrecognized arguments: --notfy; did you mean --notify?"),
     ("--titel Run", "did you mean --title?"),
     ("--steps=3 --colour red", "did you mean --color?"),
     ("-k 'bad key!'", "stream_key: may only contain letters, digits, '_' and '-'; got 'bad key!'")],
    ids=["notfy", "titel", "colour", "key-rule"],
)
def test_a_mistyped_option_is_a_usage_error_with_a_suggestion(ip, sim, line, message) -> None:  # noqa: F811
    ip.user_ns["ran"] = 0
    result = ip.run_cell(f"%%activitysmith_progress {line}\nran += 1")
    assert isinstance(result.error_in_exec, UsageError)
    assert message in str(result.error_in_exec)
    assert ip.user_ns["ran"] == 0 and sim.requests == []

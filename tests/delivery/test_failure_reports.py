"""A failed background send is told once per kind of failure, in one line that names what failed (the push's
title or the stream key, and the endpoint) and never quotes the package's source (issue 17, item 6).

A real process against a closed loopback port (what the user sees on stderr), and the embedded simulator's
faults for each kind (the log records and the warnings).
"""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable

import pytest

from activitysmith_jupyter.delivery.dispatcher import Dispatcher
from activitysmith_jupyter.simulator import Simulator

LOGGER = "activitysmith_jupyter"


def failure_lines(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == LOGGER and r.levelno == level and " failed: " in r.getMessage()]


def ours(seen: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.filename}:{w.lineno}: {w.message}" for w in seen if "activitysmith" in f"{w.filename} {w.message}"]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def started(title: str) -> dict:
    return {"content_state": {"title": title, "type": "progress", "percentage": 5}}


def closed_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------ a real process, a dead port

SCRIPT = """
import time
from activitysmith_jupyter import Activity, ActivitySmith, dispatcher_for

client = ActivitySmith("sk_test_failure_reports_0123456789", base_url="http://127.0.0.1:{port}")
dispatcher = dispatcher_for(client)
dispatcher.exit_timeout = 0.5
act = Activity("Nightly ETL", client=client, dispatcher=dispatcher).start()
act.update(percentage=40)
dispatcher.push({{"title": "Backup finished"}})
time.sleep(3.5)  # the sender meets the dead port again and again (after 1 s, 2 s ...)
act.end("failed", error=RuntimeError("boom"))
print("retried", dispatcher.stats.retried, flush=True)
"""


def test_a_dead_port_is_told_in_one_line_naming_the_send_and_never_package_source() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}
    env["ACTIVITYSMITH_WATCHDOG"] = "0"  # this process's own stderr only
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(port=closed_port()))],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 3  # failed several times: the same kind, told once
    lines = done.stderr.splitlines()
    failed = [line for line in lines if " failed: " in line]
    assert len(failed) == 1, done.stderr
    line = failed[0]
    assert ("the Live Activity 'Nightly-ETL' (PUT /live-activity/stream/Nightly-ETL)" in line
            or 'the push "Backup finished" (POST /push-notification)' in line), line
    assert "Could not connect" in line and "retry" in line
    assert all(line.startswith("activitysmith_jupyter: ") for line in lines), done.stderr  # nothing else
    for package_text in ("self._report", "Warning", ".py", "Traceback", "None"):
        assert package_text not in done.stderr, done.stderr


# ------------------------------------------------------------------------------ each kind, once

KINDS = {
    "unreachable": (dict(refuse=True), "Could not connect"),
    "server error": (dict(status=503), "HTTP 503"),
    "refused": (dict(status=400), "HTTP 400"),
    "key refused": (dict(status=401), "HTTP 401"),
}


@pytest.mark.parametrize("kind", list(KINDS), ids=list(KINDS))
def test_each_kind_of_failure_is_one_warning_line_and_the_rest_are_info(
        kind: str, dispatcher: Dispatcher, sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    fault, words = KINDS[kind]
    caplog.set_level(logging.INFO, logger=LOGGER)
    sim.inject(times=None, **fault)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dispatcher.update_stream("job-a", started("Job A"))
        dispatcher.update_stream("job-b", started("Job B"))
        dispatcher.push({"title": "Backup finished"})
        wait_until(lambda: len(failure_lines(caplog)) + len(failure_lines(caplog, logging.INFO)) >= 3
                   or dispatcher.auth_failed)
        sim.clear_faults()
        dispatcher.flush(5)
    assert ours(seen) == []  # a log line, not a RuntimeWarning quoting our source as well
    told = failure_lines(caplog)
    assert len(told) == 1, told
    assert words in told[0] and "None" not in told[0]
    assert ("the Live Activity 'job-a' (PUT /live-activity/stream/job-a)" in told[0]
            or 'the push "Backup finished" (POST /push-notification)' in told[0]), told[0]
    if kind != "key refused":  # a 401 stops the sender: nothing more fails
        assert failure_lines(caplog, logging.INFO)  # the same kind again: for those who log at INFO


def test_a_failed_push_names_its_title_and_endpoint(dispatcher: Dispatcher, sim: Simulator,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    sim.inject(path="/push-notification", status=503, times=2)
    dispatcher.push({"title": "✅ Nightly ETL finished in 3m"})
    assert dispatcher.flush(5)
    told = failure_lines(caplog)
    assert len(told) == 1 and told[0].startswith(
        'activitysmith_jupyter: the push "✅ Nightly ETL finished in 3m" (POST /push-notification) failed: HTTP 503 '
        "(service_unavailable: Simulated 503 response (injected fault)); will retry in 1 s in the background "
        "(waits double up to 30 s); your code keeps running"), told


def test_two_kinds_of_failure_are_two_lines(dispatcher: Dispatcher, sim: Simulator,
                                            caplog: pytest.LogCaptureFixture) -> None:
    sim.inject(refuse=True, times=2)
    dispatcher.update_stream("job-a", started("Job A"))
    assert dispatcher.flush(5)
    sim.inject(status=400, times=1, method="PUT")
    dispatcher.update_stream("job-b", started("Job B"))
    assert dispatcher.flush(5)
    told = failure_lines(caplog)
    assert len(told) == 2, told
    assert "'job-a'" in told[0] and "Could not connect" in told[0]
    assert "'job-b'" in told[1] and "HTTP 400" in told[1] and "given up" in told[1]
    assert dispatcher.last_error is not None and dispatcher.last_error.status == 400  # type: ignore[attr-defined]

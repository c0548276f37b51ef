"""The real default client (env key + base URL, our HTTP transport, the system clock) with nothing answering.

A tqdm bar and a ``%%activitysmith_progress`` cell finish normally and at once while the port is dead
(refused) or hung (accepts, never answers); nothing raises into user code; the warning is shown once;
and when a server later appears on that port, every end and push lands -- Ctrl-C included.
"""
from __future__ import annotations

import logging
import os
import socket
import textwrap
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from process_helpers import free_port
from shell_helpers import fresh_shell, time_worst_call

import activitysmith_jupyter.hub.activity as activity_mod
import activitysmith_jupyter.tqdm as as_tqdm
from activitysmith_jupyter.api.client import default_client, set_default_client
from activitysmith_jupyter.delivery.dispatcher import dispatcher_for
from activitysmith_jupyter.simulator import Simulator
from activitysmith_jupyter.tqdm import tqdm


OUR_CODE_BOUND = 0.25  # seconds any one call into our code may take in the user's thread (it does no I/O)
LOOP_BOUND = 3.0  # seconds for a whole bar or cell on a quiet machine (a blocking send would take >= the 10 s timeout)
DRAWS = 10_000  # a bar drawn at every step (mininterval=0): a busy machine still draws them well inside the bound



@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def offline_client(port, monkeypatch) -> Iterator[Any]:
    """`default_client()` built from the environment, pointed at 127.0.0.1:<port>."""
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", "ask_test_network_down_0001")
    monkeypatch.setenv("ACTIVITYSMITH_BASE_URL", f"http://127.0.0.1:{port}")
    old = set_default_client(None)
    client = default_client()
    assert client.mode == "live" and client._direct is not None  # our stdlib transport, really on the wire
    try:
        yield client
    finally:
        dispatcher_for(client).close(timeout=0.2)
        client.close()
        set_default_client(old)


@pytest.fixture
def shell(offline_client) -> Iterator[Any]:
    """An InteractiveShell with the extension and no %config: the magic uses default_client()."""
    for name in ("ACTIVITYSMITH_NOTIFY", "ACTIVITYSMITH_CHANNELS", "ACTIVITYSMITH_COLOR", "JPY_SESSION_NAME"):
        os.environ.pop(name, None)
    with fresh_shell(extension=True) as ip:
        yield ip


@pytest.fixture
def our_time(monkeypatch) -> list[float]:
    """The longest single call into our code from the user's thread (bar ticks/ends, cell start/finish)."""
    return time_worst_call(monkeypatch, [(as_tqdm._Mirror, "tick"), (as_tqdm._Mirror, "end"),
                                         (activity_mod.Activity, "start"),
                                         (activity_mod.Activity, "end")])


def ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the user saw of failed sends: one WARNING line per kind (later ones are INFO)."""
    return [r.getMessage() for r in caplog.records
            if r.name == "activitysmith_jupyter" and r.levelno >= logging.WARNING and " failed: " in r.getMessage()]


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def run(ip: Any, code: str) -> Any:
    return ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)


def loop_bound(null) -> float:
    """LOOP_BOUND, stretched to 3x the same loop over plain tqdm when the machine is busy, but always
    under the 10 s timeout that one blocking send would cost."""
    from tqdm.auto import tqdm as plain

    t0 = time.perf_counter()
    for _ in plain(range(DRAWS), desc="Plain bar", file=null, mininterval=0):
        pass
    return min(9.0, max(LOOP_BOUND, 3 * (time.perf_counter() - t0)))


def timed_bar(null) -> float:
    t0 = time.perf_counter()
    for _ in tqdm(range(DRAWS), desc="Offline bar", file=null, mininterval=0):
        pass
    return time.perf_counter() - t0


def interrupted_bar(null, *, at: int) -> None:
    with tqdm(total=50_000, desc="Offline bar", file=null, mininterval=0) as bar:
        for i in range(50_000):
            bar.update()
            if i + 1 == at:
                raise KeyboardInterrupt


def ends(sim: Simulator, key: str) -> list[dict]:
    return [r.json["content_state"] for r in sim.requests
            if r.method == "DELETE" and r.key == key and r.status == 200 and r.json]


def pushes(sim: Simulator) -> list[str]:
    return [r.json["title"] for r in sim.requests if r.path == "/push-notification" and r.status == 200]


# ------------------------------------------------------------------------------ nothing listening


def test_dead_port_bar_and_cell_finish_at_once_warn_once_and_deliver_when_a_server_appears(
        offline_client, shell, port, our_time, null, caplog) -> None:
    dispatcher = dispatcher_for(offline_client)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert timed_bar(null) < loop_bound(null)
        t0 = time.perf_counter()
        result = run(shell, """
            %%activitysmith_progress -k offline-cell -t "Offline cell"
            total = sum(range(1000))
        """)
        assert time.perf_counter() - t0 < loop_bound(null)
        assert result.success and shell.user_ns["total"] == 499500
        assert wait_for(lambda: dispatcher.stats.retried >= 2)  # the sender met the dead port, more than once
        assert our_time[0] < OUR_CODE_BOUND, f"a call into our code took {our_time[0] * 1000:.0f} ms"
        assert "Could not connect" in str(dispatcher.last_error)
        assert dispatcher.stats.failed == 0 and dispatcher.stats.pending >= 3  # kept, not given up
        shell.run_line_magic("activitysmith", "status")  # works offline too

        sim = Simulator()  # the server comes back, on the same port
        with sim.serve(port=port):
            assert dispatcher.flush(timeout=40), dispatcher.stats
        assert len(ours(caplog)) == 1, ours(caplog)
        assert [str(w.message) for w in seen if "activitysmith" in str(w.message)] == []  # one log line, no warning
    bar_end, = ends(sim, "Offline-bar")
    assert bar_end["percentage"] == 100
    cell_end, = ends(sim, "offline-cell")
    assert cell_end["percentage"] == 100 and cell_end["subtitle"].startswith("Done in ")
    assert [t for t in pushes(sim) if "Offline cell" in t] and len(pushes(sim)) == 1
    assert dispatcher.stats.failed == 0


def test_ctrl_c_while_the_server_is_down_still_ends_interrupted_once_it_is_up(
        offline_client, shell, port, our_time, null, caplog) -> None:
    dispatcher = dispatcher_for(offline_client)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            interrupted_bar(null, at=20_000)
        result = run(shell, """
            %%activitysmith_progress -k offline-ctrlc -t "Offline ctrl-c"
            raise KeyboardInterrupt
        """)
        assert isinstance(result.error_in_exec, KeyboardInterrupt)
        assert wait_for(lambda: dispatcher.last_error is not None)
        assert our_time[0] < OUR_CODE_BOUND, f"a call into our code took {our_time[0] * 1000:.0f} ms"
        sim = Simulator()
        with sim.serve(port=port):
            assert dispatcher.flush(timeout=40), dispatcher.stats
        assert len(ours(caplog)) == 1, ours(caplog)
        assert [str(w.message) for w in seen if "activitysmith" in str(w.message)] == []  # one log line, no warning
    bar_end, = ends(sim, "Offline-bar")
    assert bar_end["subtitle"].startswith("Interrupted at 20,000/50,000"), bar_end
    assert bar_end["percentage"] < 100
    cell_end, = ends(sim, "offline-ctrlc")
    assert cell_end["subtitle"].startswith("Interrupted after ") and cell_end["color"] == "orange"
    assert pushes(sim) == [p for p in pushes(sim) if p.startswith("⏹️ Offline ctrl-c interrupted")] and pushes(sim)


# ------------------------------------------------------------------------------ a server that never answers


@pytest.mark.filterwarnings("ignore:activitysmith_jupyter. sending to ActivitySmith failed:RuntimeWarning")
def test_hung_server_that_never_answers_does_not_block_the_bar_or_the_cell(
        offline_client, shell, port, our_time, null) -> None:
    hung = socket.socket()
    hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hung.bind(("127.0.0.1", port))
    hung.listen(16)  # connections complete in the backlog; nobody ever reads or answers
    dispatcher = dispatcher_for(offline_client)
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            assert timed_bar(null) < loop_bound(null)
            t0 = time.perf_counter()
            result = run(shell, """
                %%activitysmith_progress -k hung-cell -t "Hung cell"
                done = True
            """)
            assert time.perf_counter() - t0 < loop_bound(null)
            assert result.success and shell.user_ns["done"] is True
            assert our_time[0] < OUR_CODE_BOUND, f"a call into our code took {our_time[0] * 1000:.0f} ms"
            assert dispatcher.stats.pending >= 3 and dispatcher.stats.sent == 0
            assert dispatcher.flush(timeout=0.2) is False  # a bounded wait stays bounded
    finally:
        hung.close()  # the waiting connections are reset
    sim = Simulator()  # and a working server takes the port: everything still lands
    with sim.serve(port=port):
        assert dispatcher.flush(timeout=40), dispatcher.stats
    assert ends(sim, "Offline-bar")[0]["percentage"] == 100
    assert ends(sim, "hung-cell")[0]["subtitle"].startswith("Done in ")
    assert len(pushes(sim)) == 1


# ------------------------------------------------------------------------------ known gap


@pytest.mark.xfail(strict=True, reason=(
    "KNOWN LIMITATION outside IPython: a KeyboardInterrupt in the body of `for x in tqdm(...)` that code up the "
    "stack catches (here pytest.raises) reaches the bar only as the generator's GeneratorExit, so the bar ends "
    "'Failed' (red), not 'Interrupted'. Uncaught, the script's end names it (tests/tqdm/test_tqdm.py::test_a_"
    "scripts_for_loop_bar_ends_with_what_ended_the_script); under IPython the cell's result does (test_in_ipython_"
    "a_for_loop_bar_ends_with_what_stopped_the_cell); `with tqdm(total=...)` and the cell magic get it right "
    "everywhere. Remove this mark when fixed."))
def test_outside_ipython_ctrl_c_in_the_body_of_a_for_loop_over_a_bar_ends_interrupted(null) -> None:
    from activitysmith_jupyter.api.client import ActivitySmith
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher

    sim = Simulator()
    with ActivitySmith(transport=sim.transport()) as client:
        dispatcher = Dispatcher(client)
        with pytest.raises(KeyboardInterrupt):
            for i in tqdm(range(10), desc="Ctrl-C loop", dispatcher=dispatcher, file=null):
                if i == 5:
                    raise KeyboardInterrupt  # where a real Ctrl-C lands most of the time: the loop body
        assert dispatcher.flush(5)
        dispatcher.close(1)
    end, = ends(sim, "Ctrl-C-loop")
    assert end["subtitle"].startswith("Interrupted at 5/10"), end

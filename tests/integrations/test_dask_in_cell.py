"""Dask futures started inside a ``%%activitysmith_progress`` cell or an ``activity()`` block: one activity,
the cell's, kept open until the futures finish and ended with their outcome; followed with or without
``follow()``. A real ``distributed.LocalCluster`` (two in-process workers) in a real IPython shell."""
from __future__ import annotations

import re
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from shell_helpers import fresh_shell

distributed = pytest.importorskip("distributed")
pytest.importorskip("IPython")

from activitysmith_jupyter.hub.activity import current_activity  # noqa: E402

ENV_VARS = ("ACTIVITYSMITH_NOTIFY", "ACTIVITYSMITH_CHANNELS", "ACTIVITYSMITH_COLOR", "JPY_SESSION_NAME")


def f(x: int) -> int:
    return x + 1


def div(x: int) -> float:
    return 1 / x


def hold(event_name: str, values: list[Any]) -> int:
    """A task the test holds open until it sets the named distributed.Event."""
    distributed.Event(event_name).wait(timeout=60)
    return len(values)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def ip(dispatcher, dask_client, monkeypatch) -> Iterator[Any]:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with fresh_shell(extension=True) as shell:
        shell.user_ns.update(sim_dispatcher=dispatcher, client=dask_client, f=f, div=div, hold=hold,
                             distributed=distributed)
        shell.run_line_magic("config", "ActivitySmithMagics.client = 'sim_dispatcher'")
        shell.run_cell("from activitysmith_jupyter.integrations.distributed import follow")
        yield shell


def run(ip: Any, code: str) -> Any:
    return ip.run_cell(textwrap.dedent(code).strip("\n"), store_history=True)


def until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def ends(sim: Any) -> dict[str, dict[str, Any]]:
    return {r.key: r.json["content_state"] for r in sim.requests if r.method == "DELETE" and r.status == 200}


def keys(sim: Any) -> set[str]:
    return {r.key for r in sim.requests if r.key}


def pushes(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.path == "/push-notification" and r.status == 200]


def tasks_shown(sim: Any, key: str) -> int:
    """The total of the last "n/total" count the activity's subtitle showed (0: none yet)."""
    puts = [r.json["content_state"] for r in sim.requests if r.method == "PUT" and r.key == key]
    found = re.search(r"(\d+)/(\d+)", puts[-1].get("subtitle", "")) if puts else None
    return int(found[2]) if found else 0


CELL_WITH_FOLLOW = """
    %%activitysmith_progress -t 'Cluster job'
    from dask import delayed
    futs = client.compute(delayed(hold)("{event}", [delayed(f)(i) for i in range(120)]))
    follow(futs)
"""

CELL_WITHOUT_FOLLOW = """
    %%activitysmith_progress -t 'Cluster job'
    futs = client.submit(hold, "{event}", client.map(f, range(120), pure=False))
"""


@pytest.mark.parametrize("code", [CELL_WITH_FOLLOW, CELL_WITHOUT_FOLLOW], ids=["follow", "no-follow"])
def test_the_cells_activity_stays_open_until_its_futures_finish(ip, dispatcher, sim, dask_client, code) -> None:
    event = f"go-{time.monotonic_ns()}"
    result = run(ip, code.format(event=event))
    assert result.success, result.error_in_exec
    assert current_activity() is None  # the cell is over: the next cell's work is not this one's
    assert dispatcher.flush(5)
    until(lambda: tasks_shown(sim, "nb-cluster-job") >= 121)  # the tasks' count, shown after the cell
    assert "nb-cluster-job" not in ends(sim) and not pushes(sim)  # no false "finished" while tasks run
    run(ip, "x = 1")  # another cell meanwhile: it neither ends nor feeds the held activity
    distributed.Event(event, client=dask_client).set()
    until(lambda: dispatcher.flush(0.1) and "nb-cluster-job" in ends(sim) and pushes(sim))  # the push follows the end
    assert keys(sim) == {"nb-cluster-job"}  # one activity: no "Dask: f" beside it
    end = ends(sim)["nb-cluster-job"]
    assert end["color"] == "green" and end["subtitle"].startswith("Done in ")
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Cluster job finished in ")


def test_a_failing_task_fails_the_cells_activity_after_the_cell_returned(ip, dispatcher, sim, dask_client) -> None:
    event = f"go-{time.monotonic_ns()}"
    result = run(ip, f"""
        %%activitysmith_progress -t 'Ratios'
        bad = client.submit(div, client.submit(hold, "{event}", [], pure=False), pure=False)
    """)
    assert result.success
    assert dispatcher.flush(5) and "nb-ratios" not in ends(sim)
    distributed.Event(event, client=dask_client).set()  # hold returns 0: div(0) raises, after the cell
    until(lambda: dispatcher.flush(0.1) and "nb-ratios" in ends(sim) and pushes(sim))  # the push follows the end
    end = ends(sim)["nb-ratios"]
    assert end["color"] == "red" and end["subtitle"].startswith("Failed after ")
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Ratios failed after ")
    assert push["message"].startswith("task 'div-") and push["message"].endswith("ZeroDivisionError: division by zero")


def test_futures_the_cell_waited_for_itself_end_with_the_cell(ip, dispatcher, sim) -> None:
    result = run(ip, """
        %%activitysmith_progress -t 'Gathered'
        total = sum(client.gather(client.map(f, range(10), pure=False)))
    """)
    assert result.success and ip.user_ns["total"] == 55
    assert dispatcher.flush(5)
    assert ends(sim)["nb-gathered"]["subtitle"].startswith("Done in ")  # ended at the cell's end, nothing held


def test_a_failing_cell_ends_at_once_with_its_own_error(ip, dispatcher, sim, dask_client) -> None:
    event = f"go-{time.monotonic_ns()}"
    result = run(ip, f"""
        %%activitysmith_progress -t 'Broken cell'
        futs = client.submit(hold, "{event}", [1])
        {{}}["missing"]
    """)
    assert isinstance(result.error_in_exec, KeyError)
    assert dispatcher.flush(5)
    end = ends(sim)["nb-broken-cell"]
    assert end["color"] == "red" and "KeyError" in end["subtitle"]
    distributed.Event(event, client=dask_client).set()


def test_an_activity_block_keeps_its_activity_open_for_the_futures_it_created(dispatcher, sim, dask_client) -> None:
    from activitysmith_jupyter import activity

    event = f"go-{time.monotonic_ns()}"
    with activity("Nightly ETL", dispatcher=dispatcher) as act:
        futs = dask_client.submit(hold, event, dask_client.map(f, range(20), pure=False))
    assert current_activity() is None
    assert dispatcher.flush(5)
    assert act.outcome is None and "Nightly-ETL" not in ends(sim)  # the block is over, the work is not
    distributed.Event(event, client=dask_client).set()
    assert futs.result(timeout=30) == 20
    until(lambda: act.outcome is not None)
    assert act.outcome == "completed"
    assert dispatcher.flush(5)
    assert ends(sim)["Nightly-ETL"]["subtitle"].startswith("Done · 21/21 in ")
    assert keys(sim) == {"Nightly-ETL"}


def test_follow_inside_an_open_activity_feeds_it_and_holds_its_end(dispatcher, sim, dask_client) -> None:
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations.distributed import follow

    event = f"go-{time.monotonic_ns()}"
    with Activity("Reindex", dispatcher=dispatcher) as act:
        following = follow(dask_client.submit(hold, event, [1, 2], pure=False))
        assert following.activity is act
    assert act.outcome is None  # held by the followed work
    distributed.Event(event, client=dask_client).set()
    assert following.wait(30) and following.outcome == "completed"
    until(lambda: act.outcome == "completed")
    assert dispatcher.flush(5)
    assert keys(sim) == {"Reindex"}


def test_a_script_that_exits_while_its_block_waits_for_futures_ends_it_failed(server, sim, tmp_path) -> None:
    from process_helpers import child_env, ended, pushes as pushed, python, script

    path = script(tmp_path, """
        import time, distributed
        from activitysmith_jupyter import activity

        def slow(x):
            time.sleep(60)
            return x

        client = distributed.Client(distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None))
        with activity("Left running") as a:
            fut = client.submit(slow, 1)
        print("block over:", a.outcome, flush=True)  # and the script ends, its future still running
    """)
    run = python(path, child_env(server), timeout=120)
    assert "block over: None" in run.stdout, run.stderr
    cs = ended(sim, "Left-running")["content_state"]
    assert cs["color"] == "red" and "exited before the work it started finished" in cs["subtitle"]
    [push] = pushed(sim)
    assert push["title"].startswith("❌ Left running failed after")
    assert push["message"] == "exited before the work it started finished"


def test_install_follows_for_a_cell_that_imported_distributed_itself(dispatcher, sim, dask_client) -> None:
    from activitysmith_jupyter.hub.activity import Activity
    from activitysmith_jupyter.integrations.distributed import install

    event = f"go-{time.monotonic_ns()}"
    with Activity("Imported late", dispatcher=dispatcher) as act:
        install()  # what hooks.SourceInstaller does once a running cell's `import distributed` finished
        futs = dask_client.submit(hold, event, [1, 2, 3], pure=False)
    assert act.outcome is None
    distributed.Event(event, client=dask_client).set()
    assert futs.result(timeout=30) == 3
    until(lambda: act.outcome == "completed")

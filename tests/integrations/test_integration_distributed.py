"""Dask clusters: follow() on a real LocalCluster with two worker processes (loopback, no dashboard)."""
from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from integration_helpers import pushes, stream_puts
from process_helpers import ended

from activitysmith_jupyter.hub.activity import Activity

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from activitysmith_jupyter.integrations.distributed import describe_exception, follow  # noqa: E402

# the worker processes cannot import this test module: its functions travel by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def inc(x: int) -> int:
    return x + 1


def div(x: int) -> float:
    return 1 / x


def total_when(event_name: str, values: list[int]) -> int:
    """Waits for the test to set the named distributed.Event, then sums (a task the test holds open)."""
    distributed.Event(event_name).wait(timeout=60)
    return sum(values)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


def scheduler_plugins(dask_client: Any) -> list[str]:
    return dask_client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.plugins))


def until(condition: Any, timeout: float = 60, state: Any = None) -> None:
    """Wait for the cluster (real processes: there is no clock to inject) to reach `condition`; on a
    timeout the message shows `state()` (what the simulator saw, say)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; state: {state() if state else '-'}"
        time.sleep(0.01)


def seen(sim: Any) -> str:
    """What reached the simulator, for a timeout's message: each request, then each push's title."""
    requests = [f"{r.method} {r.key} {r.status}" for r in sim.requests]
    return f"requests {requests}, pushes {[n['request'].get('title') for n in sim.notifications]}"


# ------------------------------------------------------------------------------------------ the work


def test_follow_returns_at_once_and_follows_the_cluster_until_the_work_is_done(dask_client, dispatcher, sim) -> None:
    go = distributed.Event("go-1", client=dask_client)
    parts = dask_client.map(inc, range(20))
    result = dask_client.submit(total_when, "go-1", parts)
    following = follow(result, title="Features", dispatcher=dispatcher, interval=0)
    # follow() has returned (as it does in a notebook cell) while the last task is still held open
    until(lambda: following.last is not None and following.last.n == 20)
    assert following.activity.outcome is None and not following.done
    assert (following.last.n, following.last.total, following.last.unit) == (20, 21, "tasks")
    assert following.activity.content_state["percentage"] == pytest.approx(100 * 20 / 21, abs=0.1)
    go.set()
    assert following.wait(30)
    assert result.result() == sum(range(1, 21))
    assert (following.outcome, following.error) == ("completed", None)
    assert dispatcher.flush(5)
    cs = ended(sim, "Features")["content_state"]
    assert cs["subtitle"].startswith("Done · 21/21") and cs["percentage"] == 100
    assert [p["title"].split(" finished")[0] for p in pushes(sim)] == ["✅ Features"]
    assert [p.get("message") for p in pushes(sim)] == ["21/21"]
    assert not [p for p in scheduler_plugins(dask_client) if p.startswith("activitysmith")]  # it removed itself


def test_a_persisted_collection_counts_every_task_of_its_graph(dask_client, dispatcher, sim) -> None:
    from dask import delayed

    total = delayed(sum)([delayed(inc)(i) for i in range(30)])
    persisted = dask_client.persist(total)
    following = follow(persisted, title="Graph", dispatcher=dispatcher)
    assert following.wait(30)
    assert following.outcome == "completed"
    assert following.last.n == following.last.total >= 31  # 30 incs and the sum (the list, too, if kept)
    assert persisted.compute() == sum(range(1, 31))
    assert dispatcher.flush(5)
    assert ended(sim, "Graph")["content_state"]["subtitle"].startswith(f"Done · {int(following.last.n)}/")


@pytest.mark.parametrize("via", ["scheduler", "futures"], ids=["scheduler-plugin", "done-callbacks"])
def test_a_failing_task_fails_the_activity_and_the_push_names_it(dask_client, dispatcher, sim, via) -> None:
    bad = dask_client.submit(div, 0)
    after = dask_client.submit(inc, bad)
    following = follow(bad, after, title="Ratios", dispatcher=dispatcher, via=via)
    assert following.wait(30)
    assert following.outcome == "failed"
    assert dispatcher.flush(5)
    (push,) = pushes(sim)
    assert push["title"].startswith("❌ Ratios failed after")
    assert push["message"] == f"task {bad.key!r} raised ZeroDivisionError: division by zero"
    assert bad.key.startswith("div-")
    assert ended(sim, "Ratios")["content_state"]["color"] == "red"


def test_the_erred_dependency_is_blamed_not_the_future_that_waited_for_it(dask_client, dispatcher, sim) -> None:
    bad = dask_client.submit(div, 0, pure=False)
    after = dask_client.submit(inc, bad)  # only the dependent is followed
    following = follow(after, title="Chain", dispatcher=dispatcher)
    assert following.wait(30)
    assert following.error == f"task {bad.key!r} raised ZeroDivisionError: division by zero"


def test_done_callbacks_count_the_futures(dask_client, dispatcher, sim) -> None:
    futures = dask_client.map(inc, range(12), pure=False)
    following = follow(futures, title="Map", dispatcher=dispatcher, via="futures")
    assert following.wait(30)
    assert (following.outcome, following.last.n, following.last.total) == ("completed", 12, 12)


def test_cancelled_futures_stop_the_activity(dask_client, dispatcher, sim) -> None:
    parts = dask_client.map(inc, range(3), pure=False)
    held = dask_client.submit(total_when, "go-never", parts)
    following = follow(held, title="Cancelled", dispatcher=dispatcher)
    until(lambda: following.last is not None and following.last.n == 3)
    held.cancel()
    assert following.wait(30)
    assert following.outcome == "stopped"
    assert following.error == f"task {held.key!r} was cancelled"
    distributed.Event("go-never", client=dask_client).set()


def test_stop_ends_the_following_and_removes_the_plugin(dask_client, dispatcher, sim) -> None:
    held = dask_client.submit(total_when, "go-2", [1, 2])
    following = follow(held, title="Stopped", dispatcher=dispatcher)
    until(lambda: following.last is not None)
    assert [p for p in scheduler_plugins(dask_client) if p.startswith("activitysmith")]
    following.stop()
    assert following.done and following.outcome == "stopped"
    assert not [p for p in scheduler_plugins(dask_client) if p.startswith("activitysmith")]
    distributed.Event("go-2", client=dask_client).set()
    assert held.result() == 3
    assert dispatcher.flush(5)
    assert ended(sim, "Stopped")["content_state"]["subtitle"].startswith("Stopped")


def test_an_open_activity_is_fed_and_left_to_its_owner(dask_client, dispatcher, sim) -> None:
    act = Activity("Nightly", dispatcher=dispatcher).start()
    following = follow(dask_client.map(inc, range(5), pure=False), activity=act)
    assert following.wait(30)
    assert following.outcome == "completed" and act.outcome is None  # its owner ends it
    assert (act.last_snapshot.n, act.last_snapshot.total) == (5, 5)
    act.end("completed")
    assert dispatcher.flush(5)
    assert ended(sim, "Nightly")["content_state"]["subtitle"].startswith("Done · 5/5")


def test_the_scheduler_publishes_a_few_tallies_not_one_per_task(dask_client, dispatcher, sim) -> None:
    following = follow(dask_client.map(inc, range(400), pure=False), title="Quiet", dispatcher=dispatcher,
                       interval=60)
    assert following.wait(60)
    events = dask_client.get_events(following._name)
    assert [e["state"] for _, e in events] == ["running", "completed"]  # the first count and the end
    assert events[-1][1]["done"] == events[-1][1]["total"] == 400


def test_distributed_progress_still_works_beside_it(dask_client, dispatcher, sim, capsys) -> None:
    futures = dask_client.map(inc, range(10), pure=False)
    following = follow(futures, title="Both", dispatcher=dispatcher)
    distributed.progress(futures, notebook=False)  # the console bar blocks until done
    assert following.wait(30) and following.outcome == "completed"
    shown = capsys.readouterr()
    assert "100%" in shown.out + shown.err


# ------------------------------------------------------------------------------------- bad input, words


@pytest.mark.parametrize(("args", "kwargs", "words"), [
    ((), {}, "no Dask futures"),
    ((1, "x"), {}, "no Dask futures"),
    (("FUT",), {"via": "dashboard"}, "via='dashboard' is not one of: scheduler, futures"),
    (("FUT",), {"interval": -1}, "interval=-1"),
    (("FUT",), {"activity": "ACT", "title": "x"}, "belong to that activity"),
], ids=["nothing", "no-futures", "bad-via", "negative-interval", "title-with-activity"])
def test_bad_arguments_raise_before_anything_is_sent(dask_client, dispatcher, sim, args, kwargs, words) -> None:
    future = dask_client.submit(inc, 1)
    args = tuple(future if a == "FUT" else a for a in args)
    if kwargs.get("activity") == "ACT":
        kwargs = {**kwargs, "activity": Activity("Mine", dispatcher=dispatcher)}
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        follow(*args, dispatcher=dispatcher, **kwargs) if "activity" not in kwargs else follow(*args, **kwargs)
    assert dispatcher.flush(5)
    assert not stream_puts(sim, "Mine") and not sim.activities


@pytest.mark.parametrize(("text", "words"), [
    ("ZeroDivisionError('division by zero')", "ZeroDivisionError: division by zero"),
    ('KeyError("it\'s gone")', "KeyError: it's gone"),
    ("StopIteration()", "StopIteration"),
    ("ValueError('a', 2)", "ValueError('a', 2)"),
    ("Segmentation fault", "Segmentation fault"),
], ids=["message", "quotes", "no-args", "several-args", "not-a-repr"])
def test_describe_exception_turns_a_repr_into_type_and_message(text, words) -> None:
    assert describe_exception(text) == words


# ------------------------------------------------------------------------------------ in a real kernel

KERNEL_SETUP = """
import distributed
from activitysmith_jupyter.integrations.distributed import follow
cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None)
client = distributed.Client(cluster)
def inc(x):
    return x + 1
def div(x):
    return 1 / x
def hold(xs):
    distributed.Event("go").wait(60)
    return sum(xs)
"""


def test_in_a_kernel_the_cell_returns_and_the_activity_ends_after_it(monkeypatch, server, sim) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    import os
    from pathlib import Path

    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", "ask_kernel_dask_test_123456")
    monkeypatch.setenv("ACTIVITYSMITH_BASE_URL", server.url)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH", "")]))
    cells = [KERNEL_SETUP,
             "following = follow(client.submit(hold, client.map(inc, range(10))), title='Kernel Dask')",
             "distributed.Event('go').set()",  # returns at once too: nothing in the kernel waits
             "failing = follow(client.submit(div, 0), title='Kernel fail')",
             "print(following.wait(30), failing.wait(30))\nclient.close(); cluster.close()"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    kernel = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120)

    def ended_keys() -> set[str]:
        return {r.key for r in sim.requests if r.method == "DELETE" and r.status == 200}

    with kernel.setup_kernel():
        kernel.execute_cell(nb.cells[0], 0)
        kernel.execute_cell(nb.cells[1], 1)
        until(lambda: [r for r in stream_puts(sim, "Kernel-Dask") if r.status == 200], state=lambda: seen(sim))
        assert "Kernel-Dask" not in ended_keys(), seen(sim)  # the cell returned, the work is held open
        kernel.execute_cell(nb.cells[2], 2)
        kernel.execute_cell(nb.cells[3], 3)
        until(lambda: {"Kernel-Dask", "Kernel-fail"} <= ended_keys() and len(sim.notifications) >= 2,
              state=lambda: seen(sim))
        assert len(sim.notifications) == 2, seen(sim)
        kernel.execute_cell(nb.cells[4], 4)
    assert nb.cells[4].outputs[0]["text"] == "True True\n"
    by_title = {p["title"].split(" ")[1] + " " + p["title"].split(" ")[2]: p for p in pushes(sim)}
    assert by_title["Kernel Dask"]["title"].startswith("✅ Kernel Dask finished in")
    assert by_title["Kernel Dask"]["message"] == "11/11"
    assert by_title["Kernel fail"]["title"].startswith("❌ Kernel fail failed after")
    assert re.fullmatch(r"task 'div-[0-9a-f]+' raised ZeroDivisionError: division by zero",
                        by_title["Kernel fail"]["message"])


# ------------------------------------------------------------- a scheduler that cannot load the plugin


def test_a_scheduler_without_this_package_falls_back_to_counting_futures(tmp_path, dispatcher, sim, caplog) -> None:
    import os
    import subprocess

    fake = tmp_path / "fake" / "activitysmith_jupyter"  # shadows the package in the scheduler only
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not installed on this scheduler')\n")
    file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
           "--no-dashboard", "--scheduler-file", str(file)]
    scheduler = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(file.exists)
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file),
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                  cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with distributed.Client(scheduler_file=str(file), timeout=60) as c:
                c.wait_for_workers(1, timeout=60)
                with caplog.at_level("WARNING", logger="activitysmith_jupyter"):
                    import operator  # a stdlib task: the scheduler unpickles graphs, and cannot import this module

                    following = follow(c.map(operator.neg, range(4), pure=False), title="Remote",
                                       dispatcher=dispatcher)
                assert following.via == "futures"
                assert "following the 4 futures instead" in caplog.text
                assert following.wait(30)
                assert (following.outcome, following.last.n, following.last.total) == ("completed", 4, 4), following.error
        finally:
            worker.terminate()
            worker.wait(30)
    finally:
        scheduler.terminate()
        scheduler.wait(30)
    assert dispatcher.flush(5)
    assert ended(sim, "Remote")["content_state"]["subtitle"].startswith("Done · 4/4")

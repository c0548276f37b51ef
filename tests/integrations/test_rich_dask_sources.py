"""rich.progress and Dask (local schedulers) as sources of progress, with the real libraries."""
from __future__ import annotations

import io

import pytest
from process_helpers import ended

from activitysmith_jupyter import activity
from activitysmith_jupyter.hub.activity import Activity

rich_progress = pytest.importorskip("rich.progress")
dask = pytest.importorskip("dask")


def quiet_console():
    from rich.console import Console

    return Console(file=io.StringIO(), force_terminal=False)


# ------------------------------------------------------------------------------------------------ rich


def test_rich_track_drives_the_activity_and_its_final_count_is_shown(client, dispatcher, sim) -> None:
    from activitysmith_jupyter.integrations.rich import RichProgressSource

    act = Activity("Import rows", dispatcher=dispatcher).start()
    source = RichProgressSource(interval=60)  # looks only when told (and when a Progress stops)
    act.attach(source)
    seen = []
    for i in rich_progress.track(range(10), description="[bold]rows[/bold]", console=quiet_console()):
        if i == 4:
            source.poll()
            seen.append(act.last_snapshot)
    act.end("completed")
    # track() moves `completed` from its own thread every 0.1 s: mid-loop the count may lag
    assert (seen[0].total, seen[0].description) == (10, "rows") and 0 <= seen[0].n <= 5
    last = act.last_snapshot
    assert (last.n, last.total) == (10, 10)  # the stop hook's last look
    assert dispatcher.flush(5)
    cs = ended(sim, "Import-rows")["content_state"]
    assert cs["subtitle"].startswith("Done · 10/10 in")


def test_rich_outermost_task_of_the_first_progress_wins(client, dispatcher) -> None:
    from activitysmith_jupyter.integrations.rich import RichProgressSource

    act = Activity("Sync", dispatcher=dispatcher).start()
    source = RichProgressSource(interval=60)
    act.attach(source)
    with rich_progress.Progress(console=quiet_console()) as progress:
        overall = progress.add_task("all files", total=3)
        for name in ("a", "b", "c"):
            per_file = progress.add_task(f"file {name}", total=100)
            progress.update(per_file, completed=100)
            progress.advance(overall)
            source.poll()
            assert act.last_snapshot.description == "all files"
        with rich_progress.Progress(console=quiet_console()) as inner:  # a second, later Progress
            inner.add_task("inner", total=5, completed=2)
            source.poll()
            assert act.last_snapshot.description == "all files"
    act.end("completed")
    assert (act.last_snapshot.n, act.last_snapshot.total) == (3, 3)


def test_rich_progress_is_patched_only_while_attached() -> None:
    from rich.progress import Progress

    from activitysmith_jupyter.integrations.rich import RichProgressSource

    original = Progress.start
    a, b = RichProgressSource(interval=60), RichProgressSource(interval=60)
    a.attach(None)
    b.attach(None)
    assert Progress.start is not original
    a.detach()
    assert Progress.start is not original  # b still follows
    b.detach()
    assert Progress.start is original


# ------------------------------------------------------------------------------------------------ dask


def inc(x: int) -> int:
    return x + 1


def graph():
    from dask import delayed

    return delayed(sum)([delayed(inc)(i) for i in range(20)])


@pytest.mark.parametrize("how", ["dask.compute", ".compute()", ".persist()", "with ProgressBar"])
def test_dask_computations_feed_tasks_done_over_total(dispatcher, sim, how) -> None:
    from activitysmith_jupyter.integrations.dask import DaskSource

    act = Activity("Features", dispatcher=dispatcher).start()
    act.attach(DaskSource(interval=60))
    g = graph()
    shown = io.StringIO()
    if how == "dask.compute":
        (value,) = dask.compute(g, scheduler="threads")
    elif how == ".compute()":
        value = g.compute(scheduler="threads")
    elif how == ".persist()":
        value = g.persist(scheduler="threads")
    else:
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=shown):
            value = g.compute(scheduler="threads")
    last = act.last_snapshot
    act.end("completed")  # detaches: nothing below is followed
    assert last.unit == "tasks" and last.total == last.n and last.n >= 21  # 20 incs and the sum
    assert (value.compute(scheduler="sync") if how == ".persist()" else value) == sum(range(1, 21))
    assert how != "with ProgressBar" or "100%" in shown.getvalue()  # the user's own bar still works
    assert dispatcher.flush(5)
    assert ended(sim, "Features")["content_state"]["subtitle"].startswith(f"Done · {int(last.n)}/{int(last.n)} in")


def test_dask_callback_is_registered_only_while_attached() -> None:
    from dask.callbacks import Callback

    from activitysmith_jupyter.integrations.dask import DaskSource

    before = set(Callback.active)
    source = DaskSource()
    source.attach(None)
    assert len(Callback.active) == len(before) + 1
    source.detach()
    assert Callback.active == before


# --------------------------------------------------------------------------- through activity() blocks


def test_activity_block_follows_rich_and_dask_when_they_are_imported(client, sim) -> None:
    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for

    with activity("Pipeline", client=client) as a:
        for _ in rich_progress.track(range(7), description="parse", console=quiet_console()):
            pass
        rich_seen = a.last_snapshot
        graph().compute(scheduler="sync")
    assert (rich_seen.n, rich_seen.total, rich_seen.description) == (7, 7, "parse")
    assert a.last_snapshot.unit == "tasks" and a.last_snapshot.n == a.last_snapshot.total
    assert dispatcher_for(client).flush(5)
    assert ended(sim, "Pipeline")["content_state"]["subtitle"].startswith("Done ·")

"""`activity()` in scripts: a context manager and a decorator, run as real script subprocesses."""
from __future__ import annotations

import signal

import pytest
from process_helpers import child_env, ended, pushes, python, script

from activitysmith_jupyter import activity, current_activity
from activitysmith_jupyter.hub.activity import Activity


def test_with_block_steps_metrics_and_success_push(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        from activitysmith_jupyter import activity, current_activity
        with activity("Nightly ETL", type="segmented_progress", steps=3) as a:
            assert current_activity() is a
            a.step("extract")
            a.step("transform")
            a.metrics(rows=1200)
            a.step("load")
        assert current_activity() is None
    """)
    run = python(path, child_env(server))
    assert run.returncode == 0, run.stderr
    a = ended(sim, "Nightly-ETL")
    cs = a["content_state"]
    assert (cs["type"], cs["current_step"], cs["number_of_steps"], cs["color"]) == ("segmented_progress", 3, 3, "green")
    assert cs["subtitle"].startswith("Done in ")
    [push] = pushes(sim)
    assert push["title"].startswith("✅ Nightly ETL finished in ") and "rows 1,200" in push["title"]


def test_decorated_function_failure_ends_failed_and_the_exception_still_exits(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        from activitysmith_jupyter import activity

        @activity("Reindex", key="reindex-prod", notify="failure")
        def main():
            {}["catalog"]

        main()
    """)
    run = python(path, child_env(server))
    assert run.returncode == 1 and "KeyError: 'catalog'" in run.stderr  # not swallowed
    cs = ended(sim, "reindex-prod")["content_state"]
    assert cs["color"] == "red" and "KeyError" in cs["subtitle"]
    [push] = pushes(sim)
    assert push["title"].startswith("❌ Reindex failed after")
    assert "KeyError: 'catalog'" in push["message"] and "job.py, line 6, in main" in push["message"]


def test_each_call_of_a_decorated_function_is_its_own_activity(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        from activitysmith_jupyter import activity

        @activity("Hourly sync", notify="never")
        def sync(n):
            return n * 2

        assert [sync(1), sync(2)] == [2, 4]
    """)
    run = python(path, child_env(server))
    assert run.returncode == 0, run.stderr
    ends = [r for r in sim.requests if r.method == "DELETE" and r.key == "Hourly-sync"]
    assert len(ends) == 2 and pushes(sim) == []


def test_an_async_function_is_awaited_inside_its_activity(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        import asyncio
        from activitysmith_jupyter import activity, current_activity

        @activity("Crawl", notify="never")
        async def crawl(fail):
            await asyncio.sleep(0.2)
            assert current_activity() is not None
            if fail:
                raise RuntimeError("robots.txt says no")

        async def main():
            await crawl(False)
            try:
                await crawl(True)
            except RuntimeError:
                pass

        asyncio.run(main())
    """)
    run = python(path, child_env(server))
    assert run.returncode == 0, run.stderr
    ends = [r.json["content_state"]["subtitle"] for r in sim.requests if r.method == "DELETE"]
    assert len(ends) == 2 and ends[0].startswith("Done in 0.") and ends[1].startswith("Failed after 0.")
    assert "RuntimeError" in ends[1]


@pytest.mark.parametrize(("code", "status", "outcome"), [
    ("sys.exit(0)", 0, "Done"),
    ("sys.exit(4)", 4, "Failed"),
    ("os.kill(os.getpid(), signal.SIGINT); time.sleep(5)", -signal.SIGINT, "Interrupted"),
], ids=["sys-exit-0", "sys-exit-4", "ctrl-c"])
def test_block_outcome_follows_how_the_script_ended(server, sim, tmp_path, code, status, outcome) -> None:
    path = script(tmp_path, f"""
        import os, signal, sys, time
        from activitysmith_jupyter import activity
        with activity("Backup"):
            {code}
    """)
    run = python(path, child_env(server))
    # an uncaught KeyboardInterrupt makes Python die of SIGINT, as the shell expects
    assert run.returncode == status, run.stderr
    assert ended(sim, "Backup")["content_state"]["subtitle"].startswith(outcome)


def test_tqdm_bars_inside_drive_the_block(server, sim, tmp_path) -> None:
    path = script(tmp_path, """
        import os, time
        from tqdm import tqdm
        from activitysmith_jupyter import activity
        with activity("Embeddings"):
            for _ in tqdm(range(20), desc="encode", file=open(os.devnull, "w")):
                time.sleep(0.06)
    """)
    run = python(path, child_env(server))
    assert run.returncode == 0, run.stderr
    cs = ended(sim, "Embeddings")["content_state"]
    assert cs["percentage"] == 100 and cs["subtitle"].startswith("Done · 20/20 in")
    assert [a.stream_key for a in sim.activities.values()] == ["Embeddings"]  # the bar started no stream of its own


@pytest.mark.parametrize(("options", "field"), [
    (dict(notify="sometimes"), "notify"),
    (dict(type="pie"), "type"),
    (dict(steps=0), "steps"),
    (dict(key="no spaces"), "key"),
    (dict(color="pink"), "color"),
    (dict(channels=[1, 2]), "channels"),
    (dict(channels=123), "channels"),
], ids=["notify", "type", "steps", "key", "color", "channels-numbers", "channels-number"])
def test_bad_options_raise_when_activity_is_called_before_anything_is_sent(client, sim, options, field) -> None:
    from activitysmith_jupyter.errors import PayloadError

    with pytest.raises((ValueError, PayloadError), match=field):
        activity("Nightly ETL", client=client, **options)
    assert sim.requests == []


def test_the_block_is_the_current_activity(client, sim) -> None:
    import activitysmith_jupyter
    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for

    assert activitysmith_jupyter.activity is activity
    with activity("Inner", client=client, sources=()) as a:
        assert isinstance(a, Activity) and current_activity() is a
    assert current_activity() is None and a.outcome == "completed"
    assert dispatcher_for(client).flush(5)  # before the fixture closes the client
    assert [r.method for r in sim.requests] == ["PUT", "DELETE", "POST"]

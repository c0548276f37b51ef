"""How a drop-in bar ends, as the user meets it: exceptions handled elsewhere, joblib, a script's exit."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from joblib import Parallel, delayed

from activitysmith_jupyter.tqdm import tqdm


def ended(sim, key: str) -> dict:
    found = [a.view() for a in sim.activities.values() if a.view()["stream_key"] == key]
    assert len(found) == 1, [a.view() for a in sim.activities.values()]
    assert found[0]["state"] == "ended"
    return found[0]["content_state"]


def test_a_bar_completed_inside_an_except_block_ends_completed(dispatcher, sim, null) -> None:
    try:
        {}["x"]
    except KeyError:
        for _ in tqdm(range(3), desc="Handled", dispatcher=dispatcher, file=null):
            pass
    assert dispatcher.flush(5)
    cs = ended(sim, "Handled")
    assert cs["subtitle"].startswith("Done · 3/3") and cs["color"] == "green" and cs["percentage"] == 100


def test_a_manual_bar_closed_full_inside_an_except_block_ends_completed(dispatcher, sim, null) -> None:
    try:
        {}["x"]
    except KeyError:
        with tqdm(total=4, desc="Manual handled", dispatcher=dispatcher, file=null) as bar:
            bar.update(4)
    assert dispatcher.flush(5)
    assert ended(sim, "Manual-handled")["subtitle"].startswith("Done · 4/4")


def test_a_manual_bar_closed_short_in_an_except_block_still_fails(dispatcher, sim, null) -> None:
    bar = tqdm(total=10, desc="Manual short", dispatcher=dispatcher, file=null)
    try:
        bar.update(2)
        {}["shard-7"]
    except KeyError:
        bar.close()
    assert dispatcher.flush(5)
    assert ended(sim, "Manual-short")["subtitle"].startswith("Failed at 2/10: KeyError: 'shard-7'")


@pytest.mark.parametrize("run", range(3), ids=lambda r: f"run{r}")
def test_joblib_parallel_over_a_bar_ends_completed(dispatcher, sim, null, run) -> None:
    squares = Parallel(n_jobs=2)(delayed(pow)(i, 2) for i in tqdm(range(60), desc="Joblib", dispatcher=dispatcher,
                                                                    file=null))
    assert squares == [i * i for i in range(60)]
    assert dispatcher.flush(5)
    cs = ended(sim, "Joblib")
    assert cs["subtitle"].startswith("Done · 60/60") and cs["color"] == "green"


SCRIPT = textwrap.dedent("""
    import os, sys
    from activitysmith_jupyter.tqdm import tqdm
    for x in tqdm(range(10), desc="Script bar", file=open(os.devnull, "w")):
        if x == 4:
            {stop}
""")


@pytest.mark.parametrize(
    ("stop", "code", "subtitle", "color"),
    [("sys.exit(0)", 0, "Stopped at 4/10", "orange"),
     ("raise SystemExit", 0, "Stopped at 4/10", "orange"),
     ("{}['shard-7']", 1, "Failed at 4/10: KeyError: 'shard-7'", "red")],
    ids=["sys-exit-0", "raise-SystemExit", "uncaught-error"],
)
def test_a_script_leaving_its_loop_by_exit_ends_by_how_it_exited(server, sim, tmp_path, stop, code, subtitle,
                                                                  color) -> None:
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_test_exit", "ACTIVITYSMITH_BASE_URL": server.url}
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.replace("{stop}", stop))
    done = subprocess.run([sys.executable, str(script)], env=env, timeout=60, capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    cs = ended(sim, "Script-bar")
    assert cs["subtitle"].startswith(subtitle) and cs["color"] == color
    if code:
        assert "KeyError: 'shard-7'" in done.stderr  # the user's traceback is still printed


def test_a_long_error_reaches_the_push_as_far_as_the_push_limit_allows(dispatcher, sim, null) -> None:
    """The drop-in cuts an error where every front end does (wording.MAX_EXC_MESSAGE), not at its own 80."""
    from activitysmith_jupyter.hub.wording import MAX_EXC_MESSAGE

    detail = "shard " + "x" * 150 + " is missing"
    with pytest.raises(KeyError):
        with tqdm(total=4, desc="Long error", dispatcher=dispatcher, file=null, notify="failure") as bar:
            bar.update(1)
            raise KeyError(detail)
    assert dispatcher.flush(5)
    [push] = sim.notifications
    message = push["request"]["message"]
    assert "shard " + "x" * 100 in message, message  # well past 80 characters
    assert len(message) <= MAX_EXC_MESSAGE + 40, message  # (the push adds its own short words around it)

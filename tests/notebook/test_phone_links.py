"""Issue 19, the pure rules: the public base URL (incl. JupyterHub's variables), the notebook's path and
its link, the buttons each type gets, the run records, and what an Activity sends with links."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from activitysmith_jupyter.hub.activity import Activity
from activitysmith_jupyter.hub.links import (
    RunLinks, check_public_url, document_path, notebook_path, notebook_url, public_base_url, run_page_url,
)
from activitysmith_jupyter.hub.links_here import configure, describe_links, links_here
from activitysmith_jupyter.hub.run_links import RunButtons, buttons
from activitysmith_jupyter.hub.run_records import (
    RUN_ID, RunRecord, mark_ended, new_run_id, prune, read_record, write_record,
)
from activitysmith_jupyter.notebook.cell_text import derive_title
from activitysmith_jupyter.notebook.server.liveness import parent_pid
from activitysmith_jupyter.simulator.page import render_page

BASE = "https://lab.example.org/"


@pytest.fixture(autouse=True)
def _no_configured_links():
    configure(public_url=None, open_in=None)
    yield
    configure(public_url=None, open_in=None)


# ------------------------------------------------------------------------------- the public base URL
@pytest.mark.parametrize(("env", "configured", "expected"), [
    ({}, None, None),  # nothing configured: no link, never a guessed localhost one
    ({"ACTIVITYSMITH_PUBLIC_URL": "https://lab.example.org"}, None, BASE),
    ({"ACTIVITYSMITH_PUBLIC_URL": "https://lab.example.org/jupyter//"}, None, "https://lab.example.org/jupyter/"),
    ({"ACTIVITYSMITH_PUBLIC_URL": "https://a.example.org/"}, "https://b.example.org/x", "https://b.example.org/x/"),
    ({"ACTIVITYSMITH_PUBLIC_URL": "HTTPS://Lab.Example.org/"}, None, "https://Lab.Example.org/"),
], ids=["none", "env", "env-path", "config-wins", "scheme-lowered"])
def test_public_base_url_from_config_then_env(env, configured, expected) -> None:
    assert public_base_url(env, configured) == expected


@pytest.mark.parametrize(("env", "expected"), [
    # JupyterHub >= 4.1 with c.JupyterHub.public_url: this server's public URL, on its prefix
    ({"JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"},
     "https://hub.example.org/user/alice/"),
    # a hub under a base URL: the prefix has it already
    ({"JUPYTERHUB_PUBLIC_URL": "https://example.org/jhub/user/bob%40x/", "JUPYTERHUB_SERVICE_PREFIX": "/jhub/user/bob%40x/"},
     "https://example.org/jhub/user/bob%40x/"),
    # a bare origin: the prefix gives the path
    ({"JUPYTERHUB_PUBLIC_URL": "https://hub.example.org", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"},
     "https://hub.example.org/user/alice/"),
    # a named server on subdomains
    ({"JUPYTERHUB_PUBLIC_URL": "https://alice.hub.example.org/user/alice/gpu/", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/gpu/"},
     "https://alice.hub.example.org/user/alice/gpu/"),
    # the hub without a public_url sets it empty: no link (its internal URLs are no use to a phone)
    ({"JUPYTERHUB_PUBLIC_URL": "", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
      "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:41233/user/alice/"}, None),
    ({"JUPYTERHUB_PUBLIC_URL": "not a url", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}, None),
    # our own setting wins over the hub's
    ({"JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/alice/", "ACTIVITYSMITH_PUBLIC_URL": "https://me.example.org/"},
     "https://me.example.org/"),
], ids=["hub", "hub-base-url", "hub-origin-only", "hub-subdomain", "hub-no-public-url", "hub-bad", "own-wins"])
def test_jupyterhub_public_url_and_service_prefix(env, expected) -> None:
    assert public_base_url(env) == expected


@pytest.mark.parametrize(("value", "words"), [
    ("lab.example.org", "absolute http:// or https://"),
    ("ftp://lab.example.org/", "absolute http:// or https://"),
    ("https://me:secret@lab.example.org/", "user name or password"),
    ("https://lab.example.org/?token=abc", "no ?query"),
])
def test_a_bad_public_url_is_refused_naming_it(value, words) -> None:
    with pytest.raises(ValueError, match="public_url") as info:
        check_public_url(value)
    assert words in str(info.value)
    with pytest.raises(ValueError, match="ACTIVITYSMITH_PUBLIC_URL"):
        public_base_url({"ACTIVITYSMITH_PUBLIC_URL": value})


# ------------------------------------------------------------------------------------ the path
@pytest.mark.parametrize(("ns", "env", "expected"), [
    ({}, {"JPY_SESSION_NAME": "experiments/train.ipynb"}, "experiments/train.ipynb"),
    # jupyter_server >= 2 with a session name: the kernel's directory joined with it, made relative
    ({}, {"JPY_SESSION_NAME": "/srv/nb/experiments/train.ipynb", "ACTIVITYSMITH_SERVER_ROOT": "/srv/nb"},
     "experiments/train.ipynb"),
    ({}, {"JPY_SESSION_NAME": "/srv/nb/experiments/train.ipynb"}, None),  # no root known: no link
    ({}, {"JPY_SESSION_NAME": "/elsewhere/train.ipynb", "ACTIVITYSMITH_SERVER_ROOT": "/srv/nb"}, None),
    ({}, {"JPY_SESSION_NAME": "3f2b1c9e-7d4a-4e55-9a0b-1c2d3e4f5a6b"}, None),  # an unnamed session
    ({}, {"JPY_SESSION_NAME": "console-1-3f2b1c9e"}, None),
    ({"__session__": "reports/weekly.ipynb"}, {}, "reports/weekly.ipynb"),  # ipykernel's copy
    ({"__vsc_ipynb_file__": "/home/me/train.ipynb"}, {}, None),  # VS Code: a title, no link
    ({"PAPERMILL_INPUT_PATH": "in/train.ipynb"}, {}, None),  # papermill: a title, no link
], ids=["relative", "absolute-under-root", "absolute-no-root", "outside-root", "uuid", "console", "__session__",
        "vscode", "papermill"])
def test_notebook_path(ns, env, expected) -> None:
    assert notebook_path(ns, env) == expected


def test_vscode_and_papermill_still_title_the_run_and_a_uuid_session_does_not() -> None:
    assert derive_title("x = 1", {"__vsc_ipynb_file__": "/home/me/train.ipynb"}, {}, 3) == "train"
    assert derive_title("x = 1", {"PAPERMILL_INPUT_PATH": "in/etl.ipynb"}, {}, 3) == "etl"
    assert derive_title("x = 1", {"__session__": "reports/weekly.ipynb"}, {}, 3) == "weekly"
    assert derive_title("# Train\nx", {}, {"JPY_SESSION_NAME": "3f2b1c9e-7d4a-4e55-9a0b-1c2d3e4f5a6b"}, 3) == "Train"
    assert not document_path("3f2b1c9e7d4a4e559a0b1c2d3e4f5a6b") and document_path("a/b.ipynb")


def test_links_lab_and_notebook_7_forms_percent_encoded() -> None:
    path = "my runs/ü train#1.ipynb"
    assert notebook_url(BASE, path) == BASE + "lab/tree/my%20runs/%C3%BC%20train%231.ipynb"
    assert notebook_url(BASE, path, "notebook") == BASE + "notebooks/my%20runs/%C3%BC%20train%231.ipynb"
    assert run_page_url(BASE + "activitysmith/runs/", "abc_-XYZ") == BASE + "activitysmith/runs/abc_-XYZ"


# ------------------------------------------------------------------------------- links of a process
def test_outside_a_kernel_there_are_no_links_even_with_a_public_url() -> None:
    env = {"ACTIVITYSMITH_PUBLIC_URL": BASE, "JPY_SESSION_NAME": "a.ipynb", "ACTIVITYSMITH_RUNS_DIR": "/tmp/x"}
    assert links_here(env) == RunLinks() and not links_here(env)  # pytest is no kernel


def test_links_of_a_kernel(tmp_path) -> None:
    env = {"ACTIVITYSMITH_PUBLIC_URL": BASE, "JPY_SESSION_NAME": "a/b.ipynb", "ACTIVITYSMITH_RUNS_DIR": str(tmp_path)}
    links = links_here(env, kernel="k-1", user_ns={})
    assert links == RunLinks(notebook=BASE + "lab/tree/a/b.ipynb", runs=BASE + "activitysmith/runs/",
                             kernel_id="k-1", records=str(tmp_path))
    assert links.can_stop
    # no public URL: nothing; no server extension (no records dir): the notebook link only
    assert links_here({"JPY_SESSION_NAME": "a/b.ipynb"}, kernel="k-1", user_ns={}) == RunLinks()
    only_open = links_here({**env, "ACTIVITYSMITH_RUNS_DIR": ""}, kernel="k-1", user_ns={})
    assert only_open.notebook and not only_open.can_stop
    # %config ActivitySmithMagics.public_url / open_in win over the environment
    configure(public_url="https://hub.example.org/user/a/", open_in="notebook")
    assert links_here(env, kernel="k-1", user_ns={}).notebook == "https://hub.example.org/user/a/notebooks/a/b.ipynb"
    configure(public_url=None, open_in=None)
    assert links_here({**env, "ACTIVITYSMITH_OPEN_IN": "Notebook"}, kernel="k", user_ns={}).notebook == \
        BASE + "notebooks/a/b.ipynb"


def test_status_says_where_the_buttons_lead_or_why_there_are_none(tmp_path) -> None:
    assert describe_links(RunLinks(), in_kernel=False) == "none (not a Jupyter kernel)"
    assert "ACTIVITYSMITH_PUBLIC_URL" in describe_links(RunLinks(), in_kernel=True)
    env = {"ACTIVITYSMITH_PUBLIC_URL": BASE, "JPY_SESSION_NAME": "a.ipynb"}
    only_open = describe_links(links_here(env, kernel="k", user_ns={}), in_kernel=True)
    assert only_open == f"Open notebook {BASE}lab/tree/a.ipynb; no Stop page (the server runs without our extension)"
    both = links_here({**env, "ACTIVITYSMITH_RUNS_DIR": str(tmp_path)}, kernel="k", user_ns={})
    assert describe_links(both, in_kernel=True).endswith("; Stop page on")


def test_the_magics_config_reaches_the_links(tmp_path) -> None:
    from IPython.testing.globalipapp import get_ipython
    from traitlets import TraitError

    from activitysmith_jupyter.notebook.magics import ActivitySmithMagics

    magics = ActivitySmithMagics(shell=get_ipython())
    magics.public_url = "https://lab.example.org/team"
    magics.open_in = "notebook"
    env = {"JPY_SESSION_NAME": "a.ipynb"}
    assert links_here(env, kernel="k", user_ns={}).notebook == "https://lab.example.org/team/notebooks/a.ipynb"
    with pytest.raises(TraitError, match="absolute http"):
        magics.public_url = "lab.example.org"
    magics.public_url = None
    assert links_here(env, kernel="k", user_ns={}) == RunLinks()


# ------------------------------------------------------------------------------------- buttons
def test_buttons_per_type() -> None:
    nb, stop = BASE + "lab/tree/a.ipynb", BASE + "activitysmith/runs/x"
    both = buttons(nb, stop, "progress")
    assert both == {"action": {"title": "Open notebook", "type": "open_url", "url": nb},
                    "secondary_action": {"title": "Stop", "type": "open_url", "url": stop}}
    assert buttons(nb, stop, "segmented_progress") == both
    assert buttons(nb, stop, "stats") == {"action": both["action"]}  # the API shows no second button there
    assert buttons(None, stop, "stats") == {"action": {"title": "Stop", "type": "open_url", "url": stop}}
    assert buttons(None, None, "progress") == {}


# ----------------------------------------------------------------------------------- run records
def test_records_are_private_hold_no_secret_and_refuse_path_like_ids(tmp_path) -> None:
    directory = str(tmp_path / "runs")
    run_id = new_run_id()
    assert RUN_ID.match(run_id) and len(run_id) >= 22  # 16 random bytes
    assert len({new_run_id() for _ in range(1000)}) == 1000
    write_record(directory, RunRecord(run_id=run_id, kernel_id="k", pid=os.getpid(), title="Train", started=1.0))
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    path = os.path.join(directory, run_id + ".json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="utf-8") as f:
        assert set(json.load(f)) == {"run_id", "kernel_id", "pid", "title", "started", "state", "ended", "outcome"}
    for bad in ("../runs/x", "..", "a" * 10, run_id + "/", "x.json"):
        assert read_record(directory, bad) is None
    mark_ended(directory, run_id, "interrupted", at=5.0)
    record = read_record(directory, run_id)
    assert record is not None and (record.state, record.outcome, record.ended) == ("ended", "interrupted", 5.0)
    prune(directory, now=5.0 + 3600)  # kept a day for the stale buttons
    assert read_record(directory, run_id) is not None
    prune(directory, now=5.0 + 86400 + 1)
    assert read_record(directory, run_id) is None


def test_parent_pid_of_a_real_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert parent_pid(child.pid) == os.getpid()
    finally:
        child.kill()
        child.wait()
    assert parent_pid(child.pid) is None


# --------------------------------------------------------------------------- an activity with links
def _links(tmp_path) -> RunLinks:
    return RunLinks(notebook=BASE + "lab/tree/a.ipynb", runs=BASE + "activitysmith/runs/", kernel_id="k-7",
                    records=str(tmp_path / "runs"))


def _stop_id(body) -> str:
    url = body["secondary_action"]["url"]
    assert url.startswith(BASE + "activitysmith/runs/")
    return url.rsplit("/", 1)[1]


def test_an_activity_sends_its_buttons_records_its_run_and_its_push_opens_the_notebook(sim, dispatcher, tmp_path) -> None:
    act = Activity("Train", links=_links(tmp_path), dispatcher=dispatcher)
    act.start(background=False)
    dispatcher.flush(5)
    [start] = [r.json for r in sim.requests if r.method == "PUT"]
    assert start["action"] == {"title": "Open notebook", "type": "open_url", "url": BASE + "lab/tree/a.ipynb"}
    run_id = _stop_id(start)
    record = read_record(str(tmp_path / "runs"), run_id)
    assert record is not None and (record.kernel_id, record.pid, record.title, record.state) == \
        ("k-7", os.getpid(), "Train", "running")
    act.update(percentage=40)  # every state keeps both buttons
    dispatcher.flush(5)
    assert _stop_id([r.json for r in sim.requests if r.method == "PUT"][-1]) == run_id
    act.end("interrupted")
    dispatcher.flush(5)
    record = read_record(str(tmp_path / "runs"), run_id)
    assert record is not None and (record.state, record.outcome) == ("ended", "interrupted")
    [end] = [r.json for r in sim.requests if r.method == "DELETE"]
    assert end["action"]["title"] == "Open notebook" and "secondary_action" not in end  # no Stop on an ended run
    [push] = [r.json for r in sim.requests if r.method == "POST" and r.path.endswith("/push-notification")]
    assert push["redirection"] == BASE + "lab/tree/a.ipynb" and "interrupted" in push["title"]


def test_each_run_of_the_same_options_gets_its_own_run_id(sim, dispatcher, tmp_path) -> None:
    from activitysmith_jupyter import activity

    runs = activity("Nightly", links=_links(tmp_path), dispatcher=dispatcher, notify="never")
    for _ in range(2):
        with runs:
            pass
    dispatcher.flush(5)
    ids = [_stop_id(r.json) for r in sim.requests if r.method == "PUT"]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(read_record(str(tmp_path / "runs"), i).state == "ended" for i in ids)  # type: ignore[union-attr]


def test_without_links_nothing_changes_on_the_wire(sim, dispatcher) -> None:
    act = Activity("Plain", dispatcher=dispatcher)  # pytest is no kernel: RunLinks()
    assert act.links == RunLinks()
    act.start(background=False)
    act.end("completed")
    dispatcher.flush(5)
    bodies = [r.json for r in sim.requests if r.json]
    assert bodies and not any({"action", "secondary_action", "redirection"} & set(b) for b in bodies)


def test_a_stats_run_offers_open_notebook_only_and_writes_no_record(tmp_path) -> None:
    run = RunButtons(_links(tmp_path), "stats")
    run.opened("Grid")
    assert set(run.fields) == {"action"} and run.run_id is None
    assert not (tmp_path / "runs").exists()


def test_a_record_that_cannot_be_written_keeps_the_run_going(sim, dispatcher, tmp_path) -> None:
    blocker = tmp_path / "runs"
    blocker.write_text("a file where the directory should be")
    act = Activity("Train", links=_links(tmp_path), dispatcher=dispatcher)
    act.start(background=False)
    act.end("completed")
    assert dispatcher.flush(5) and act.outcome == "completed"


# ------------------------------------------------------------------------------ the simulator page
def test_the_simulator_page_shows_the_buttons_and_opens_their_urls(sim, dispatcher, tmp_path) -> None:
    act = Activity("Train", links=_links(tmp_path), dispatcher=dispatcher)
    act.start(background=False)
    dispatcher.flush(5)
    page = render_page(sim)
    assert 'data-type="open_url" data-url="https://lab.example.org/lab/tree/a.ipynb"' in page
    assert "activitysmith/runs/" in page and ">Stop<" in page and ">Open notebook<" in page
    assert "window.open(url, '_blank', 'noopener')" in page and "https?:" in page  # http(s) only
    act.end("completed")
    dispatcher.flush(5)
    assert "Opens https://lab.example.org/lab/tree/a.ipynb" in render_page(sim)  # the push's tap


def test_a_script_and_activitysmith_run_get_no_link_even_inside_a_servers_environment(server, sim, tmp_path) -> None:
    """A process the kernel launched (``!python job.py``, ``!activitysmith run``) inherits the public URL
    and the session name, but it is no kernel: no button, no record."""
    from process_helpers import child_env, python, script

    env = child_env(server, ACTIVITYSMITH_PUBLIC_URL=BASE, JPY_SESSION_NAME="a.ipynb",
                    ACTIVITYSMITH_RUNS_DIR=str(tmp_path / "runs"))
    job = script(tmp_path, """
        from activitysmith_jupyter import activity
        with activity("Nightly ETL"):
            pass
    """)
    assert python(job, env).returncode == 0
    command = subprocess.run([sys.executable, "-m", "activitysmith_jupyter", "run", "-k", "cmd", "--",
                              sys.executable, "-c", "pass"], env=env, capture_output=True, text=True, timeout=60)
    assert command.returncode == 0, command.stderr
    bodies = [r.json for r in sim.requests if isinstance(r.json, dict)]
    assert {r.path.rsplit("/", 1)[-1] for r in sim.requests if r.method == "PUT"} >= {"Nightly-ETL", "cmd"}
    assert not any({"action", "secondary_action", "redirection"} & set(b) for b in bodies)
    assert not (tmp_path / "runs").exists()


def test_a_stall_push_opens_the_notebook_too(sim, dispatcher, tmp_path) -> None:
    from activitysmith_jupyter.clock import FakeClock
    from activitysmith_jupyter.hub.outcome import Snapshot

    clock = FakeClock()
    act = Activity("Train", links=_links(tmp_path), dispatcher=dispatcher, clock=clock).start()
    act.feed(Snapshot(n=47, total=100))
    clock.advance(1200)
    act.tick()
    assert dispatcher.flush(5)
    [push] = [n["request"] for n in sim.notifications]
    assert push["title"].startswith("⚠️ Train has made no progress") and push["redirection"] == BASE + "lab/tree/a.ipynb"
    act.end("completed")

"""End to end: the API key never appears in a repr, an error, a log line, a notebook output or widget state.

One distinctive key goes through every surface over the real HTTP transports (the loopback simulator
server, sync and async clients), with every logger at DEBUG, and the test looks for the key and its
distinctive tail in everything the user or a saved notebook could see.
"""
from __future__ import annotations

import io
import json
import logging
import os
import socket
import textwrap
import traceback
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shell_helpers import fresh_shell

from activitysmith_jupyter.api.client import ActivitySmith, AsyncActivitySmith
from activitysmith_jupyter.clock import FakeClock
from activitysmith_jupyter.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PayloadError,
    RateLimitError,
    ServerError,
)
from activitysmith_jupyter.simulator import Simulator

KEY = "ask_live_SECRET_7f3a9c2e1b"
OTHER_KEY = "ask_live_OTHER_0000000000"  # what a simulator started for another account accepts
NEEDLES = (KEY, "SECRET_7f3a9c2e1b", "7f3a9c2e1b")
LOGGERS = (None, "activitysmith_jupyter", "activitysmith_jupyter.simulator", "httpx", "httpcore")


def assert_clean(*texts: Any) -> None:
    for text in texts:
        text = text if isinstance(text, str) else repr(text)
        for needle in NEEDLES:
            assert needle not in text, f"{needle!r} leaked into: {text[max(0, text.find(needle) - 300):][:600]}"


@pytest.fixture
def logs(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG (root, ours, httpx, httpcore); checked clean after the test."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog
    records = caplog.get_records("setup") + caplog.get_records("call")  # caplog.text is per phase
    assert records, "nothing was logged: the capture is not working"
    assert_clean("\n".join(logging.Formatter().format(r) for r in records))  # message, args, exc_info


@pytest.fixture
def shown_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield seen
    assert_clean("\n".join(str(w.message) for w in seen))


@pytest.fixture
def other_server() -> Iterator[Any]:
    """A simulator that only accepts another key: every request of ours gets a real 401."""
    sim = Simulator(api_key=OTHER_KEY, clock=FakeClock())
    with sim.serve() as srv:
        yield srv


@pytest.fixture
def dead_url() -> str:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def error_texts(err: BaseException) -> list[str]:
    """Everything an error shows: str, repr, the chained traceback, its body and its cause."""
    texts = [str(err), repr(err), "".join(traceback.format_exception(err)), repr(vars(err))]
    cause = err.__cause__ or err.__context__
    while cause is not None:
        texts += [str(cause), repr(cause), repr(vars(cause))]
        cause = cause.__cause__ or cause.__context__
    return texts


async def _call(client: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    owner, _, method = name.rpartition(".")
    target = getattr(client, owner) if owner else client
    result = getattr(target, method)(*args, **kwargs)
    if isinstance(client, AsyncActivitySmith):
        result = await result
    return result


async def _close(client: Any) -> None:
    if isinstance(client, AsyncActivitySmith):
        await client.aclose()
    else:
        client.close()


def _client(kind: str, base_url: str, **kwargs: Any) -> Any:
    return (ActivitySmith if kind == "sync" else AsyncActivitySmith)(KEY, base_url=base_url, **kwargs)


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


# ------------------------------------------------------------------------------ client, responses


@KINDS
@pytest.mark.anyio
async def test_client_resources_settings_and_responses_hide_the_key(kind, server, sim, logs) -> None:
    c = _client(kind, server.url)
    try:
        view = c.with_options(max_retries=0, timeout=3)
        seen = [repr(c), str(c), c.api_key_hint, repr(c._settings), str(c._settings), repr(c._http),
                repr(c._http.headers), repr(view), repr(c.notifications), repr(c.live_activities), repr(c.metrics),
                repr(c.live_activities.content_state("x", type="progress", percentage=1))]
        responses = [
            await _call(c, "notifications.send", title="Backup done", message="412 GB"),
            await _call(c, "live_activities.stream", "job", title="Job", type="progress", percentage=10),
            await _call(c, "live_activities.end_stream", "job", title="Job", type="progress", percentage=100),
            await _call(c, "metrics.update", "deploy.rate", 0.98),
            await _call(c, "badge_count", 3),
        ]
        seen += [repr(r) for r in responses] + [json.dumps(r.to_dict()) for r in responses]
        with pytest.raises(PayloadError) as bad:
            await _call(c, "notifications.send", title="x", colour="red")
        seen += error_texts(bad.value)
    finally:
        await _close(c)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in sim.requests)  # the key did go out
    assert_clean(*seen, repr(sim), repr(sim.requests), json.dumps([r.to_dict() for r in sim.requests]))


# ------------------------------------------------------------------------------ errors from real failures


@KINDS
@pytest.mark.anyio
async def test_every_error_from_a_real_failure_hides_the_key(kind, server, sim, other_server, dead_url,
                                                            logs) -> None:
    slow = Simulator()  # system clock: the delay really happens, the client really times out
    caught: list[BaseException] = []

    async def expect(cls: type[BaseException], base_url: str, name: str, *args: Any, **kwargs: Any) -> None:
        # retries on a fake clock: they run (and log) without real waiting
        c = _client(kind, base_url, clock=FakeClock(), rng=lambda: 0.0, timeout=kwargs.pop("timeout", 5.0))
        try:
            with pytest.raises(cls) as info:
                await _call(c, name, *args, **kwargs)
        finally:
            await _close(c)
            sim.clear_faults()
        caught.append(info.value)

    stream = ("live_activities.stream", "job")
    fields = {"title": "Job", "type": "progress", "percentage": 5}
    with slow.serve() as slow_server:
        await expect(AuthenticationError, other_server.url, "notifications.send", title="x")
        await expect(AuthenticationError, other_server.url, *stream, **fields)
        sim.inject(400, times=1)
        await expect(BadRequestError, server.url, "notifications.send", title="x")
        await expect(NotFoundError, server.url, "live_activities.end_stream", "never-started")
        sim.inject(429, times=5, retry_after=1)
        await expect(RateLimitError, server.url, *stream, **fields)
        sim.inject(503, times=5)
        await expect(ServerError, server.url, *stream, **fields)
        await expect(APIConnectionError, dead_url, "notifications.send", title="x")
        await expect(APIConnectionError, dead_url, *stream, **fields)
        sim.inject(drop=True, times=5)
        await expect(APIConnectionError, server.url, *stream, **fields)
        sim.inject(malformed=True, times=1)
        await expect(APIError, server.url, "notifications.send", title="x")
        slow.inject(delay=1.0, times=1)
        await expect(APITimeoutError, slow_server.url, "notifications.send", title="x", timeout=0.2)
    assert {type(e).__name__ for e in caught} >= {"AuthenticationError", "BadRequestError", "NotFoundError",
                                                 "RateLimitError", "ServerError", "APIConnectionError",
                                                 "APITimeoutError", "APIError"}
    assert any("retrying" in r.getMessage() for r in logs.records)  # the retry log lines were exercised
    for err in caught:
        assert_clean(*error_texts(err))
    assert_clean(other_server.simulator.timeline(), repr(other_server.simulator.requests))


# ------------------------------------------------------------------------------ dispatcher, tqdm


def test_dispatcher_and_tqdm_bar_hide_the_key_on_success_and_failure(server, other_server, dead_url, logs,
                                                                     shown_warnings) -> None:
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher
    from activitysmith_jupyter.tqdm import tqdm

    seen: list[str] = []
    for url in (server.url, other_server.url, dead_url):
        out = io.StringIO()
        with ActivitySmith(KEY, base_url=url) as c:
            d = Dispatcher(c, exit_timeout=0.5)
            for _ in tqdm(range(50), desc="Secret test bar", dispatcher=d, file=out, mininterval=0):
                pass
            d.push({"title": "Done"})
            d.flush(timeout=0.5 if url == dead_url else 5)
            seen += [out.getvalue(), repr(d), repr(d.stats), repr(d.client), repr(d.last_error)]
            if d.last_error is not None:
                seen += error_texts(d.last_error)
            d.close(timeout=0.1)
    assert "401" in "".join(seen) and "Could not connect" in "".join(seen)  # both failures were met
    assert any(" failed: " in r.getMessage() for r in logs.records)  # the failure lines the user sees were exercised
    assert_clean(*seen)


# ------------------------------------------------------------------------------ magics


@pytest.fixture
def shell(server) -> Iterator[Any]:
    pytest.importorskip("IPython")
    with fresh_shell(extension=True) as ip:
        yield ip


def test_magics_status_cells_and_verbose_tracebacks_hide_the_key(shell, server, sim, other_server, logs,
                                                                 shown_warnings, capsys) -> None:
    from IPython.utils.capture import capture_output

    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for

    live = ActivitySmith(KEY, base_url=server.url)
    bad = ActivitySmith(KEY, base_url=other_server.url)
    shell.user_ns.update(live=live, bad=bad)
    seen: list[str] = []
    cells = [
        "%config ActivitySmithMagics.client = 'live'",
        "%%activitysmith_progress -k ok -t 'Secret ok'\nx = 6 * 7",
        "%%activitysmith_progress -k boom -t 'Secret boom'\ndef train():\n    raise RuntimeError('diverged')\ntrain()",
        "%activitysmith status",
        "%activitysmith notify 'hello'",
        "%config ActivitySmithMagics.client = 'bad'",
        "%%activitysmith_progress -k denied -t Denied\npass",
        "%xmode Verbose",
        "live",
        "bad.notifications.send(title='x')",  # an AuthenticationError in user code, with every frame's locals
        "from activitysmith_jupyter.tqdm import tqdm\nfor _ in tqdm(range(20), client=live): pass",
    ]
    for cell in cells:
        with capture_output() as cap:
            result = shell.run_cell(cell, store_history=True)
        seen += [cap.stdout, cap.stderr, "".join(repr(o.data) for o in cap.outputs), repr(result.result)]
    for client in (live, bad):
        d = dispatcher_for(client)
        d.flush(timeout=5)
        seen += [repr(d), repr(d.last_error)]
    with capture_output() as cap:
        shell.run_cell("%activitysmith status")
    seen += [cap.stdout, cap.stderr]
    seen.append(capsys.readouterr().out + capsys.readouterr().err)
    text = "\n".join(seen)
    assert "API key:    ask_…" in text and "AuthenticationError" in text and "Verbose" in text
    failure_push = [r.json for r in sim.requests if r.path == "/push-notification" and "boom" in r.json["title"]]
    assert failure_push and "diverged" in failure_push[0]["message"]
    seen += [json.dumps([r.json for r in sim.requests]), sim.timeline()]
    for client in (live, bad):
        dispatcher_for(client).close(timeout=0.1)
        client.close()
    assert_clean(*seen)


# ------------------------------------------------------------------------------ Composer


def _widget_tree(widget: Any, found: dict[str, Any]) -> dict[str, Any]:
    from ipywidgets import Widget

    if widget.model_id in found:
        return found
    found[widget.model_id] = widget
    for name in widget.keys:
        value = getattr(widget, name, None)
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, Widget):
                _widget_tree(v, found)
    return found


def test_composer_state_code_and_results_hide_the_key(server, other_server, logs) -> None:
    pytest.importorskip("ipywidgets")
    from ipywidgets import Widget

    from activitysmith_jupyter.composer.widget import Composer

    seen: list[str] = []
    composers = []
    for url in (server.url, other_server.url):
        client = ActivitySmith(KEY, base_url=url)
        c = Composer(client=client)
        c.payload = {"title": "Build done", "message": "All green"}
        c.send_button.click()
        c.payload = {"content_state": {"title": "Nightly", "type": "progress", "percentage": 40}}
        c.stream_key = "nightly"
        c.stream_button.click()
        c.end_button.click()
        seen += [c.python_code, c.json_text, repr(c), json.dumps(c.result), repr(c.last_response)]
        composers.append((c, client))
    assert composers[0][0].result["ok"] is True
    assert composers[1][0].result["error"]["type"] == "AuthenticationError"
    for c, _ in composers:
        tree = _widget_tree(c, {})
        assert len(tree) > 20
        seen += [json.dumps(w.get_state(), default=repr) for w in tree.values()]
    seen.append(json.dumps(Widget.get_manager_state(drop_defaults=False), default=repr))
    assert_clean(*seen)
    for c, client in composers:
        c.close()
        client.close()


# ------------------------------------------------------------------------------ simulator views


def test_simulator_timeline_page_and_state_json_hide_the_key(logs) -> None:
    sim = Simulator(api_key=KEY)  # the simulator that knows the key must not show it either
    with sim.serve() as srv, ActivitySmith(KEY, base_url=srv.url) as c:
        c.notifications.send(title="Backup done")
        c.live_activities.stream("job", title="Job", type="progress", percentage=10)
        c.live_activities.end_stream("job")
        c.metrics.update("deploy.rate", 1)
        c.badge_count(2)
        with ActivitySmith("ask_wrong_key_000000", base_url=srv.url) as wrong, pytest.raises(AuthenticationError):
            wrong.notifications.send(title="x")
        page = urllib.request.urlopen(srv.url + "/", timeout=5).read().decode()
        state = urllib.request.urlopen(srv.url + "/_sim/state", timeout=5).read().decode()
        texts = [page, state, sim.timeline(), repr(sim), repr(srv), repr(sim.requests), repr(sim.events),
                 json.dumps([r.to_dict() for r in sim.requests]), json.dumps([e.to_dict() for e in sim.events]),
                 json.dumps(sim.snapshot()), repr(sim.lock_screen()), repr(sim.notifications),
                 repr(sim.transport())]
    assert "Backup done" in page and "Backup done" in state
    assert_clean(*texts)


# ------------------------------------------------------------------------------ a real kernel


NOTEBOOK_CELLS = [
    "import logging, os\nlogging.basicConfig(level=logging.DEBUG, force=True)  # every log line into the outputs\n"
    "other = os.environ['OTHER_URL']  # (a Verbose traceback of a line reading os.environ shows all of it)",
    "from activitysmith_jupyter import ActivitySmith, Composer\nclient = ActivitySmith()\nclient",
    "client.notifications.send(title='From the kernel')",
    "from activitysmith_jupyter import AsyncActivitySmith\n"
    "async with AsyncActivitySmith() as aclient:  # stock httpx + httpcore, which log at DEBUG\n"
    "    r = await aclient.notifications.send(title='From async')\nr",
    "client.live_activities.stream('kjob', title='Kernel job', type='progress', percentage=30)",
    "from activitysmith_jupyter.tqdm import tqdm\nfor _ in tqdm(range(30), desc='Kernel bar'): pass",
    "%load_ext activitysmith_jupyter",
    "%%activitysmith_progress -k kcell -t 'Kernel cell'\nx = 1",
    "%activitysmith status",
    "Composer.from_payload({'title': 'Hi'})",
    "%xmode Verbose",
    "ActivitySmith(base_url=other).notifications.send(title='denied')",
    "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
    "    from activitysmith_jupyter.delivery.dispatcher import dispatcher_for\n"
    "    d = dispatcher_for(ActivitySmith(base_url=other))\n"
    "    d.push({'title': 'denied'})\n    d.flush(5)\nd.last_error, d.stats",
    "dispatcher_for(client).flush(5)\nprint(client, client.api_key_hint, client.mode == 'live')",
]


def test_notebook_run_with_the_key_in_the_environment_saves_no_secret(monkeypatch, server, sim, other_server,
                                                                      tmp_path) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", KEY)
    monkeypatch.setenv("ACTIVITYSMITH_BASE_URL", server.url)
    monkeypatch.setenv("OTHER_URL", other_server.url)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                       os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in NOTEBOOK_CELLS]
    failing = next(c for c in nb.cells if "title='denied'" in c.source and "dispatcher_for" not in c.source)
    failing.metadata["tags"] = ["raises-exception"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=60, store_widget_state=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    saved = nbformat.writes(nb)
    (tmp_path / "executed.ipynb").write_text(saved, encoding="utf-8")
    assert "AuthenticationError" in saved and "401" in saved
    assert "ask_…" in saved and "True" in nb.cells[-1].outputs[-1]["text"]  # the kernel did have the key
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in sim.requests)
    logged = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr")
    assert "httpcore" in logged and "HTTP Request" in logged  # the DEBUG log lines reached the outputs
    assert_clean(saved)

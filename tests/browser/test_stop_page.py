"""Issue 19 end to end: a real ``jupyter server`` (token login, our extension enabled by its installed
config), a notebook session made through its REST API, its kernel running a ``%%activitysmith_progress``
cell that sleeps 60 s, the API side on a loopback simulator server, and headless chromium standing in
for the phone's browser: it opens the simulator page, taps the Live Activity's Stop, logs in with the
token, presses Stop on the run's page; the cell ends interrupted within 2 s and the push says so.
The refusals: no login, a made-up id, a stale button, a POST without the XSRF token.

With ACTIVITYSMITH_DOCS_SCREENSHOTS=1 the Stop page's screenshot for the docs is written to
docs/img/stop-page.png. Skipped when /usr/bin/chromium is missing, unless ACTIVITYSMITH_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from process_helpers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"  # the docs page's screenshots (made here)
API_KEY = "ask_fake_" + secrets.token_hex(8)  # the kernel's key: never on a page or in a record
NOTEBOOK = "experiments/train.ipynb"
CELL = "%%activitysmith_progress\nimport time\ntime.sleep(60)\n"
PHONE = {"viewport": {"width": 390, "height": 640}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _wait_for(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def jupyter(sim_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``jupyter server`` on 127.0.0.1 with a token; its public URL (ACTIVITYSMITH_PUBLIC_URL) is itself."""
    base = tmp_path_factory.mktemp("jupyter")
    root, runtime = base / "root", base / "runtime"
    (root / "experiments").mkdir(parents=True)
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(), str(root / NOTEBOOK))
    port, token = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIVITYSMITH_", "JUPYTERHUB_", "JPY_"))}
    env.update({
        "ACTIVITYSMITH_API_KEY": API_KEY, "ACTIVITYSMITH_BASE_URL": sim_server.url,
        "ACTIVITYSMITH_PUBLIC_URL": url + "/",  # stands in for https://lab.example.org/
        "JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_DATA_DIR": str(base / "data"), "JUPYTER_PLATFORM_DIRS": "1",
    })
    argv = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail("jupyter server exited:\n" + (base / "server.log").read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:  # noqa: S310
                    return bool(r.status == 200)
            except OSError:
                return False

        _wait_for(ready, 60, "jupyter server")
        yield {"url": url, "token": token, "root": root, "runtime": runtime, "log": base / "server.log"}
    finally:
        proc.send_signal(signal.SIGTERM)  # also ends its kernels
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _api(jupyter: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(f"{jupyter['url']}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {jupyter['token']}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310 - loopback
        raw = r.read()
    return json.loads(raw) if raw else None


class Kernel:
    """The session's kernel, driven through its connection file (jupyter_client), as a front end would."""

    def __init__(self, jupyter: dict[str, Any], session: dict[str, Any]) -> None:
        from jupyter_client import BlockingKernelClient

        self.id = session["kernel"]["id"]
        self.client = BlockingKernelClient(connection_file=str(jupyter["runtime"] / f"kernel-{self.id}.json"))
        self.client.load_connection_file()
        self.client.start_channels(hb=False)  # heartbeats miss on a loaded machine; replies tell enough
        self.client.wait_for_ready(timeout=60)

    def execute(self, code: str) -> str:
        return str(self.client.execute(code))

    def reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return dict(msg["content"])

    def still_running(self, msg_id: str, for_seconds: float) -> bool:
        try:
            self.reply(msg_id, for_seconds)
        except queue.Empty:
            return True
        return False


@pytest.fixture(scope="module")
def kernel(jupyter: dict[str, Any]) -> Iterator[Kernel]:
    session = _api(jupyter, "POST", "/api/sessions", {"path": NOTEBOOK, "name": "train.ipynb", "type": "notebook",
                                                       "kernel": {"name": "python3"}})
    k = Kernel(jupyter, session)
    assert k.reply(k.execute("%load_ext activitysmith_jupyter"), 60)["status"] == "ok"
    try:
        yield k
    finally:
        k.client.stop_channels()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone browser: no login yet."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        context.close()


# ------------------------------------------------------------------------------------ helpers
def _starts(sim: Any) -> list[dict[str, Any]]:
    return [r.json for r in sim.requests if r.method == "PUT" and "/live-activity/stream/" in r.path
            and isinstance(r.json, dict) and "secondary_action" in r.json]


def _start_run(kernel: Kernel, sim: Any) -> tuple[str, dict[str, Any]]:
    """Run the sleeping magic cell; its first state (with a Stop URL no earlier run had)."""
    seen = {s["secondary_action"]["url"] for s in _starts(sim)}
    msg_id = kernel.execute(CELL)
    fresh = _wait_for(lambda: [s for s in _starts(sim) if s["secondary_action"]["url"] not in seen], 20, "the start")
    return msg_id, fresh[0]


def _run_id(start: dict[str, Any]) -> str:
    return str(start["secondary_action"]["url"].rsplit("/", 1)[1])


def _record(jupyter: dict[str, Any], run_id: str) -> dict[str, Any]:
    return dict(json.loads((jupyter["runtime"] / "activitysmith-runs" / f"{run_id}.json").read_text()))


def _log_in(page: Any, jupyter: dict[str, Any]) -> None:
    """The login page the server sent us to: paste the token, as a user does on a phone."""
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#password_input", jupyter["token"])
    page.click("#login_submit")


def _interrupt(jupyter: dict[str, Any], kernel: Kernel, msg_id: str) -> dict[str, Any]:
    """End a run through the REST API (the Interrupt button's call), and wait for its cell."""
    _api(jupyter, "POST", f"/api/kernels/{kernel.id}/interrupt")
    return kernel.reply(msg_id, 15)


# -------------------------------------------------------------------------------------- tests
def test_the_extension_is_enabled_on_install() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"activitysmith_jupyter\s+enabled", text), text
    assert re.search(r"activitysmith_jupyter [^\n]*OK", text), text


def test_stop_from_the_phone_interrupts_the_cell_and_the_push_says_so(jupyter, sim_server, kernel, phone) -> None:
    from playwright.sync_api import expect

    sim, base = sim_server.simulator, jupyter["url"] + "/"
    msg_id, start = _start_run(kernel, sim)
    notebook_url = base + "lab/tree/" + NOTEBOOK
    assert start["action"] == {"title": "Open notebook", "type": "open_url", "url": notebook_url}
    assert start["secondary_action"]["title"] == "Stop"
    assert start["secondary_action"]["url"].startswith(base + "activitysmith/runs/")
    run_id = _run_id(start)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", run_id)  # >= 128 random bits
    assert start["content_state"]["title"] == "train"  # the notebook's name

    path = jupyter["runtime"] / "activitysmith-runs" / f"{run_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    record = _record(jupyter, run_id)
    assert (record["kernel_id"], record["title"], record["state"]) == (kernel.id, "train", "running")
    assert API_KEY not in path.read_text() and "sleep" not in path.read_text()

    # the simulated phone: tap the Live Activity's Stop; the phone's browser opens the run's page
    lock_screen = phone.new_page()
    lock_screen.goto(sim_server.url + "/")
    stop_button = lock_screen.locator(".asj-secondary-action", has_text="Stop").first
    stop_button.wait_for()
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    lock_screen.locator(".asj-activity").first.screenshot(path=str(DOCS_IMG / "lock-screen-buttons.png"))
    with phone.expect_page() as opened:
        stop_button.click()
    page = opened.value
    _log_in(page, jupyter)  # not logged in yet: the server's own login page
    page.wait_for_url(start["secondary_action"]["url"])
    expect(page.locator("#run-title")).to_have_text("train")
    expect(page.locator("#run-state")).to_have_text("Running")
    expect(page.locator("#run-elapsed")).to_contain_text("Running for")
    text = page.content()
    assert API_KEY not in text and "sleep" not in text and "time.sleep" not in text
    if os.environ.get("ACTIVITYSMITH_DOCS_SCREENSHOTS") == "1":  # as tests/browser/test_browser.py: on request
        page.locator("main").screenshot(path=str(DOCS_IMG / "stop-page.png"))

    page.click("#run-stop")
    pressed = time.monotonic()
    reply = kernel.reply(msg_id, 10)
    took = time.monotonic() - pressed
    assert (reply["status"], reply.get("ename")) == ("error", "KeyboardInterrupt")
    assert took <= 2.0, f"the cell ended {took:.2f}s after Stop"
    print(f"Stop pressed -> cell interrupted: {took:.3f}s")  # the figure of the docs (pytest -s)
    expect(page.locator("#run-notice")).to_contain_text("Stop sent")
    assert _record(jupyter, run_id)["state"] == "ended"

    end = _wait_for(lambda: [r.json for r in sim.requests if r.method == "DELETE" and r.path.endswith("/nb-train")],
                    10, "the end")[-1]
    assert end["content_state"]["subtitle"].startswith("Interrupted")
    push = _wait_for(lambda: [r.json for r in sim.requests if r.path.endswith("/push-notification")
                              and "interrupted" in r.json.get("title", "")], 10, "the push")[-1]
    assert push["title"].startswith("⏹️ train interrupted after") and push["redirection"] == notebook_url


def test_without_the_login_or_the_xsrf_token_nothing_is_interrupted(jupyter, sim_server, kernel, phone,
                                                                     browser) -> None:
    msg_id, start = _start_run(kernel, sim_server.simulator)
    stop_url = start["secondary_action"]["url"]

    page = phone.new_page()
    page.goto(stop_url)
    assert "/login?next=" in page.url and "run-stop" not in page.content()  # sent to the login page
    refused = phone.request.post(stop_url, form={"_xsrf": "anything"}, max_redirects=0)
    assert refused.status == 403  # a POST without the login: refused

    _log_in(page, jupyter)
    page.wait_for_url(stop_url)
    forged = phone.request.post(stop_url, form={}, max_redirects=0)  # the login cookie, no XSRF token
    assert forged.status == 403
    cross_site = phone.request.post(stop_url, form={}, max_redirects=0, headers={"Origin": "https://evil.example"})
    assert cross_site.status in (403, 404)
    assert kernel.still_running(msg_id, 1.5) and _record(jupyter, _run_id(start))["state"] == "running"

    missing = phone.request.get(jupyter["url"] + "/activitysmith/runs/" + secrets.token_urlsafe(16))
    assert missing.status == 404  # a made-up id
    assert phone.request.get(jupyter["url"] + "/activitysmith/runs/..%2F..%2Fetc").status == 404

    reply = _interrupt(jupyter, kernel, msg_id)
    assert reply.get("ename") == "KeyboardInterrupt"


def test_a_stale_button_says_already_ended_and_never_stops_a_later_run(jupyter, sim_server, kernel, phone) -> None:
    from playwright.sync_api import expect

    sim = sim_server.simulator
    first_id, first = _start_run(kernel, sim)
    stale = phone.new_page()
    stale.goto(first["secondary_action"]["url"])
    _log_in(stale, jupyter)
    stale.wait_for_url(first["secondary_action"]["url"])
    expect(stale.locator("#run-stop")).to_be_visible()  # the page of a live run: a Stop button
    _interrupt(jupyter, kernel, first_id)  # that run ends (from JupyterLab, say)

    second_id, second = _start_run(kernel, sim)  # a later run in the same kernel
    with stale.expect_response(lambda r: r.request.method == "POST") as answer:
        stale.click("#run-stop")  # the old page's button, its XSRF token still valid
    assert answer.value.status == 409
    expect(stale.locator("#run-notice")).to_have_text("This run has already ended: there is nothing to stop.")
    expect(stale.locator("#run-stop")).to_have_count(0)
    assert kernel.still_running(second_id, 1.5), "a stale Stop interrupted the later run"
    assert _record(jupyter, _run_id(second))["state"] == "running"

    page = phone.new_page()  # the later run's own button does stop it
    page.goto(second["secondary_action"]["url"])
    page.click("#run-stop")
    assert kernel.reply(second_id, 5).get("ename") == "KeyboardInterrupt"


def test_auto_mode_activity_and_a_framework_callback_get_the_same_links(jupyter, sim_server, kernel) -> None:
    pytest.importorskip("lightgbm")
    sim, base = sim_server.simulator, jupyter["url"] + "/"

    def starts_of(code: str, key: str) -> list[dict[str, Any]]:
        before = len(sim.requests)
        reply = kernel.reply(kernel.execute(code), 120)
        assert reply["status"] == "ok", reply
        return list(_wait_for(lambda: [r.json for r in sim.requests[before:] if r.method == "PUT"
                                       and r.path.endswith("/" + key)], 15, f"the start of {key}"))

    try:
        assert kernel.reply(kernel.execute("%activitysmith auto on --after 0.2"), 30)["status"] == "ok"
        auto = starts_of("import time\ntime.sleep(1.5)", "nb-auto-train")
    finally:
        kernel.reply(kernel.execute("%activitysmith auto off"), 30)
    script = starts_of('from activitysmith_jupyter import activity\nwith activity("Nightly ETL", notify="never"):\n'
                       '    time.sleep(0.2)', "Nightly-ETL")
    callback = starts_of(
        "import numpy as np, lightgbm as lgb\n"
        "from activitysmith_jupyter.integrations.lightgbm import ActivitySmithCallback\n"
        "X = np.random.default_rng(5).random((200, 4))\n"
        "lgb.train({'verbose': -1, 'num_leaves': 4}, lgb.Dataset(X, X.sum(1)), num_boost_round=5,\n"
        "          callbacks=[ActivitySmithCallback('GBM', notify='never')])", "GBM")
    for first in (auto[0], script[0], callback[0]):
        assert first["action"]["url"] == base + "lab/tree/" + NOTEBOOK
        assert first["secondary_action"]["url"].startswith(base + "activitysmith/runs/")
    assert len({s[0]["secondary_action"]["url"] for s in (auto, script, callback)}) == 3  # a run id each

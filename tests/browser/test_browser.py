"""The Composer and the simulator page in a real browser (Debian chromium driven by Playwright).

One JupyterLab server (it also serves Notebook 7) runs for the module, with the kernel's environment
pointing at a loopback simulator server started here, so what the widget sends can be compared with
what the simulator received. Skipped when /usr/bin/chromium is missing, unless
ACTIVITYSMITH_REQUIRE_BROWSER=1. See /work/shared/browser-testing.md for the facts this follows.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from process_helpers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04-composer.ipynb"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"  # tests/screenshots/, as documented
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"  # written with ACTIVITYSMITH_DOCS_SCREENSHOTS=1
API_KEY = "some-test-key-" + secrets.token_hex(8)  # what the kernel sees; must never reach a saved notebook
KERNEL_READY = ".jp-DebuggerBugButton[aria-disabled='false']"


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def jupyter(sim_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """JupyterLab 4 (+ Notebook 7) on 127.0.0.1 with a temp root, config, runtime and settings."""
    base = tmp_path_factory.mktemp("jupyter")
    root = base / "root"
    root.mkdir()
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # the "Jupyter news?" pop-up would cover the page (user settings in a temp dir, not the venv)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "ACTIVITYSMITH_API_KEY": API_KEY,
        "ACTIVITYSMITH_BASE_URL": sim_server.url,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "ws"),
    }
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={base / 'ws'}", f"--LabApp.user_settings_dir={base / 'settings'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("jupyter server did not start:\n" + (base / "server.log").read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield {"url": url, "token": token, "root": root}
    finally:
        proc.send_signal(signal.SIGTERM)  # also ends its kernels
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        context.close()


# ------------------------------------------------------------------------------------ helpers
def _notebook_copy(jupyter: dict[str, Any], name: str) -> Path:
    target = jupyter["root"] / name
    shutil.copy(NOTEBOOK, target)
    return target


def _open_and_run(page: Any, url: str) -> Any:
    """Open a notebook, wait for a ready kernel, run all cells, return the first Composer's locator."""
    page.goto(url)
    page.wait_for_selector(KERNEL_READY, timeout=60_000)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.locator(".asj-composer").nth(1).wait_for()  # both Composers of the notebook rendered
    return page.locator(".asj-composer").first


def _shown_json(composer: Any) -> dict[str, Any]:
    return json.loads(composer.locator(".asj-json-text").inner_text())


def _wait_for(predicate: Any, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return True


def _screenshot(target: Any, name: str, docs_name: str | None = None) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / name
    target.screenshot(path=str(path))
    if docs_name and os.environ.get("ACTIVITYSMITH_DOCS_SCREENSHOTS") == "1":  # the site's pictures stay true
        shutil.copyfile(path, DOCS_IMG / docs_name)
    return path


# -------------------------------------------------------------------------------------- tests
def test_jupyterlab_composer_previews_checks_sends_and_saves_no_key(page, jupyter, sim_server):
    from playwright.sync_api import expect

    nb = _notebook_copy(jupyter, "lab-composer.ipynb")
    composer = _open_and_run(page, f"{jupyter['url']}/lab/workspaces/composer-test/tree/{nb.name}?token={jupyter['token']}")
    sim = sim_server.simulator

    # typing updates the JSON and the preview (text stays text)
    title = 'Deploy <b>v2</b> "done"'
    composer.locator(".asj-push-title input").fill(title)
    composer.locator(".asj-push-message textarea").fill("3 services rolled out")
    expect(composer.locator(".asj-json-text")).to_contain_text('"title": "Deploy <b>v2</b> \\"done\\""')
    expect(composer.locator(".asj-preview-view .asj-title")).to_have_text(title)
    expect(composer.locator(".asj-preview-view .asj-message")).to_have_text("3 services rolled out")

    # a bad payload: the notebook set a media URL; adding an action makes it invalid
    composer.locator(".asj-push-action-add").click()
    composer.locator(".asj-push-action-0-title input").fill("Open dashboard")
    composer.locator(".asj-push-action-0-url input").fill("https://grafana.example.com/d/deploy")
    expect(composer.locator(".asj-problem-list")).to_contain_text("cannot be combined with media")
    composer.locator(".asj-push-action-0-body textarea").fill('{"oops": ')
    expect(composer.locator(".asj-push-action-0-error")).to_contain_text("invalid JSON")
    composer.locator(".asj-push-action-0-body textarea").fill("")
    composer.locator(".asj-push-media input").fill("")
    expect(composer.locator(".asj-ok")).to_contain_text("no problems")
    _screenshot(composer, "jupyterlab-composer.png", docs_name="composer.png")

    # send: the simulator receives exactly the body shown in the widget
    before = len(sim.requests)
    shown = _shown_json(composer)
    composer.locator(".asj-send").click()
    expect(composer.locator(".asj-result-ok")).to_contain_text("push succeeded")
    _wait_for(lambda: len(sim.requests) > before, what="the request to reach the simulator")
    received = sim.requests[-1]
    assert (received.method, received.path) == ("POST", "/push-notification")
    assert received.json == shown
    assert received.headers["authorization"] == f"Bearer {API_KEY}"  # the kernel used the env key
    notification_id = sim.notifications[-1]["notification_id"]
    expect(composer.locator(".asj-result")).to_contain_text(notification_id)
    assert "Python" in page.content() and "ACTIVITYSMITH_API_KEY" in composer.locator(".asj-code-text").inner_text()
    _screenshot(page, "jupyterlab-page.png")

    # save through the UI (Ctrl+S) and check the file has no key
    mtime = nb.stat().st_mtime_ns
    page.locator(".jp-Notebook .jp-MarkdownCell").first.click()
    page.keyboard.press("Control+s")
    _wait_for(lambda: nb.stat().st_mtime_ns != mtime and _is_json(nb), what="the notebook to be saved")
    expect(page.locator(".jp-mod-dirty")).to_have_count(0)
    saved = nb.read_text(encoding="utf-8")
    assert API_KEY not in saved
    assert "Composer(endpoint=" in saved


def test_notebook7_composer_sends_the_previewed_body(page, jupyter, sim_server):
    from playwright.sync_api import expect

    nb = _notebook_copy(jupyter, "nb7-composer.ipynb")
    composer = _open_and_run(page, f"{jupyter['url']}/notebooks/{nb.name}?token={jupyter['token']}")
    sim = sim_server.simulator
    composer.locator(".asj-push-title input").fill("Notebook 7 says hi")
    composer.locator(".asj-push-media input").fill("")
    composer.locator(".asj-push-interruption_level select").select_option("time-sensitive")
    expect(composer.locator(".asj-json-text")).to_contain_text('"interruption_level": "time-sensitive"')
    expect(composer.locator(".asj-preview-view .asj-title")).to_have_text("Notebook 7 says hi")
    expect(composer.locator(".asj-preview-view .asj-level")).to_have_text("Time Sensitive")
    composer.locator(".asj-push-redirection input").fill("not a url")
    expect(composer.locator(".asj-problem-list")).to_contain_text("redirection")
    composer.locator(".asj-push-redirection input").fill("https://example.com/nb7")
    expect(composer.locator(".asj-ok")).to_be_visible()
    shown = _shown_json(composer)
    before = len(sim.requests)
    composer.locator(".asj-send").click()
    expect(composer.locator(".asj-result-ok")).to_be_visible()
    _wait_for(lambda: len(sim.requests) > before, what="the request to reach the simulator")
    assert sim.requests[-1].json == shown
    _screenshot(composer, "notebook7-composer.png")


def test_simulator_page_shows_the_activity_a_notebook_streams(page, browser, jupyter, sim_server):
    from playwright.sync_api import expect

    phone = browser.new_page(viewport={"width": 1100, "height": 1000})
    phone.goto(sim_server.url + "/")
    expect(phone.locator("#asj-status")).to_contain_text("live")

    nb = _notebook_copy(jupyter, "sim-page.ipynb")
    _open_and_run(page, f"{jupyter['url']}/notebooks/{nb.name}?token={jupyter['token']}")
    live = page.locator(".asj-composer").nth(1)  # the Composer loaded with a Live Activity payload
    live.locator(".asj-stream").click()
    expect(live.locator(".asj-result-ok")).to_contain_text("started")

    # the page was not reloaded: its poller picked the activity up
    card = phone.locator(".asj-slot[data-key='nightly-backup'] .asj-activity")
    expect(card.locator(".asj-title")).to_have_text("Nightly backup", timeout=10_000)
    expect(card.locator(".asj-fill")).to_have_attribute("style", re.compile(r"width:40\.0%"))
    expect(card.locator(".asj-action")).to_contain_text("Open logs")

    live.locator(".asj-live-percentage input").fill("85")
    expect(live.locator(".asj-json-text")).to_contain_text('"percentage": 85')
    live.locator(".asj-stream").click()
    expect(live.locator(".asj-result-ok")).to_contain_text("updated")
    page.set_viewport_size({"width": 1500, "height": 2200})
    live.scroll_into_view_if_needed()
    _screenshot(live, "notebook7-live-activity-composer.png")
    expect(card.locator(".asj-fill")).to_have_attribute("style", re.compile(r"width:85\.0%"), timeout=10_000)
    expect(phone.locator("#asj-events")).to_contain_text("Nightly backup")
    assert API_KEY not in phone.content()
    _screenshot(phone, "simulator-page.png", docs_name="simulator-page.png")
    phone.close()

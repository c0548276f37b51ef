"""httpx is imported when the first request is sent, never by ``import activitysmith_jupyter`` or by making a
client (issue 17, item 11), and never with its command-line client (rich, click, pygments).

Each case runs in a fresh interpreter (this test process has long imported httpx) with rich installed, as
in most Jupyter environments. Behaviour, not timing: the figure is in bench/import_time.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("rich")  # the case that matters: httpx would import rich through its CLI module

WATCHED = ("httpx", "rich", "click", "httpx._main")

# Records which thread first imports httpx (a finder that finds nothing: it only looks).
PRELUDE = """
import importlib.abc, json, sys, threading
first_import = {}
class Look(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in ("httpx", "rich"):
            first_import.setdefault(name, threading.current_thread().name)
        return None
sys.meta_path.insert(0, Look())
def loaded():
    return sorted(m for m in %r if sys.modules.get(m) is not None)
""" % (WATCHED,)


def run(body: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}
    code = PRELUDE + textwrap.dedent(body)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


CONSTRUCT = {
    "embedded": "c = activitysmith_jupyter.ActivitySmith()",
    "with a key": "c = activitysmith_jupyter.ActivitySmith('sk_test_lazy_1234567890', base_url='http://127.0.0.1:9')",
    "async": "c = activitysmith_jupyter.AsyncActivitySmith()",
    "a view": "c = activitysmith_jupyter.ActivitySmith().with_options(max_retries=0, timeout=3)",
}


@pytest.mark.parametrize("how", list(CONSTRUCT), ids=list(CONSTRUCT))
def test_importing_the_package_and_making_a_client_imports_no_httpx(how: str) -> None:
    seen = run(f"""
        import activitysmith_jupyter
        {CONSTRUCT[how]}
        print(json.dumps({{"loaded": loaded(), "mode": c.mode}}))
    """)
    assert seen["loaded"] == []
    assert seen["mode"] == ("live" if how == "with a key" else "simulator")


def test_the_first_request_imports_httpx_without_its_command_line_client() -> None:
    seen = run("""
        import activitysmith_jupyter
        c = activitysmith_jupyter.ActivitySmith()
        sent = c.notifications.send({"title": "Hello"}).success
        after_send = loaded()
        import httpx._main  # the user can still import httpx's CLI module on purpose
        print(json.dumps({"sent": sent, "after_send": after_send, "cli": callable(httpx._main.main)}))
    """)
    assert seen["sent"] is True
    assert seen["after_send"] == ["httpx"]  # no rich, no click: httpx's CLI was not imported for us
    assert seen["cli"] is True


CLIENTS = {
    "embedded": "client = ActivitySmith()",
    "live over loopback": ("from activitysmith_jupyter import Simulator\n"
                           "server = Simulator().serve()  # a real HTTP server on 127.0.0.1 (stdlib)\n"
                           "client = ActivitySmith('sk_test_lazy_1234567890', base_url=server.url)"),
}


@pytest.mark.parametrize("how", list(CLIENTS), ids=list(CLIENTS))
def test_background_sends_import_httpx_on_the_dispatchers_thread(how: str) -> None:
    seen = run(f"""
        from activitysmith_jupyter import Activity, ActivitySmith, dispatcher_for
        exec({CLIENTS[how]!r})
        dispatcher = dispatcher_for(client)
        act = Activity("Lazy", client=client, dispatcher=dispatcher, notify="never").start()
        act.update(percentage=50)
        act.end("completed")
        assert dispatcher.flush(30)
        print(json.dumps({{"first_import": first_import, "sent": dispatcher.stats.sent, "mode": client.mode}}))
    """)
    assert seen["sent"] >= 2  # the start/update and the end reached the simulator
    assert seen["mode"] == ("live" if how.startswith("live") else "simulator")
    assert seen["first_import"] == {"httpx": "activitysmith-dispatch"}  # not the caller's thread

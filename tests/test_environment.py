"""What the suite's own set-up promises the tests, checked (docs/versions.md, "Tests run in parallel workers").

- A test whose kernel loses jupyter_client's port race runs again (pyproject.toml: ``only_rerun``). The
  filter is a list of message patterns; if jupyter_client reworded its error, the rerun would silently stop.
  So a real kernel is made to lose the race (its shell port already taken) and its error must match.
- A process a test starts gets a terminal's Ctrl-C even when the suite was started in the background with
  SIGINT ignored (tests/conftest.py).
"""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import pytest


def test_a_kernel_whose_port_is_taken_fails_with_an_error_the_suite_reruns(pytestconfig) -> None:
    from jupyter_client.manager import KernelManager

    patterns = pytestconfig.getini("only_rerun")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        km = KernelManager(kernel_name="python3", shell_port=taken.getsockname()[1], cache_ports=False)
        km.start_kernel()  # (cache_ports=False: the provisioner keeps the port it is given)
        kc = km.client()  # the rest of start_new_kernel: what nbclient and papermill do too
        kc.start_channels()
        try:
            with pytest.raises(RuntimeError) as info:
                kc.wait_for_ready(timeout=60)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    error = f"{type(info.value).__name__}: {info.value}"  # what pytest-rerunfailures matches
    assert any(re.search(pattern, error) for pattern in patterns), (error, patterns)
    assert int(pytestconfig.getini("reruns")) >= 1  # the filter alone reruns nothing


def test_a_child_of_a_test_gets_a_terminals_ctrl_c_even_when_the_suite_ignores_it() -> None:
    child = subprocess.run([sys.executable, "-c", "import signal; print(signal.getsignal(signal.SIGINT).__name__)"],
                           capture_output=True, text=True, timeout=30)
    assert child.stdout.strip() == "default_int_handler", child
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN

"""The README's first command: the quick-start notebook runs headless against the embedded simulator."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.timeout(300)
def test_quickstart_prints_what_the_phone_showed_and_never_uses_a_real_key() -> None:
    env = {**os.environ, "ACTIVITYSMITH_API_KEY": "ask_live_secret_never_sent", "ACTIVITYSMITH_BASE_URL": "http://127.0.0.1:9"}
    result = subprocess.run(
        [sys.executable, "-m", "activitysmith_jupyter", "quickstart"],
        env=env, capture_output=True, text=True, timeout=280, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\nsimulator\n" in out  # the key in the environment was dropped for the kernel
    assert "▶ started   quickstart-reindex" in out
    assert "■ ended     quickstart-etl" in out and "[progress 100%]" in out
    assert "🔔 push  ✅ Nightly ETL finished" in out
    assert "stream_key: may only contain" in out
    assert "ask_live_secret_never_sent" not in out + result.stderr


def test_quickstart_rejects_unknown_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "activitysmith_jupyter", "quickstart", "a.ipynb", "--bogus"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "--bogus" in result.stderr

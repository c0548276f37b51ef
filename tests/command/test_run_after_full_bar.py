"""`activitysmith run` (the real console script) around a real Python child whose tqdm bar finished before
it failed: the end follows the count, and the push quotes what went wrong, never the bar."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import child_env, ended, pushes, script

ACTIVITYSMITH = Path(sys.executable).with_name("activitysmith")

FULL_BAR_THEN_FAIL = """
    import sys, time
    from tqdm import tqdm
    for i in tqdm(range(30), desc="epochs"):
        time.sleep(0.03)
    print("boom: something broke", file=sys.stderr)
    sys.exit(1)
"""

FAIL_THEN_BAR = """
    import sys, time
    from tqdm import tqdm
    print("warning: shard 7 is corrupt", file=sys.stderr)
    for i in tqdm(range(20), desc="cleanup"):
        time.sleep(0.03)
    sys.exit(2)
"""

TRACEBACK_AFTER_BAR = """
    import time
    from tqdm import tqdm
    for i in tqdm(range(30), desc="epochs", unit_scale=True):
        time.sleep(0.03)
    raise RuntimeError("CUDA out of memory")
"""


def run(server, tmp_path: Path, code: str, key: str) -> subprocess.CompletedProcess[str]:
    if not ACTIVITYSMITH.exists():
        pytest.skip("the activitysmith console script is not installed")
    child = script(tmp_path, code)
    return subprocess.run([str(ACTIVITYSMITH), "run", "-k", key, "--", sys.executable, str(child)],
                          env=child_env(server), capture_output=True, text=True, timeout=120,
                          start_new_session=True)


def test_a_full_bar_then_exit_1_ends_at_100_percent_and_quotes_the_error(server, sim, tmp_path) -> None:
    done = run(server, tmp_path, FULL_BAR_THEN_FAIL, "full-bar")
    assert done.returncode == 1, done.stderr
    assert "30/30" in done.stderr and "boom: something broke" in done.stderr  # the terminal still shows both
    cs = ended(sim, "full-bar")["content_state"]
    assert cs["percentage"] == 100, cs  # the count says 30/30
    assert cs["subtitle"].startswith("Failed at 30/30: exit 1"), cs
    [push] = pushes(sim)
    assert push["message"] == "exit 1\nboom: something broke"


def test_a_bar_after_the_error_is_not_quoted(server, sim, tmp_path) -> None:
    done = run(server, tmp_path, FAIL_THEN_BAR, "bar-last")
    assert done.returncode == 2
    [push] = pushes(sim)
    assert push["message"] == "exit 2\nwarning: shard 7 is corrupt"
    assert ended(sim, "bar-last")["content_state"]["percentage"] == 100


def test_a_traceback_after_a_full_bar_quotes_the_exception(server, sim, tmp_path) -> None:
    done = run(server, tmp_path, TRACEBACK_AFTER_BAR, "traceback")
    assert done.returncode == 1
    [push] = pushes(sim)
    assert push["message"] == "exit 1\nRuntimeError: CUDA out of memory"
    assert "%|" not in push["message"] and "it/s" not in push["message"]


LINES = [
    ("epochs: 100%|██████████| 30/30 [00:03<00:00,  9.95it/s]", True),
    (" 50%|#####     | 5/10 [00:01<00:01,  4.99it/s]", True),
    ("12it [00:01,  9.95it/s]", True),
    ("3.00Mit [00:01, 2.99Mit/s, loss=0.2]", True),
    ("Training ━━━━━━━━━━━━━━━━━━━━━━━╸━━━━━━━━━━━━━━━━  57% 0:00:03", True),
    ("32/32 [==============================] - 0s 2ms/step - loss: 0.5", True),
    ("boom: something broke", False),
    ("RuntimeError: CUDA out of memory", False),
    ("ERROR 50% of the shards [3/6] are missing", False),
    ("took [00:03] to load", False),
]


@pytest.mark.parametrize(("text", "bar"), LINES, ids=[t[:24] for t, _ in LINES])
def test_progress_lines_are_told_from_messages(text, bar) -> None:
    from activitysmith_jupyter.command.stderr_text import is_progress_line

    assert is_progress_line(text) is bar


def test_the_last_meaningful_line_skips_redrawn_lines_and_colour() -> None:
    from activitysmith_jupyter.command.stderr_text import last_meaningful

    raw = b"\x1b[31mdisk full\x1b[0m\nloading 1\rloading 2\rloading 3\n-----\n"
    assert last_meaningful(raw) == "disk full"
    assert last_meaningful(b"\r 10%|#   \r100%|##########\n") is None

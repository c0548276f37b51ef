"""The example runner itself: a wrong `#> ` line fails, run-to-run numbers are masked, fence options work."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from docs_runner import mask

RUNNER = Path(__file__).with_name("docs_runner.py")


def run(tmp_path: Path, text: str, *args: str) -> list[dict]:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(RUNNER), *args, str(page)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    return json.loads(proc.stdout)[str(page)]


def test_a_page_that_shows_other_output_than_it_prints_fails(tmp_path: Path) -> None:
    [ok, wrong] = run(tmp_path, "```python\nx = 2\nprint(x)\n#> 2\n```\n\n```python\nprint(x + 1)\n#> 4\n```\n")
    assert ok["status"] == "passed"
    assert wrong["status"] == "failed" and "shows\n  4\nbut printed\n  3" in wrong["message"]


def test_durations_clock_times_and_rate_digits_are_masked_on_both_sides() -> None:
    assert mask("Done · 40/40 in 0.4s · 6.64it/s · ETA 14:58 UTC") == mask("Done · 40/40 in 3m 12s · 12.1it/s · ETA 09:01 UTC")
    assert mask("Done · 40/40 in 0.4s") != mask("Done · 41/40 in 0.4s")
    assert mask("6.64it/s") != mask("6.64 it/s")  # a changed format is still caught


def test_fence_options_skip_require_and_expect_an_exception(tmp_path: Path) -> None:
    text = ('```python test="skip"\nraise SystemExit(3)\n```\n\n'
            '```python requires="no_such_module_here"\nimport no_such_module_here\n```\n\n'
            '```python raises="ZeroDivisionError"\n1 / 0\n```\n\n'
            '```python raises="KeyError"\npass\n```\n')
    needs, raised, not_raised = run(tmp_path, text)
    assert needs["status"] == "skipped" and "no_such_module_here" in needs["message"]
    assert raised["status"] == "passed"
    assert not_raised["status"] == "failed" and "should raise KeyError" in not_raised["message"]


def test_update_writes_what_each_statement_printed_after_it(tmp_path: Path) -> None:
    run(tmp_path, "```python\nfor i in range(2):\n    print(i)\nprint('end')\n#> stale\n```\n", "--update")
    assert (tmp_path / "page.md").read_text(encoding="utf-8") == (
        "```python\nfor i in range(2):\n    print(i)\n#> 0\n#> 1\nprint('end')\n#> end\n```\n")

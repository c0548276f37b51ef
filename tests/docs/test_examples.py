"""Every Python example in docs/ and README.md runs against the embedded simulator, and the output a page
shows (`#> ` lines) is what it prints.

Each page runs in a fresh process (tests/docs/docs_runner.py: one simulator, default client and IPython
shell per page, top to bottom, as a reader would run it). A block that needs a package outside the test
extra (`requires="torch"` in its fence) gets a test of its own, marked `docs_needs`, skipped where the
package is missing: it runs in the CI legs that have it. `python tests/docs/docs_runner.py --update PAGE`
rewrites a page's `#> ` lines from a real run (then read the diff).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from docs_runner import Block, available, find_blocks

REPO = Path(__file__).resolve().parents[2]
ALL_PAGES = sorted(p.relative_to(REPO).as_posix() for p in [REPO / "README.md", *(REPO / "docs").rglob("*.md")])


def blocks_of(page: str) -> list[Block]:
    return list(find_blocks((REPO / page).read_text(encoding="utf-8")))


PAGES = [page for page in ALL_PAGES if blocks_of(page)]  # the pages with a Python example
CORE = {"IPython"}  # in the test extra: blocks needing only these count as the page's own


def _needing() -> list[Any]:
    cases = []
    for page in PAGES:
        for block in blocks_of(page):
            extra = [r for r in block.requires if r not in CORE]
            if extra:
                cases.append(pytest.param(page, block.start, extra, id=f"{page}:{block.start}[{'+'.join(extra)}]",
                                          marks=pytest.mark.docs_needs))
    return cases


@functools.cache
def run_page(page: str) -> dict[str, Any]:
    """The runner's report for `page` (once per session), run in a temp working directory."""
    tmp = tempfile.mkdtemp(prefix="activitysmith-docs-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).with_name("docs_runner.py")), str(REPO / page)],
                              capture_output=True, text=True, timeout=170, cwd=tmp, env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        report = json.loads(proc.stdout)[str(REPO / page)]
    except (ValueError, KeyError):
        pytest.fail(f"{page}: the runner died (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {"results": {r["line"]: r for r in report}, "stderr": proc.stderr}


def _failures(results: dict[int, Any], lines: list[int]) -> str:
    return "\n\n".join(results[n]["message"] for n in lines if results[n]["status"] == "failed")


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run_and_print_what_they_show(page: str) -> None:
    blocks = blocks_of(page)
    own = [b.start for b in blocks if all(r in CORE for r in b.requires)]
    report = run_page(page)
    results = report["results"]
    assert sorted(results) == [b.start for b in blocks]
    problems = _failures(results, own)
    assert not problems, f"{page}:\n{problems}\n--- stderr ---\n{report['stderr'][-2000:]}"
    assert all(results[n]["status"] == "passed" for n in own), {n: results[n]["status"] for n in own}


@pytest.mark.parametrize(("page", "line", "needs"), _needing())
def test_example_needing_a_package(page: str, line: int, needs: list[str]) -> None:
    missing = [n for n in needs if not available(n)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (not in the test extra)")
    result = run_page(page)["results"][line]
    assert result["status"] == "passed", result["message"]

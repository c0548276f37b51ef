"""The documentation site builds with `mkdocs build --strict`: no page left out of the nav, no broken link
or anchor, no docstring mkdocstrings cannot read (mkdocs.yml's `validation` turns each into a warning, and
strict mode fails on any warning)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=REPO, capture_output=True, text=True, timeout=280,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "WARNING" not in log, log[-4000:]
    built = {p.relative_to(site).parent.as_posix() for p in site.rglob("index.html")}
    pages = {p.relative_to(REPO / "docs").with_suffix("").as_posix() for p in (REPO / "docs").rglob("*.md")}
    assert {("." if p == "index" else p) for p in pages} <= built  # every page made it into the site
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    assert "default_client" in reference and "UpdatePolicy" in reference  # mkdocstrings rendered the API

"""tqdm's own tests pass with the drop-in wherever they pass with tqdm (see README.md here)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

FILES = ("tests_tqdm.py", "tests_contrib.py", "tests_itertools.py")
SOURCE = Path(os.environ.get("ACTIVITYSMITH_TQDM_TESTS") or Path(__file__).parent / "upstream")
DROP_IN = "from activitysmith_jupyter.tqdm import tqdm, trange  # the drop-in in tqdm's place\n"

pytestmark = pytest.mark.skipif(not all((SOURCE / f).is_file() for f in FILES + ("conftest.py",)),
                                reason=f"tqdm's test files not found in {SOURCE} (see tests/tqdm_upstream/README.md)")


def with_drop_in(text: str) -> str:
    """The file with tqdm/trange rebound to the drop-in right after its own imports of them."""
    out, n = re.subn(r"^(from tqdm import [^\n]*\btqdm\b[^\n]*\n)", lambda m: m.group(1) + DROP_IN, text,
                     flags=re.M)
    return out if n else DROP_IN + text


def outcomes(folder: Path) -> dict[str, str]:
    """test id -> passed / failed / skipped, from one quiet pytest run of `folder` in a subprocess."""
    report = folder / "report.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACTIVITYSMITH_")}  # the simulator
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parents[2]), env.get("PYTHONPATH")]))
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                    "--rootdir", str(folder), f"--junitxml={report}", *FILES], cwd=folder, env=env,
                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)  # a test reads stdin
    result = {}
    for case in ET.parse(report).iter("testcase"):
        kinds = {child.tag for child in case}
        state = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
        result[f"{case.get('classname')}::{case.get('name')}"] = state
    return result


def test_the_drop_in_passes_every_tqdm_test_that_tqdm_passes(tmp_path: Path) -> None:
    plain, ours = tmp_path / "tqdm", tmp_path / "drop_in"
    for folder in (plain, ours):
        folder.mkdir()
        shutil.copy(SOURCE / "conftest.py", folder / "conftest.py")
        for name in FILES:
            text = (SOURCE / name).read_text(encoding="utf-8")
            (folder / name).write_text(text if folder is plain else with_drop_in(text), encoding="utf-8")
    expected, got = outcomes(plain), outcomes(ours)
    assert expected and set(got) == set(expected)
    lost = sorted(t for t, state in expected.items() if state == "passed" and got[t] != "passed")
    assert lost == []

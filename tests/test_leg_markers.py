"""The CI legs' markers come from each test file's path (tests/leg_markers.py), in the flat layout and in the
folders per layer alike; the core legs' -m expression (noxfile.py) rules out exactly those markers."""
from __future__ import annotations

import ast
import sys
from pathlib import Path, PurePath

import pytest
from leg_markers import legs_marks, ruled_out, ruled_out_marks

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest brings tomli on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("path", "marks"), [
    ("tests/test_browser.py", {"browser"}),
    ("tests/browser/test_lab.py", {"browser"}),
    ("tests/test_integration_keras.py", {"framework"}),
    ("tests/integrations/test_integration_torch_paced.py", {"framework"}),
    ("tests/integrations/test_framework_callbacks.py", {"framework"}),
    ("tests/integrations/test_xgboost.py", {"framework"}),
    ("tests/integrations/frameworks/test_fit.py", {"framework"}),
    ("tests/command/test_packaging.py", {"packaging"}),
    ("tests/test_packaging.py", {"packaging"}),
    ("tests/test_auto.py", set()),
    ("tests/notebook/test_auto_kernel.py", set()),
    ("tests/integrations/test_integration_distributed.py", set()),
    ("tests/integrations/test_integration_imports.py", set()),
    ("tests/tqdm/test_tqdm_outcomes.py", set()),
    ("tests/hub/test_array_ranks.py", set()),  # "array" is not "ray"
    ("notebooks/02-training-loop.ipynb", set()),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_file_is_marked_by_its_path(path: str, marks: set[str]) -> None:
    assert legs_marks(PurePath(path)) == marks


def core_expression() -> str:
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    (value,) = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "CORE" for t in node.targets)
                and isinstance(node.value, ast.Constant)]
    return str(value)


def test_the_core_legs_rule_out_every_leg_marker_and_pyproject_registers_them() -> None:
    registered = {line.split(":")[0] for line in
                  tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]["markers"]}
    assert ruled_out_marks(core_expression()) == {"browser", "framework", "packaging"} <= registered


@pytest.mark.parametrize(("expression", "ruled"), [
    ("not browser and not framework", {"browser", "framework"}),
    ("not browser", {"browser"}),
    ("browser", set()),
    ("not browser or not framework", set()),
    ("", set()),
])
def test_only_a_plain_conjunction_of_nots_skips_collection(expression: str, ruled: set[str]) -> None:
    assert ruled_out_marks(expression) == ruled
    assert ruled_out(ROOT / "tests" / "browser", ROOT, expression) == ("browser" in ruled)

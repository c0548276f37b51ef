"""The package's public names: a literal `__all__` that matches the lazy table, the official SDK's
top-level names with the same meaning, and the SDK's constant classes with equal members."""
from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import pytest

import activitysmith_jupyter as pkg

activitysmith = pytest.importorskip("activitysmith")

EAGER = {"__version__", "load_ipython_extension", "unload_ipython_extension"}


def _literal_all() -> list[str]:
    tree = ast.parse(inspect.getsource(pkg))
    [node] = [n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)]
    return ast.literal_eval(node.value)  # fails unless every entry is a string literal


def test_all_is_a_literal_list_of_the_lazy_names_and_the_eager_ones() -> None:
    names = _literal_all()
    assert len(names) == len(set(names)), "no duplicates"
    assert set(names) == set(pkg._LAZY) | EAGER
    assert names == pkg.__all__


def test_type_checking_imports_match_the_lazy_table_module_by_module() -> None:
    tree = ast.parse(inspect.getsource(pkg))
    [block] = [n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"]
    imported = {(alias.name, (node.module or "").lstrip(".")) for node in block.body
                if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert imported == {(name, module) for name, module in pkg._LAZY.items()}


@pytest.mark.parametrize("name", activitysmith.__all__, ids=activitysmith.__all__)
def test_every_sdk_top_level_name_is_importable_from_the_package(name: str) -> None:
    ours = getattr(pkg, name)
    theirs = getattr(activitysmith, name)
    assert callable(ours) and callable(theirs)
    assert name in pkg.__all__


@pytest.mark.parametrize("name", ["LiveActivityColor", "PushInterruptionLevel"])
def test_constant_classes_have_the_sdks_members_and_values(name: str) -> None:
    def members(cls: type) -> dict[str, object]:
        return {k: v for k, v in vars(cls).items() if not k.startswith("_")}

    ours, theirs = members(getattr(pkg, name)), members(getattr(activitysmith, name))
    assert ours == theirs
    assert ours, "the SDK class has members"


def test_the_constants_are_plain_strings_and_import_neither_pydantic_nor_the_sdk() -> None:
    code = ("import sys; from activitysmith_jupyter import LiveActivityColor, PushInterruptionLevel; "
            "assert type(LiveActivityColor.GREEN) is str and type(PushInterruptionLevel.ACTIVE) is str; "
            "print(' '.join(m for m in ('pydantic', 'activitysmith', 'activitysmith_openapi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""

"""Which CI legs run a test, from its path (noxfile.py: the core legs run ``-m "not browser and not framework
and not packaging"``; the full leg runs everything). By path, so a file keeps its marks when it moves
between folders (tests/test_integration_keras.py, tests/integrations/test_integration_keras.py, ...):

- ``browser``: a ``browser`` folder, or ``browser`` among the words of the file name (test_browser.py);
- ``framework``: a framework training: a ``frameworks`` folder, or a framework's name (or ``framework``)
  among the words of the file name (test_integration_keras.py, test_framework_callbacks.py,
  test_lightning_bars.py);
- ``packaging``: ``packaging`` among the words of the file name (test_packaging.py builds and installs the wheel).

A test module may also mark itself (``pytestmark = pytest.mark.framework``). Under ``-m "not a and not b"``
a file (or folder) whose path marks it ``a`` or ``b`` is not even collected: the core legs never import the
frameworks or Playwright.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePath

import pytest

FRAMEWORKS = frozenset({"keras", "jax", "tensorflow", "torch", "lightning", "transformers", "xgboost",
                        "lightgbm", "optuna", "sklearn", "spark", "pyspark", "ray", "framework", "frameworks"})
FOLDERS = {"browser": "browser", "frameworks": "framework"}


def _words(path: PurePath) -> set[str]:
    """The words of a test file's name: ``test_integration_keras.py`` -> test, integration, keras."""
    return set(path.stem.lower().replace("-", "_").split("_"))


def legs_marks(path: PurePath) -> set[str]:
    """The leg markers of the test file at `path` (empty: a core test)."""
    words = _words(path)
    marks = {mark for folder, mark in FOLDERS.items() if folder in (p.lower() for p in path.parts[:-1])}
    if "browser" in words:
        marks.add("browser")
    if words & FRAMEWORKS:
        marks.add("framework")
    if "packaging" in words:
        marks.add("packaging")
    return marks


def ruled_out_marks(markexpr: str) -> frozenset[str]:
    """The markers a ``-m "not a and not b ..."`` expression rules out; empty for any other expression."""
    parts = [part.strip() for part in markexpr.split(" and ")] if markexpr.strip() else []
    names = [part[len("not "):].strip() for part in parts if part.startswith("not ")]
    if len(names) != len(parts) or not all(name.isidentifier() for name in names):
        return frozenset()
    return frozenset(names)


def ruled_out(path: Path, root: Path, markexpr: str) -> bool:
    """Whether the file or folder at `path` holds only tests the ``-m`` expression deselects by path."""
    excluded = ruled_out_marks(markexpr)
    return bool(excluded) and bool(legs_marks(_relative(path, root)) & excluded)


def _relative(path: Path, root: Path) -> PurePath:
    try:
        return path.relative_to(root)
    except ValueError:
        return PurePath(path.name)


def mark_legs(items: Iterable[pytest.Item], root: Path) -> None:
    """Add each item's leg markers (pytest_collection_modifyitems; `root`: the rootdir, so only the folders
    inside the checkout count)."""
    cache: dict[Path, set[str]] = {}
    for item in items:
        marks = cache.get(item.path)
        if marks is None:
            marks = cache[item.path] = legs_marks(_relative(item.path, root))
        for mark in sorted(marks):
            item.add_marker(getattr(pytest.mark, mark))


ALONE = frozenset({"spark", "pyspark", "ray"})  # a JVM, a Ray cluster: each wants the whole machine


def worker_scope(nodeid: str) -> str:
    """The work unit of a test under ``pytest -n N --dist loadfile`` (conftest.py's scheduler): its file, so a
    file's tests run in order in one worker; the Spark and Ray files share one unit, so they never run at once."""
    path = nodeid.split("::", 1)[0]
    return "engines (one at a time)" if _words(PurePath(path)) & ALONE else path

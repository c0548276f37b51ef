"""The framework modules load their library on demand only: the package never imports a framework."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

FRAMEWORKS = ("keras", "xgboost", "lightgbm", "optuna")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {FRAMEWORKS + ('jax',)!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "KERAS_BACKEND": "jax"})
    return out.stdout.split()


def test_the_package_and_the_table_import_no_framework() -> None:
    assert loaded_after("import activitysmith_jupyter, activitysmith_jupyter.integrations") == []


@pytest.mark.parametrize("name", FRAMEWORKS, ids=FRAMEWORKS)
def test_each_module_imports_its_own_library_only(name: str) -> None:
    from activitysmith_jupyter.integrations import INTEGRATIONS

    module = INTEGRATIONS[name]
    loaded = set(loaded_after(f"import {module}\nassert hasattr({module}, 'ActivitySmithCallback')"))
    assert name in loaded or name == "lightgbm"  # the LightGBM callback is a plain callable
    assert loaded - {name, "jax"} == set()

"""The test matrix: one nox session per CI leg (`.ci/run` runs them all; `nox -s core-3.13` runs one).

- ``full``: Python 3.11 with the newest dependencies: ``scripts/test`` as it is (mypy, then every test).
- ``core-3.10-lowest``: Python 3.10 with the lowest versions ``pyproject.toml`` declares for the package's
  own dependencies (a constraints file made from it), the core suite.
- ``core-3.12``, ``core-3.13``: the core suite with the newest dependencies.

The core suite is every test but the browser's, the framework trainings' and the packaging test's
(markers set by path in ``tests/leg_markers.py``). uv makes the virtual environments and installs (fast).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nox
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox's own dependency on older Pythons
    import tomli as tomllib

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True  # a leg whose Python is missing fails, never passes
nox.options.reuse_venv = "no"

ROOT = Path(__file__).resolve().parent
CORE = "not browser and not framework and not packaging"  # the markers are registered in pyproject.toml
LOWEST_EXTRAS = ("jupyter", "monitor")  # the package's own optional dependencies (not the test tools)


def lowest_constraints() -> list[str]:
    """``name==minimum`` for each dependency of the package (and of `LOWEST_EXTRAS`) declared ``>=``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in LOWEST_EXTRAS:
        declared += project["optional-dependencies"][extra]
    pins: dict[str, str] = {}
    for text in declared:
        requirement = Requirement(text)
        if requirement.name == project["name"]:
            continue
        for spec in requirement.specifier:
            if spec.operator == ">=":
                pins[requirement.name] = f"{requirement.name}=={spec.version}"
    return sorted(pins.values())


def _tqdm_tests(session: nox.Session) -> dict[str, str]:
    """tqdm's own test files for the installed tqdm (tests/tqdm_upstream runs them against the drop-in)."""
    out = session.run("bash", "scripts/tqdm-tests", silent=True, external=True, stderr=None)
    folder = out.strip() if isinstance(out, str) else ""
    return {"ACTIVITYSMITH_TQDM_TESTS": folder} if folder and Path(folder).is_dir() else {}


def _versions(session: nox.Session) -> None:
    session.run("python", "-c", "import sys, IPython, ipykernel, tqdm, httpx, traitlets; print('versions:', "
                "sys.version.split()[0], 'IPython', IPython.__version__, 'ipykernel', ipykernel.__version__, "
                "'tqdm', tqdm.__version__, 'httpx', httpx.__version__, 'traitlets', traitlets.__version__)")


def _core(session: nox.Session, constraints: list[str] | None = None) -> None:
    args = ["-e", ".[test]", "pip"]  # pip: scripts/tqdm-tests downloads tqdm's sources with it
    if constraints:
        path = Path(session.virtualenv.location) / "lowest-constraints.txt"  # (create_tmp would set TMPDIR)
        path.write_text("\n".join(constraints) + "\n", encoding="utf-8")
        session.log("lowest declared versions: " + ", ".join(constraints))
        args += ["--constraint", str(path)]
    session.install(*args)
    _versions(session)
    env = _tqdm_tests(session)
    workers = os.environ.get("ACTIVITYSMITH_CI_CORE_WORKERS", "2")  # .ci/run runs the three core legs at once
    session.run("python", "-m", "pytest", "-m", CORE, "-n", workers, "--dist", "loadfile", *session.posargs, env=env)


@nox.session(python="3.11")
def full(session: nox.Session) -> None:
    """Python 3.11, newest dependencies: the README's test command, ``scripts/test`` (mypy, every test)."""
    session.install("-e", ".[test,engines]", "pip")  # scripts/test installs with uv too; pip fetches tqdm's tests
    _versions(session)
    session.run("bash", "scripts/test", *session.posargs, external=True)


@nox.session(name="core-3.10-lowest", python="3.10")
def core_lowest(session: nox.Session) -> None:
    """Python 3.10 with the lowest declared versions of IPython, ipykernel, tqdm, httpx, traitlets, ..."""
    _core(session, lowest_constraints())


@nox.session(name="core-3.12", python="3.12")
def core_312(session: nox.Session) -> None:
    _core(session)


@nox.session(name="core-3.13", python="3.13")
def core_313(session: nox.Session) -> None:
    _core(session)


if __name__ == "__main__":  # `python noxfile.py`: the lowest leg's constraints
    print("\n".join(lowest_constraints()))

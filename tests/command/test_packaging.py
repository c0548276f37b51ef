"""The package as a user installs it. Builds the sdist and, from it, the wheel (``uv build``), checks their
metadata (``twine check --strict``), installs the wheel (not editable, with the ``jupyter`` extra) into a
clean virtual environment and, from a folder outside the checkout, runs the quick start, ``activitysmith
--help``, ``activitysmith run -- python -c "print(1)"`` and ``%load_ext activitysmith_jupyter`` in a real
kernel. The full CI leg only (marker ``packaging``): about a minute, most of it the quick start."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from email.parser import Parser
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # collected on 3.10 too (the core legs deselect it); pytest brings tomli there
    import tomli as tomllib

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
PACKAGE = "activitysmith_jupyter"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def call(argv: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{argv} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh folder outside the checkout (pytest's own temp folder is inside it where TMPDIR points there)."""
    base = tmp_path_factory.getbasetemp().resolve()
    folder = Path(tempfile.mkdtemp(prefix="packaging-", dir=base if not base.is_relative_to(ROOT) else "/tmp"))
    assert not folder.resolve().is_relative_to(ROOT)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def dists(outside: Path) -> dict[str, Path]:
    """{"sdist": ..., "wheel": ...}: the wheel built from the sdist, as an installer from PyPI would."""
    out = outside / "dist"
    out.mkdir()
    call([sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", out, ROOT], cwd=out)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


@pytest.fixture(scope="module")
def user(dists: dict[str, Path], outside: Path) -> tuple[Path, dict[str, str]]:
    """(a folder outside the checkout, the environment of a user whose venv holds only the wheel)."""
    home = outside / "user"
    home.mkdir()
    venv = home / "venv"
    call([sys.executable, "-m", "uv", "venv", "--quiet", "--python", sys.executable, venv], cwd=home)
    requirement = f"{PROJECT['name']}[jupyter] @ {dists['wheel'].as_uri()}"
    call([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", venv / "bin" / "python",
          requirement], cwd=home)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ACTIVITYSMITH_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "IPYTHON"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               HOME=str(home), PYTHONNOUSERSITE="1")
    return home, env


def test_the_sdist_and_the_wheel_pass_the_metadata_check(dists: dict[str, Path], tmp_path: Path) -> None:
    done = call([sys.executable, "-m", "twine", "check", "--strict", dists["sdist"], dists["wheel"]], cwd=tmp_path)
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_the_wheel_holds_the_package_and_nothing_of_the_tests(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
        (entry_points_name,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points = wheel.read(entry_points_name).decode()
    info = metadata_name.split("/")[0]
    data = info.replace(".dist-info", ".data")  # the server extension's switch, enabled on install
    assert all(n.startswith((f"{PACKAGE}/", f"{info}/", f"{data}/")) for n in names), sorted(names)
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/activitysmith_jupyter.json" in names
    assert not [n for n in names if "tests" in n.split("/") or n.endswith("conftest.py")]
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*.py")}
    assert sources - names == set()  # every module of the package, so every front end
    assert {f"{PACKAGE}/py.typed", f"{PACKAGE}/_data/01-quickstart.ipynb"} <= names
    assert "activitysmith = activitysmith_jupyter.command.cli:main" in entry_points
    assert metadata["Requires-Python"] == PROJECT["requires-python"]
    assert set(metadata.get_all("Classifier") or ()) == set(PROJECT["classifiers"])


def test_the_sdist_builds_the_wheel_with_the_quick_start(dists: dict[str, Path]) -> None:
    import tarfile

    with tarfile.open(dists["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "notebooks/01-quickstart.ipynb", f"{PACKAGE}/__init__.py"} <= names


def test_the_installed_wheel_is_what_runs_outside_the_checkout(user: tuple[Path, dict[str, str]]) -> None:
    home, env = user
    done = call(["python", "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"], cwd=home, env=env)
    where = Path(done.stdout.strip())
    assert where.is_relative_to(home / "venv") and not where.is_relative_to(ROOT)


def test_the_quick_start_runs_from_the_wheel(user: tuple[Path, dict[str, str]]) -> None:
    home, env = user
    done = call(["python", "-m", PACKAGE, "quickstart"], cwd=home, env=env, timeout=600)
    assert "Running 01-quickstart.ipynb" in done.stdout
    assert "🔔 push  ✅ Nightly ETL finished" in done.stdout


def test_the_console_script_helps_and_runs_a_command(user: tuple[Path, dict[str, str]]) -> None:
    home, env = user
    helped = call(["activitysmith", "--help"], cwd=home, env=env)
    assert all(command in helped.stdout for command in ("run", "quickstart", "simulator"))
    ran = call(["activitysmith", "run", "--", "python", "-c", "print(1)"], cwd=home, env=env)
    assert ran.stdout.splitlines()[0] == "1"


KERNEL = """
import json, nbformat
from nbclient import NotebookClient

nb = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_code_cell("%load_ext activitysmith_jupyter"),
    nbformat.v4.new_code_cell("%%activitysmith_progress -t Packaged\\nimport activitysmith_jupyter\\n"
                              "print(activitysmith_jupyter.__file__)"),
    nbformat.v4.new_code_cell("from activitysmith_jupyter import default_client, dispatcher_for\\n"
                              "dispatcher_for(default_client()).flush(10)  # the end is sent in the background\\n"
                              "print([a['content_state']['subtitle'][:7] for a in "
                              "default_client().simulator.lock_screen()])"),
])
NotebookClient(nb, timeout=120, kernel_name="python3").execute()
print(json.dumps([o.get("text", "") for cell in nb.cells for o in cell.get("outputs", [])]))
"""


def test_load_ext_works_in_a_real_kernel(user: tuple[Path, dict[str, str]]) -> None:
    home, env = user
    done = call(["python", "-c", KERNEL], cwd=home, env=env)
    lines = "".join(json.loads(done.stdout.strip().splitlines()[-1])).splitlines()
    notices = [line for line in lines if "goes to the embedded simulator" in line]  # no key: said once
    path, subtitles = [line for line in lines if line not in notices]
    assert len(notices) == 1
    assert Path(path.strip()).is_relative_to(home / "venv")  # the kernel imported the installed wheel
    assert subtitles.strip() == "['Done in']"

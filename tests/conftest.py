"""Shared fixtures: a fresh simulator per test (`sim`, on the fake `clock`), clients and the one `dispatcher` on
it, and a real loopback server. A folder's own conftest.py adds only what that layer's tests share."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any
from pathlib import Path

import pytest

from activitysmith_jupyter.clock import FakeClock


def _own_folders_per_worker() -> None:
    """Under pytest-xdist each worker gets temp, IPython and Jupyter runtime folders of its own (set before any
    test makes a kernel, a shell or a temp file, and inherited by the processes it starts), as CI's legs do."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    own = Path(tempfile.gettempdir()) / f"activitysmith-xdist-{os.getppid()}-{worker}"
    for name, sub in (("TMPDIR", "tmp"), ("IPYTHONDIR", "ipython"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        (own / sub).mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(own / sub)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


_own_folders_per_worker()


def _ctrl_c_as_from_a_terminal() -> None:
    """A process a non-interactive shell starts in the background (CI's core legs: `.ci/run` runs them with
    ``&``) inherits SIGINT ignored, and so would every process a test starts: a test's Ctrl-C to a child
    would do nothing. The tests' children get what a terminal gives instead: Python's KeyboardInterrupt."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_ctrl_c_as_from_a_terminal()


@pytest.hookimpl(trylast=True)  # after pytest-xdist has shut its workers down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The controller removes its workers' folders (a worker cannot: its own exit still writes there)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for folder in Path(tempfile.gettempdir()).glob(f"activitysmith-xdist-{os.getpid()}-gw*"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_real_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see a real key or base URL from the developer's environment, nor a key `activitysmith
    setup` stored for the developer (an empty config folder; tests/command/test_setup.py sets its own)."""
    monkeypatch.delenv("ACTIVITYSMITH_API_KEY", raising=False)
    monkeypatch.delenv("ACTIVITYSMITH_BASE_URL", raising=False)
    monkeypatch.setenv("ACTIVITYSMITH_CONFIG_DIR", str(tmp_path_factory.getbasetemp() / "no-activitysmith-config"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock):
    from activitysmith_jupyter.simulator import Simulator

    return Simulator(clock=clock)


@pytest.fixture
def client(sim) -> Iterator:
    from activitysmith_jupyter.api.client import ActivitySmith

    with ActivitySmith(transport=sim.transport()) as c:
        yield c


@pytest.fixture
async def aclient(sim):
    from activitysmith_jupyter.api.client import AsyncActivitySmith

    async with AsyncActivitySmith(transport=sim.transport()) as c:
        yield c


@pytest.fixture
def make_dispatcher(client, clock) -> Iterator[Callable[..., Any]]:
    """`make_dispatcher(for_client=None, **options)`: a Dispatcher pacing on the fake clock, for `client` (whose
    own retries sleep on the simulator's fake clock too) or for a client of the test's own (a faulty transport,
    a real server: close the dispatcher before that client). Each one made is closed when the test ends,
    before `client` is."""
    from activitysmith_jupyter.delivery.dispatcher import Dispatcher

    made: list[Dispatcher] = []

    def make(for_client: Any = None, **options: Any) -> Dispatcher:
        made.append(Dispatcher(client if for_client is None else for_client, clock=clock, **options))
        return made[-1]

    yield make
    for d in reversed(made):
        d.close(timeout=5)


@pytest.fixture
def dispatcher(make_dispatcher) -> Any:
    """The one Dispatcher fixture: `make_dispatcher()`, for `client` on the fake clock (in tests/tqdm/ the bars'
    resting ends are settled before it closes)."""
    return make_dispatcher()


@pytest.fixture
def null() -> Iterator[IO[str]]:
    """Where bars draw: nothing reaches the test's output."""
    with open(os.devnull, "w") as f:
        yield f


@pytest.fixture
def server(sim) -> Iterator:
    """The same simulator behind a real HTTP server on 127.0.0.1; `server.url` is the base URL."""
    with sim.serve() as srv:
        yield srv


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The CI legs' markers (browser, framework, packaging), set by path: see leg_markers.py."""
    from leg_markers import mark_legs

    mark_legs(items, config.rootpath)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under -m "not browser and not framework ..." (the core legs) such files are not even imported."""
    from leg_markers import ruled_out

    return True if ruled_out(collection_path, config.rootpath, config.getoption("markexpr") or "") else None


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown (and unused) without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N --dist loadfile`` (scripts/test, the CI legs): whole files per worker, see `leg_markers.worker_scope`."""
    if config.getoption("dist") != "loadfile":
        return None  # another --dist: xdist's own scheduler
    from leg_markers import worker_scope
    from xdist.scheduler import LoadFileScheduling

    class ByFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_scope(nodeid)

    return ByFile(config, log)

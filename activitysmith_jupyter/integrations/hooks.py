"""Zero code inside a cell: the global hooks of the integrations, installed while a magic cell or an
auto-mode run wants them.

An integration whose library has a global registration hook exposes ``install()`` (Dask's
``Callback.register()``, rich's ``Progress`` wrapper ...); its source then feeds
``current_activity()``. `SourceInstaller` installs those of the libraries the process has imported
(a library never imported costs nothing), and, while `watch` is on, also the ones a cell imports as it
runs (``import dask`` and ``dask.compute`` in the same cell): a `sys.meta_path` finder notes when a
listed library finishes importing.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from . import INTEGRATIONS

__all__ = ["SourceInstaller"]

log = logging.getLogger("activitysmith_jupyter")

SELF_FOLLOWED = frozenset({"tqdm"})  # every cell/run activity follows tqdm bars itself
_FOLLOWED = tuple(library for library in INTEGRATIONS if library not in SELF_FOLLOWED)


class SourceInstaller:
    """Installs ``install()`` of every integration whose library is imported; `remove_all` undoes it.

    Called at every magic cell's start and end, so the common case (nothing newly imported, the watcher
    already made) is a few set and dict lookups.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._removers: dict[str, Callable[[], None]] = {}
        self._without: set[str] = set()  # imported, but our module has no install() (or it failed)
        self._watcher = _ImportWatcher(_FOLLOWED, self._imported)  # in sys.meta_path while watching
        self._watching = False

    @property
    def installed(self) -> tuple[str, ...]:
        return tuple(self._removers)

    def ensure(self) -> None:
        """Install what is newly imported."""
        modules, removers, without = sys.modules, self._removers, self._without
        for library in _FOLLOWED:
            if library not in removers and library not in without and modules.get(library) is not None:
                self._install(library)  # (None in sys.modules: blocked, "cannot be imported")

    def _install(self, library: str) -> None:
        with self._lock:
            if library in self._removers or library in self._without:
                return
            try:
                install = getattr(importlib.import_module(INTEGRATIONS[library]), "install", None)
                if install is None:
                    self._without.add(library)
                    return
                self._removers[library] = install()
            except Exception as exc:  # a broken integration never stops the cell
                self._without.add(library)
                log.warning("following %s progress is off: %s", library, exc)

    def watch(self, on: bool) -> None:
        """While on, a library imported later (by a running cell) is installed when its import ends."""
        if on == self._watching:
            return
        with self._lock:
            if on and not self._watching:
                sys.meta_path.insert(0, self._watcher)
            elif not on and self._watching:
                try:
                    sys.meta_path.remove(self._watcher)
                except ValueError:
                    pass
            self._watching = on

    def _imported(self, library: str) -> None:
        if library in INTEGRATIONS:
            self._install(library)

    def remove_all(self) -> None:
        if not self._removers:
            return
        with self._lock:
            removers, self._removers = self._removers, {}
        for library, remove in removers.items():
            try:
                remove()
            except Exception as exc:
                log.warning("uninstalling the %s source failed: %s", library, exc)


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a watched top-level library it asks the other finders, and wraps the
    loader so `callback(name)` runs once the module has executed."""

    def __init__(self, names: Sequence[str], callback: Callable[[str], None]) -> None:
        self._names = frozenset(names)
        self._callback = callback
        self._busy = threading.local()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._names or getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            spec = importlib.util.find_spec(fullname)
        except Exception:  # noqa: BLE001 - let the normal import report it
            return None
        finally:
            self._busy.on = False
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return None
        spec.loader = _NotifyingLoader(loader, self._callback)
        return spec


class _NotifyingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, callback: Callable[[str], None]) -> None:
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        if module.__spec__ is not None:  # the module keeps its real loader (reload, resources)
            module.__spec__.loader = self._loader
        module.__loader__ = self._loader
        self._loader.exec_module(module)
        try:
            self._callback(module.__name__)
        except Exception:  # noqa: BLE001 - the user's import must succeed
            log.warning("following %s progress failed", module.__name__, exc_info=True)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package ...
        return getattr(self._loader, name)

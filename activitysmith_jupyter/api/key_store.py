"""The key `activitysmith setup` stored: the OS keyring where a real one exists, else a private file.

The user's ActivitySmith config folder (``platformdirs.user_config_dir("activitysmith")``, or
``ACTIVITYSMITH_CONFIG_DIR``) holds either

* ``api_key``: the key itself, in a file only its owner can read (mode 0600, created that way), or
* ``api_key.keyring``: a pointer saying the key is in the OS keyring (no secret in it).

Reading is cheap when nothing was stored (two ``stat`` calls, no keyring import), so every client made
without a key can afford to look. keyring is optional (the ``keyring`` extra): it pulls in D-Bus and
``cryptography`` on Linux, and headless machines (JupyterHub, clusters, containers) have no keyring
daemon anyway, so the file is what runs there.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_CONFIG_DIR",
    "KEY_FILE",
    "KEYRING_POINTER",
    "KEYRING_SERVICE",
    "KEYRING_USERNAME",
    "StoredKey",
    "config_dir",
    "delete_stored_key",
    "keyring_backend",
    "make_dirs",
    "read_stored_key",
    "store_key",
    "write_private_file",
]

log = logging.getLogger("activitysmith_jupyter")

ENV_CONFIG_DIR = "ACTIVITYSMITH_CONFIG_DIR"
KEY_FILE = "api_key"
KEYRING_POINTER = "api_key.keyring"
KEYRING_SERVICE = "activitysmith-jupyter"
KEYRING_USERNAME = "api-key"
# keyring ranks its backends: fail (0), null (-1) and the plain-text stores of keyrings.alt (< 1) are
# not a safe place; the OS stores (macOS Keychain, Secret Service, Windows Credential Locker) rank >= 4.
_MIN_PRIORITY = 1.0


@dataclass(frozen=True)
class StoredKey:
    """A stored key and where it came from (``source`` names the place, never the key)."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"StoredKey(value='…', source={self.source!r})"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``ACTIVITYSMITH_CONFIG_DIR``, else the platform's per-user config folder for "activitysmith"."""
    env = os.environ if env is None else env
    override = env.get(ENV_CONFIG_DIR, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs  # only when a key is looked for

    return Path(platformdirs.user_config_dir("activitysmith", appauthor=False))


def read_stored_key(env: Mapping[str, str] | None = None) -> StoredKey | None:
    """The key setup stored, or None. A store that cannot be read is logged and treated as empty."""
    folder = config_dir(env)
    path = folder / KEY_FILE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = None
    except OSError as exc:
        log.warning("cannot read the stored ActivitySmith key file %s: %s", path, exc.strerror)
        return None
    if text:
        return StoredKey(text, f"the file {path}")
    if not (folder / KEYRING_POINTER).exists():
        return None
    return _read_keyring()


def _read_keyring() -> StoredKey | None:
    backend = keyring_backend()
    if backend is None:
        log.warning("the ActivitySmith key was stored in a keyring that is not available here")
        return None
    try:
        value = backend.get_password(KEYRING_SERVICE, KEYRING_USERNAME)
    except Exception as exc:  # a locked or absent keyring daemon must not break the user's work
        log.warning("cannot read the ActivitySmith key from the keyring: %s", type(exc).__name__)
        return None
    return StoredKey(value, f"the keyring ({_backend_name(backend)})") if value else None


def keyring_backend() -> Any | None:
    """keyring's backend when keyring is installed and has a real (secure) store, else None."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        priority = float(getattr(backend, "priority", 0))
    except Exception:  # a broken keyring configuration: behave as if there were none
        return None
    return backend if priority >= _MIN_PRIORITY else None


def _backend_name(backend: Any) -> str:
    return str(getattr(backend, "name", None) or type(backend).__name__)


def store_key(key: str, env: Mapping[str, str] | None = None) -> tuple[str, list[Path]]:
    """Store `key` (keyring if real, else the private file); returns (where, paths created).

    The other place is cleared, so exactly one stored key exists afterwards.
    """
    folder = config_dir(env)
    created = make_dirs(folder)
    backend = keyring_backend()
    if backend is not None and _keyring_took(backend, key):
        pointer = folder / KEYRING_POINTER
        if not pointer.exists():
            created.append(pointer)
        pointer.write_text(f"{_backend_name(backend)}\n", encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            (folder / KEY_FILE).unlink()
        return f"the keyring ({_backend_name(backend)})", created
    path = folder / KEY_FILE
    if not path.exists():
        created.append(path)
    write_private_file(path, key + "\n")
    _forget_keyring(folder)
    return f"the file {path} (mode 600)", created


def _keyring_took(backend: Any, key: str) -> bool:
    try:
        backend.set_password(KEYRING_SERVICE, KEYRING_USERNAME, key)
    except Exception as exc:  # a locked or refusing keyring: the private file instead
        log.warning("the keyring refused the key (%s); storing it in a private file", type(exc).__name__)
        return False
    return True


def delete_stored_key(env: Mapping[str, str] | None = None) -> list[str]:
    """Remove the stored key from wherever it is; returns what was removed (for the user)."""
    folder = config_dir(env)
    removed: list[str] = []
    with contextlib.suppress(FileNotFoundError):
        (folder / KEY_FILE).unlink()
        removed.append(f"the key file {folder / KEY_FILE}")
    if _forget_keyring(folder):
        removed.append("the key in the keyring")
    return removed


def _forget_keyring(folder: Path) -> bool:
    """Delete the keyring entry the pointer says exists, and the pointer."""
    pointer = folder / KEYRING_POINTER
    if not pointer.exists():
        return False
    backend = keyring_backend()
    if backend is not None:
        with contextlib.suppress(Exception):  # already gone (keyring raises PasswordDeleteError)
            backend.delete_password(KEYRING_SERVICE, KEYRING_USERNAME)
    pointer.unlink()
    return True


def make_dirs(folder: Path, mode: int = 0o700) -> list[Path]:
    """Create `folder` (with `mode`) and its missing parents (default mode); returns those created, top first.

    The caller records them, so ``setup --undo`` can remove exactly the folders setup made.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=mode if path == folder else 0o777)
    return list(reversed(missing))


def write_private_file(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, never more, not even for a moment.

    A temporary file is created with mode 0600 (``O_EXCL``: ours, not a planted symlink), written,
    then renamed over `path`.
    """
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise

"""A real keyring backend for the tests: keyring's own extension point, kept in a JSON file.

Select it with ``PYTHON_KEYRING_BACKEND=json_keyring.JsonKeyring`` (this folder on ``PYTHONPATH``) and
``TEST_KEYRING_FILE=<path>``, or in-process with ``keyring.set_keyring(JsonKeyring())``. It counts the
reads, so a test can tell whether anything asked the keyring at all; the file disappears when empty.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class JsonKeyring(KeyringBackend):
    priority = 5  # type: ignore[assignment]  # ranks like an OS keyring

    @property
    def path(self) -> Path:
        return Path(os.environ["TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {"secrets": {}, "reads": 0}

    def _save(self, data: dict[str, Any]) -> None:
        if data["secrets"] or data["reads"]:
            self.path.write_text(json.dumps(data), encoding="utf-8")
        elif self.path.exists():
            self.path.unlink()

    def get_password(self, service: str, username: str) -> str | None:
        data = self._load()
        data["reads"] += 1
        self._save(data)
        return data["secrets"].get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data["secrets"][f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data["secrets"].pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self._save(data)


def reads() -> int:
    return int(JsonKeyring()._load()["reads"])


def secrets() -> dict[str, str]:
    return dict(JsonKeyring()._load()["secrets"])

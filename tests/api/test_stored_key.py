"""Where the key comes from: the api_key argument > ACTIVITYSMITH_API_KEY > the key `activitysmith setup`
stored > none (the embedded simulator). The stored key is read only when nothing before it gives one, and
it shows nowhere but masked."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

keyring = pytest.importorskip("keyring")

import json_keyring  # noqa: E402  (tests/json_keyring.py: a real keyring backend kept in a JSON file)

from activitysmith_jupyter.api.client import ActivitySmith  # noqa: E402
from activitysmith_jupyter.api.key_store import KEYRING_POINTER, read_stored_key, store_key  # noqa: E402
from activitysmith_jupyter.api.settings import DEFAULT_BASE_URL, resolve_settings  # noqa: E402

STORED = "ask_stored_key_5b1e0c9d7a"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("ACTIVITYSMITH_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def use_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """keyring's own set_keyring: our JSON backend for this test, the previous one afterwards."""
    monkeypatch.setenv("TEST_KEYRING_FILE", str(tmp_path / "keyring.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(json_keyring.JsonKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_nothing_stored_means_the_embedded_simulator(config) -> None:
    settings = resolve_settings()
    assert settings.api_key is None and settings.embedded and settings.key_source == "none"


def test_the_stored_key_is_used_when_neither_argument_nor_environment_gives_one(config, no_keyring, monkeypatch) -> None:
    where, _ = store_key(STORED)
    settings = resolve_settings()
    assert settings.api_key == STORED and not settings.embedded and settings.base_url == DEFAULT_BASE_URL
    assert settings.key_source == f"the file {config / 'api_key'}" and where.startswith(settings.key_source)
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", "ask_environment_key_123")
    assert resolve_settings().key_source == "ACTIVITYSMITH_API_KEY"
    assert resolve_settings().api_key == "ask_environment_key_123"
    argued = resolve_settings("ask_argument_key_4567")
    assert argued.api_key == "ask_argument_key_4567" and argued.key_source == "the api_key argument"


def test_the_keyring_is_read_lazily_only_when_no_key_comes_first(config, use_keyring, monkeypatch) -> None:
    store_key(STORED)
    assert (config / KEYRING_POINTER).exists() and not (config / "api_key").exists()
    monkeypatch.setenv("ACTIVITYSMITH_API_KEY", "ask_environment_key_123")
    resolve_settings()
    resolve_settings("ask_argument_key_4567")
    assert json_keyring.reads() == 0
    monkeypatch.delenv("ACTIVITYSMITH_API_KEY")
    settings = resolve_settings()
    assert json_keyring.reads() == 1
    assert settings.api_key == STORED and settings.key_source.startswith("the keyring (")


def test_no_stored_key_means_no_keyring_lookup_at_all(config, use_keyring) -> None:
    assert resolve_settings().api_key is None
    assert json_keyring.reads() == 0


def test_a_stored_key_shows_only_masked(config, no_keyring, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="activitysmith_jupyter")
    store_key(STORED)
    with ActivitySmith() as client:
        shown = [repr(client), repr(resolve_settings()), repr(read_stored_key()), str(client.api_key_hint),
                 client.api_key_source]
    assert client.api_key_hint == "ask_…"
    assert not any(STORED in text for text in shown + [caplog.text])


def test_a_keyring_that_fails_is_logged_without_the_key_and_treated_as_empty(config, use_keyring, caplog,
                                                                             monkeypatch) -> None:
    store_key(STORED)
    monkeypatch.setenv("TEST_KEYRING_FILE", str(config))  # a folder: reading the backend's file now fails
    settings = resolve_settings()
    assert settings.api_key is None and settings.embedded
    assert "cannot read the ActivitySmith key from the keyring" in caplog.text and STORED not in caplog.text

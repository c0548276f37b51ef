"""Client settings resolution: a pure function from arguments and environment to settings."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "SIMULATOR_BASE_URL",
    "SIMULATOR_KEY",
    "USER_AGENT",
    "Settings",
    "mask_key",
    "resolve_settings",
]

DEFAULT_BASE_URL = "https://activitysmith.com/api"
# Host used for the in-process simulator transport; ".invalid" can never resolve to a real host.
SIMULATOR_BASE_URL = "http://simulator.invalid/api"
# Bearer value sent when there is no key (the simulator accepts any non-empty key).
SIMULATOR_KEY = "simulator"
USER_AGENT = f"activitysmith-jupyter/{__version__}"
ENV_API_KEY = "ACTIVITYSMITH_API_KEY"
ENV_BASE_URL = "ACTIVITYSMITH_BASE_URL"


@dataclass(frozen=True)
class Settings:
    """What a client talks to. `api_key` is None when no key was configured."""

    api_key: str | None
    base_url: str
    embedded: bool  # True: route every request to the process-wide embedded simulator
    key_source: str = "none"  # where the key came from (never the key): shown by status and doctor

    def __repr__(self) -> str:  # never show the key
        return f"Settings(api_key={mask_key(self.api_key)!r}, base_url={self.base_url!r}, embedded={self.embedded})"

    @property
    def bearer(self) -> str:
        return self.api_key if self.api_key is not None else SIMULATOR_KEY


def resolve_settings(
    api_key: str | None = None,
    base_url: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    has_transport: bool = False,
    simulator_transport: bool = False,
) -> Settings:
    """argument > environment > default, for the key and the base URL.

    The key: argument > ``ACTIVITYSMITH_API_KEY`` > the key `activitysmith setup` stored > none.

    No key anywhere, no explicit base URL and no transport => the embedded simulator.
    An explicit base URL without a key still goes over HTTP (e.g. to the simulator CLI server).
    A simulator's own transport (`simulator_transport`) gets the simulator's URL unless one is given.
    """
    env = os.environ if env is None else env
    if api_key is not None and not isinstance(api_key, str):
        raise TypeError("api_key must be a string")
    if api_key == "":
        raise ValueError("api_key must not be empty (omit it to use the embedded simulator)")
    key = api_key if api_key is not None else (env.get(ENV_API_KEY) or None)
    source = "none" if key is None else "the api_key argument" if api_key is not None else ENV_API_KEY
    if key is None:  # lazily: the key `activitysmith setup` stored is read only when nothing else gives one
        from .key_store import read_stored_key

        stored = read_stored_key(env)
        if stored is not None:
            key, source = stored.value, stored.source
    # it goes into an HTTP header: printable ASCII only (a key pasted with typographic quotes fails here)
    if key is not None and (key != key.strip() or not (key.isascii() and key.isprintable())):
        raise ValueError("api_key contains surrounding whitespace, control or non-ASCII characters")
    url = base_url or env.get(ENV_BASE_URL) or None
    embedded = key is None and url is None and not has_transport
    if url is None:
        url = SIMULATOR_BASE_URL if embedded or simulator_transport else DEFAULT_BASE_URL
    return Settings(api_key=key, base_url=url.rstrip("/"), embedded=embedded, key_source=source)


def mask_key(key: str | None) -> str | None:
    """A display form of the key that never contains it: a short prefix only for long keys."""
    if key is None:
        return None
    return f"{key[:4]}…" if len(key) >= 16 else "…"

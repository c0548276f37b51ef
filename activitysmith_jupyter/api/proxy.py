"""Whether the environment sends a URL through a proxy (standard library only: no httpx needed to ask)."""
from __future__ import annotations

import urllib.parse
import urllib.request

__all__ = ["proxy_applies"]


def proxy_applies(url: str) -> bool:
    """Whether HTTPS_PROXY, HTTP_PROXY or ALL_PROXY (minus NO_PROXY) route `url` through a proxy; then the
    client uses httpx.Client's own proxy mounts instead of our transport."""
    parsed = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies()
    if parsed.scheme not in proxies and "all" not in proxies:
        return False
    return not urllib.request.proxy_bypass(parsed.hostname or "")

"""URL handling: strip the /api prefix and query, map (method, path) to an endpoint name and path key."""
from __future__ import annotations

from urllib.parse import unquote

__all__ = ["split_path", "match_route"]


def split_path(target: str) -> str:
    """'/api/live-activity/stream/k?x=1' -> '/live-activity/stream/k' (still percent-encoded)."""
    path = target.split("?", 1)[0].split("#", 1)[0] or "/"
    if "://" in path:  # absolute-form request target
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    if path == "/api" or path.startswith("/api/"):
        path = path[4:] or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def match_route(method: str, path: str) -> tuple[str, str | None] | None:
    """(endpoint, decoded path key) per API doc §2, or None for an unknown path or method."""
    parts = path.strip("/").split("/")
    method = method.upper()
    key = unquote(parts[-1]) if parts else None
    if parts == ["push-notification"] and method == "POST":
        return "push", None
    if len(parts) == 2 and parts[0] == "push-notification" and method == "PUT":
        return "replace", key
    if len(parts) == 3 and parts[:2] == ["live-activity", "stream"]:
        return {"PUT": ("stream", key), "DELETE": ("end_stream", key)}.get(method)
    if len(parts) == 2 and parts[0] == "live-activity" and parts[1] in ("start", "update", "end"):
        return (parts[1], None) if method == "POST" else None
    if len(parts) == 3 and parts[0] == "metrics" and parts[2] == "value" and method == "POST":
        return "metric", unquote(parts[1])
    if parts == ["badge"] and method == "POST":
        return "badge", None
    return None

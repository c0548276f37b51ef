"""Helpers for comparing request bodies on the wire (used by the golden and SDK parity tests).

The official Python SDK injects model defaults that carry no information: every content_state gets
``counts_down: true`` and ``is_running: true``, every action ``method: "POST"``, every legacy ``end``
content_state ``auto_dismiss_minutes: 3``. Those may be left out by our client, so both sides are
normalised the same way before comparing. Numbers compare by value (the SDK sends ``9`` as ``9.0``),
but a bool never equals a number.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

# A copy of shared/golden/seed_requests.jsonl lives in the repo so the tests run wherever it is cloned.
GOLDEN = Path(__file__).resolve().parent / "data" / "seed_requests.jsonl"
SHARED_GOLDEN = Path("/work/shared/golden/seed_requests.jsonl")

_ACTION_KEYS = ("action", "secondary_action")


def load_golden() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()]


def without_sdk_defaults(body: Any, *, legacy_end: bool = False) -> Any:
    """A deep copy of `body` without the SDK's injected defaults."""
    if not isinstance(body, dict):
        return body
    body = json.loads(json.dumps(body))
    state = body.get("content_state")
    if isinstance(state, dict):
        for name in ("counts_down", "is_running"):
            if state.get(name) is True:
                del state[name]
        if legacy_end and state.get("auto_dismiss_minutes") == 3:
            del state["auto_dismiss_minutes"]
    actions = [body[k] for k in _ACTION_KEYS if isinstance(body.get(k), dict)]
    actions += [a for a in body.get("actions") or [] if isinstance(a, dict)]
    for act in actions:
        if act.get("method") == "POST":
            del act["method"]
    return body


def same_json(a: Any, b: Any) -> bool:
    """Structural equality where 9 == 9.0 but True != 1 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def awaiting(source: str) -> Any:
    """Compile seed-style source so every `activitysmith.…(…)` call is awaited (top-level await)."""

    class _AwaitCalls(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> Any:
            self.generic_visit(node)
            root = node.func
            while isinstance(root, (ast.Attribute, ast.Call)):
                root = root.value if isinstance(root, ast.Attribute) else root.func
            if isinstance(root, ast.Name) and root.id == "activitysmith" and isinstance(node.func, ast.Attribute):
                return ast.Await(value=node)
            return node

    tree = ast.fix_missing_locations(_AwaitCalls().visit(ast.parse(source)))
    return compile(tree, "<seed>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)

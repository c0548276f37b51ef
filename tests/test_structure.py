"""Package shape: no import cycle (type-only and function-local imports included), small modules, a light
`import activitysmith_jupyter`.

The import graph is read from the source with `ast`, so it sees every `import` / `from … import` statement
wherever it stands: at module level, under `if TYPE_CHECKING:`, and inside functions. Function-local
(lazy) imports count: they only delay loading, the dependency is the same, and "imports flow one way"
(design.md) is about dependencies. Edges follow grimp/import-linter's convention: `from pkg import name`
depends on the module `pkg.name` when there is one, else on `pkg`; importing `a.b.c` does not add edges to
the parent packages `a` and `a.b` (every submodule would otherwise "import" the package `__init__`).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "activitysmith_jupyter"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 450
HEAVY = ("IPython", "ipywidgets", "tqdm", "keras", "jax", "transformers", "lightning", "xgboost", "lightgbm",
         "optuna", "dask", "distributed", "rich", "papermill", "pyspark", "py4j", "ray")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from … import` names (resolving leading dots against `module`)."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> Iterator[str]:
    """Every package module `module` imports, anywhere in its source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES and target.startswith(PACKAGE):
                target = target.rpartition(".")[0]  # `import pkg.mod.Name` style: the nearest module
            if target in MODULES and target != module:
                yield target


def import_graph() -> dict[str, set[str]]:
    return {module: set(_imports(module)) for module in MODULES}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles as closed paths: for every strongly connected component of more than one module, the
    shortest cycle through each of its members (duplicates dropped), so every module on a cycle is named."""
    cycles: list[list[str]] = []
    for component in _components(graph):
        seen: set[tuple[str, ...]] = set()
        for member in sorted(component):
            cycle = _shortest_cycle(graph, member, component)
            key = tuple(sorted(cycle[:-1]))
            if key not in seen:
                seen.add(key)
                cycles.append(cycle)
    return cycles


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """A shortest path from `start` back to itself inside its component (breadth-first)."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt not in parents:
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def _cycles_text(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_import_graph_sees_type_only_and_function_local_imports():
    graph = import_graph()
    # `if TYPE_CHECKING:` in the package __init__, and a lazy import inside a method of the Simulator.
    assert f"{PACKAGE}.simulator" in graph[PACKAGE]
    assert f"{PACKAGE}.simulator.transport" in graph[f"{PACKAGE}.simulator.state"]
    assert f"{PACKAGE}.payloads" in graph[f"{PACKAGE}.simulator.validation"]  # `from .. import payloads`


@pytest.mark.parametrize(
    ("graph", "expected"),
    [({"a": {"b"}, "b": {"c"}, "c": set()}, []),
     ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c", "a"]]),
     ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b", "a"], ["c", "d", "c"]]),
     ({"hub": {"x", "y"}, "x": {"hub"}, "y": {"hub"}}, [["hub", "x", "hub"], ["y", "hub", "y"]])],
    ids=["acyclic", "three-module-cycle", "two-cycles", "two-cycles-through-one-module"],
)
def test_find_cycles_reports_each_cycle_as_a_closed_path(graph, expected):
    assert sorted(find_cycles(graph)) == expected


def test_simulator_has_no_import_cycle():
    graph = import_graph()
    inside = {m: {n for n in deps if n.startswith(f"{PACKAGE}.simulator")}
              for m, deps in graph.items() if m.startswith(f"{PACKAGE}.simulator")}
    assert find_cycles(inside) == [], _cycles_text(find_cycles(inside))
    # and no cycle of the whole package runs through a simulator module
    through = [c for c in find_cycles(graph) if any(m.startswith(f"{PACKAGE}.simulator") for m in c)]
    assert through == [], _cycles_text(through)


@pytest.mark.parametrize("adapter", ["transport", "server", "page"], ids=["transport", "server", "page"])
def test_simulator_adapters_depend_on_the_backend_protocol_not_on_the_simulator(adapter):
    deps = import_graph()[f"{PACKAGE}.simulator.{adapter}"]
    assert f"{PACKAGE}.simulator.state" not in deps and f"{PACKAGE}.simulator.phone" not in deps
    assert f"{PACKAGE}.simulator.backend" in deps


def test_package_has_no_import_cycle():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles (type-only and function-local imports count):\n" + _cycles_text(cycles)


@pytest.mark.parametrize("module", sorted(MODULES), ids=sorted(MODULES))
def test_module_is_at_most_450_lines(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT.parent)} has {lines} lines (max {MAX_LINES})"


def test_importing_the_package_imports_no_framework():
    code = (f"import sys, {PACKAGE}\n"
            f"heavy = {HEAVY!r}\n"
            "print(' '.join(sorted(m for m in heavy if m in sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.split() == []

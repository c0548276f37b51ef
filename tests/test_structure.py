"""The rules of the house: no import cycle (type-only and function-local imports included, and none through
a package's ``__init__``), IPython only under ``notebook/``, a light ``import activitysmith_jupyter``, no
function over 60 lines, each limit defined once. Modules are split by job, never by size.

The import graph is read from the source with `ast`, so it sees every `import` / `from … import` statement
wherever it stands: at module level, under `if TYPE_CHECKING:`, and inside functions. Function-local
(lazy) imports count: they only delay loading, the dependency is the same, and "imports flow one way"
(design.md) is about dependencies. Edges follow grimp/import-linter's convention: `from pkg import name`
depends on the module `pkg.name` when there is one, else on `pkg`; importing `a.b.c` does not add edges to
the parent packages `a` and `a.b` (every submodule would otherwise "import" the package `__init__`).
"""
from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "activitysmith_jupyter"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_FUNCTION_LINES = 60
IPYTHON = ("IPython", "ipykernel")
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


@functools.cache
def _tree(module: str) -> ast.Module:
    """Each module parsed once per session (parsing all of them again per test is slow, and CPython 3.11's
    parser has been seen to fail spuriously when asked thousands of times in one process)."""
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def _imports(module: str) -> Iterator[str]:
    """Every package module `module` imports, anywhere in its source."""
    for node in ast.walk(_tree(module)):
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


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    return {module: frozenset(_imports(module)) for module in MODULES}


def import_graph() -> dict[str, set[str]]:
    return {module: set(deps) for module, deps in _graph().items()}


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


def _own_submodules(package: str) -> set[str]:
    return {m for m in import_graph()[package] if m.startswith(package + ".")}


def _defines_code(module: str) -> list[str]:
    return [n.name for n in _tree(module).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


PACKAGES = sorted(m for m, p in MODULES.items() if p.name == "__init__.py" and m != PACKAGE)


@pytest.mark.parametrize("package", PACKAGES, ids=PACKAGES)
def test_a_package_init_either_reexports_its_modules_or_holds_code_never_both(package):
    """Loading any submodule runs its package's ``__init__`` first: an ``__init__`` with logic of its own
    that also imports a submodule is a cycle the module graph does not show."""
    imported, code = _own_submodules(package), _defines_code(package)
    assert not (imported and code), f"{package}/__init__ defines {code} and imports {sorted(imported)}"


def test_ipython_is_imported_only_under_notebook():
    outside = {m: sorted(_third_party(m) & set(IPYTHON)) for m in MODULES
               if not m.startswith(f"{PACKAGE}.notebook")}
    assert {m: libs for m, libs in outside.items() if libs} == {}


def _third_party(module: str) -> set[str]:
    """The top-level names of every non-package module `module` imports, anywhere in its source."""
    names: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - {PACKAGE}


def _long_functions() -> list[str]:
    found = []
    for module, path in MODULES.items():
        for node in ast.walk(_tree(module)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_no_function_is_over_60_lines():
    assert _long_functions() == []


def _limits() -> dict[str, list[str]]:
    """Module-level constants named ``MAX_*`` / ``MIN_*`` given a literal value (an alias of another
    module's limit does not count), by name."""
    defined: dict[str, list[str]] = {}
    for module, path in MODULES.items():
        for node in _tree(module).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            value = getattr(node, "value", None)
            for target in targets:
                name = target.id.lstrip("_") if isinstance(target, ast.Name) else ""
                if name.startswith(("MAX_", "MIN_")) and not isinstance(value, (ast.Name, ast.Attribute)):
                    defined.setdefault(name, []).append(module)
    return defined


def test_each_limit_is_defined_once():
    twice = {name: modules for name, modules in _limits().items() if len(modules) > 1}
    assert twice == {}


def test_the_phone_texts_limits_live_in_wording():
    limits = _limits()
    for name in ("MAX_TITLE", "MAX_SUBTITLE", "MAX_FINAL_SUBTITLE", "MAX_PUSH_TITLE", "MAX_PUSH_MESSAGE"):
        assert limits[name] == [f"{PACKAGE}.hub.wording"], name


def test_at_most_a_dozen_modules_stay_directly_in_the_package():
    top = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(top) <= 12, top
    layers = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
    assert layers == ["api", "command", "composer", "delivery", "hub", "integrations", "notebook", "payloads",
                      "simulator", "watchdog"]


def test_importing_the_package_imports_no_framework():
    code = (f"import sys, {PACKAGE}\n"
            f"heavy = {HEAVY!r}\n"
            "print(' '.join(sorted(m for m in heavy if m in sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.split() == []

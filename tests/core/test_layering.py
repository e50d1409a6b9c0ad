"""The shape of the code, read from the source: core/ imports only point down (no cycle, counting imports
inside functions too), core/ never imports Dash, Flask, Plotly or the dashboard, storage never reaches
the numerics or the pipeline, no private name crosses a module, and files and functions stay short.

Imports are edges between modules as written (``from core.fixed_points.result import X`` is an edge to
``core.fixed_points.result``, not to the package ``core.fixed_points``).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 350
MAX_FUNCTION_LINES = 60
FORBIDDEN_IN_CORE = ("dash", "flask", "flask_caching", "plotly", "dashboard", "app")

# what the storage layer may never reach: the pipeline, training, tasks and the numerics
NUMERICS_AND_PIPELINE = ("core.analysis", "core.training", "core.jobs", "core.pipeline", "core.cli", "core.tasks",
                         "core.dynamics", "core.geometry", "core.words", "core.linearize", "core.fixed_points.solver")
# module -> the only core modules it may reach (transitively); a prefix ending in "." admits a package
MAY_ONLY_REACH = {
    "core.text": (), "core.priority": (), "core.evidence": (), "core.atomic": (), "core.records": (),
    "core.pca": (), "core.cells": ("core.cells.",), "core.config": ("core.cells", "core.cells."),
    "core.analysis_file": ("core.atomic",),
}
STORAGE = ("core.analysis_file", "core.analysis_view", "core.bundle", "core.store")


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: str) -> dict[str, Path]:
    return {_module_name(p): p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))}


CORE = _sources("core")


@lru_cache(maxsize=None)
def _imports(path: Path, module: str) -> list[tuple[str, bool, list[str]]]:
    """(imported module, inside a function?, names taken from it) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, in_function, []) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.append((base, in_function, [alias.name for alias in child.names]))
            visit(child, nested)

    visit(tree, False)
    return found


def _edges(sources: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules of ``sources`` it imports (``from pkg import submodule`` counts as the submodule)."""
    graph = {name: set() for name in sources}
    for name, path in sources.items():
        for base, _, names in _imports(path, name):
            targets = [f"{base}.{n}" for n in names if f"{base}.{n}" in sources]
            if len(targets) < len(names) or not names:
                targets.append(base)
            graph[name].update(t for t in targets if t in sources and t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_graph_sees_the_known_edges():
    """A guard for the parser itself: these edges exist, so a graph without them would be wrong."""
    graph = _edges(CORE)
    assert "core.cells" in graph["core.config"] and "core.analysis_file" in graph["core.store"]
    assert "core.fixed_points.solver" in graph["core.fixed_points"] and "core.bundle" in graph["core.store"]
    assert len(CORE) > 30


def test_core_has_no_import_cycle():
    assert _cycles(_edges(CORE)) == []


def test_a_cycle_would_be_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_imports_core_at_module_level_only():
    """An import inside a function is how a loop hides; core has no reason for one."""
    inside = [(name, base) for name, path in CORE.items() for base, in_function, _ in _imports(path, name)
              if in_function and (base == "core" or base.startswith("core."))]
    assert inside == []


def test_core_never_imports_dash_flask_plotly_or_the_dashboard():
    bad = [(name, base) for name, path in CORE.items() for base, _, _ in _imports(path, name)
           if base.split(".")[0] in FORBIDDEN_IN_CORE]
    assert bad == []


@pytest.mark.parametrize("module", STORAGE)
def test_storage_never_reaches_the_numerics_or_the_pipeline(module):
    reached = _reach(_edges(CORE), module)
    assert sorted(m for m in reached if any(m == n or m.startswith(n + ".") for n in NUMERICS_AND_PIPELINE)) == []


@pytest.mark.parametrize("module, allowed", list(MAY_ONLY_REACH.items()))
def test_low_modules_reach_only_what_is_below_them(module, allowed):
    reached = _reach(_edges(CORE), module)
    assert sorted(m for m in reached if not any(m == a or (a.endswith(".") and m.startswith(a)) for a in allowed)) == []


def test_no_private_name_crosses_a_module():
    """``from x import _y`` and ``x._y`` on an imported module of the project, in core/, dashboard/ and app.py."""
    sources = {**_sources("core", "dashboard"), "app": REPO / "app.py"}
    bad = []
    for name, path in sources.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = set()
        for base, _, names in _imports(path, name):
            bad += [f"{name}: from {base} import {n}" for n in names
                    if n.startswith("_") and not n.startswith("__") and base in sources]
            modules |= {n for n in names if f"{base}.{n}" in sources}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {a.asname or a.name for a in node.names if a.name in sources}
            elif isinstance(node, ast.alias) and node.asname:
                modules.add(node.asname)
        bad += [f"{name}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert bad == []


@pytest.mark.parametrize("folder", ["core", "dashboard"])
def test_files_and_functions_stay_short(folder):
    long_files, long_functions = [], []
    for name, path in _sources(folder).items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_FILE_LINES:
            long_files.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {length} lines")
    assert long_files == [] and long_functions == []

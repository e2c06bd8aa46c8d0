"""No import cycle among `kiosk` modules, counting imports inside functions too: a
deferred import hides a cycle from Python but not from a reader, and the order the
modules load in should never matter."""

from __future__ import annotations

import ast
from pathlib import Path

import kiosk

KIOSK_DIR = Path(kiosk.__file__).resolve().parent


def module_files(root: Path = KIOSK_DIR) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package at `root`."""
    files = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def imported_modules(module: str, source: str, known: set[str], is_package: bool) -> set[str]:
    """The known modules `module` imports anywhere in its source (each import names the
    deepest known module: `from kiosk import expr` is `kiosk.expr`)."""

    def known_prefix(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names += [f"{base}.{alias.name}" for alias in node.names]
    found = {known_prefix(name) for name in names}
    return {m for m in found if m is not None and m != module}


def import_graph(root: Path = KIOSK_DIR) -> dict[str, set[str]]:
    files = module_files(root)
    return {
        module: imported_modules(
            module, path.read_text(encoding="utf-8"), set(files), path.name == "__init__.py"
        )
        for module, path in files.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or round about
    (strongly connected components of more than one module, Tarjan's algorithm)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        order[v] = low[v] = len(order)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return sorted(found)


def test_no_import_cycle_among_kiosk_modules() -> None:
    graph = import_graph()
    assert {"kiosk.engine", "kiosk.engine_json", "kiosk.expr.values"} <= set(graph)
    assert "kiosk.engine" in graph["kiosk.engine_json"]
    assert cycles(graph) == []


def test_the_scan_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.sub.c import x\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("def g():\n    from .. import a\n")
    (pkg / "d.py").write_text("import pkg.sub\n")
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert graph["pkg.d"] == {"pkg.sub"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert cycles({"x": {"y"}, "y": set()}) == []

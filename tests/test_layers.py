"""Imports point down: mahalla (entry point) -> screens -> sync -> kiosk (the domain).

`lint-imports` (contracts in pyproject.toml, run by scripts/test) checks the import
graph, function-level imports included. These tests add what a graph cannot see: what
importing the domain really loads, modules named in strings (``import_module``, ``-m``),
and that the UI's one type-only upward import (``screens.base`` types its app) stays so.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import kiosk
from kiosk.crashpoints import POINTS

KIOSK_DIR = Path(kiosk.__file__).resolve().parent
REPO = KIOSK_DIR.parent
ABOVE = {
    "kiosk": ("textual", "sync", "screens", "mahalla"),
    "sync": ("textual", "screens", "mahalla"),
}
DOTTED_PATH = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def kiosk_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(KIOSK_DIR)], prefix="kiosk."))


def test_importing_every_kiosk_module_leaves_textual_and_the_upper_layers_out() -> None:
    modules = kiosk_modules()
    assert "kiosk.store" in modules and "kiosk.cli" in modules
    script = (
        "import importlib, json, sys\n"
        "failed = {}\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed[name] = repr(exc)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {ABOVE['kiosk']!r})\n"
        "print(json.dumps({'failed': failed, 'loaded': loaded}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["failed"] == {}, result["failed"]
    assert result["loaded"] == [], result["loaded"]


def imported_roots(tree: ast.AST) -> set[str]:
    """Top-level module names imported anywhere in a file (including inside functions)."""
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def named_modules(tree: ast.AST) -> set[str]:
    """Roots of modules named in strings: dotted paths ("sync.commands"), or after "-m"."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            # Crash point names ("sync.batch_built") are dotted but name no module.
            if DOTTED_PATH.fullmatch(node.value) and node.value not in POINTS:
                names.add(node.value)
        elif isinstance(node, ast.List | ast.Tuple):
            values = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            names.update(
                str(name) for flag, name in zip(values, values[1:], strict=False) if flag == "-m"
            )
    return {name.split(".")[0] for name in names}


def test_no_kiosk_file_imports_textual() -> None:
    offenders = {}
    for path in sorted(KIOSK_DIR.rglob("*.py")):
        roots = imported_roots(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if "textual" in roots:
            offenders[str(path.relative_to(KIOSK_DIR))] = sorted(roots & {"textual", "screens"})
    assert offenders == {}


def test_lower_layers_do_not_name_upper_ones_in_strings() -> None:
    """A module run by name (``-m``, import_module) is a dependency the graph misses."""
    offenders = {}
    for package, above in ABOVE.items():
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            named = (named_modules(tree) | imported_roots(tree)) & set(above) - {"textual"}
            if named:
                offenders[str(path.relative_to(REPO))] = sorted(named)
    assert offenders == {}


def test_the_domain_imports_by_computed_name_only_its_own_modules() -> None:
    """``import_module(name)`` with a name computed at run time is invisible to the graph
    and to the string scan above: the domain's parser once built the command modules of
    every layer that way. Only the speech package's lazy attributes may (their homes are
    the domain's own modules); the entry point hands command modules in, imported."""
    import kiosk.speech

    computed = []
    for path in sorted(KIOSK_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", None))
                in ("import_module", "__import__")
                and node.args
                and not isinstance(node.args[0], ast.Constant)
            ):
                computed.append(str(path.relative_to(REPO)))
    assert computed == ["kiosk/speech/__init__.py"]
    assert all(home.startswith("kiosk.") for home in kiosk.speech._HOMES.values())


def runtime_imports(tree: ast.Module) -> set[str]:
    """Modules imported outside ``if TYPE_CHECKING:`` blocks, inside functions too."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_screens_import_the_app_only_to_type_it() -> None:
    """The app imports every screen; a screen importing the app back would be a cycle.

    pyproject.toml's acyclic contract ignores the one type-only import (screens.base);
    this keeps that import type-only. The `kiosk run` command builds the app.
    """
    screens_dir = REPO / "screens"
    offenders = []
    for path in sorted(screens_dir.rglob("*.py")):
        if path.name in ("app.py", "commands.py"):
            continue
        if "screens.app" in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_the_scans_see_imports_inside_functions_and_names_in_strings() -> None:
    tree = ast.parse("def f():\n    from textual.app import App\n    import textual.widgets\n")
    assert imported_roots(tree) == {"textual"}
    tree = ast.parse("import importlib\nimportlib.import_module('textual.app')\n")
    assert "textual" in imported_roots(tree)
    tree = ast.parse("ARGV = ['python', '-m', 'mahalla']\nCOMMANDS = ('sync.commands',)\n")
    assert named_modules(tree) == {"mahalla", "sync"}
    assert named_modules(ast.parse("FIELD = 'mahalla'\n")) == set()
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from screens.app import KioskApp\n"
        "def f():\n    import screens.app\n"
    )
    assert "screens.app" in runtime_imports(tree)
    tree = ast.parse("if TYPE_CHECKING:\n    from screens.app import KioskApp\n")
    assert "screens.app" not in runtime_imports(tree)

"""The domain package never depends on the UI: no textual import in kiosk/, at all."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import kiosk

KIOSK_DIR = Path(kiosk.__file__).resolve().parent
FORBIDDEN = ("textual", "screens")


def kiosk_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(KIOSK_DIR)], prefix="kiosk."))


def test_importing_every_kiosk_module_leaves_textual_out() -> None:
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
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'screens'))\n"
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


def test_no_kiosk_file_imports_textual() -> None:
    offenders = {}
    for path in sorted(KIOSK_DIR.rglob("*.py")):
        roots = imported_roots(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if "textual" in roots:
            offenders[str(path.relative_to(KIOSK_DIR))] = sorted(roots & set(FORBIDDEN))
    assert offenders == {}


def test_the_scan_sees_imports_inside_functions() -> None:
    tree = ast.parse("def f():\n    from textual.app import App\n    import textual.widgets\n")
    assert imported_roots(tree) == {"textual"}
    tree = ast.parse("import importlib\nimportlib.import_module('textual.app')\n")
    assert "textual" in imported_roots(tree)

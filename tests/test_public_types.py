"""The typing rules the code review keeps asking for, checked on the source.

1. No ``Any`` in the public signatures of ``kiosk/`` and ``sync/``: the parameter and
   return annotations of module-level functions, and of the methods of module-level
   classes, whose names do not start with ``_`` (dunders like ``__init__`` count as
   public). ``Any`` counts however it is spelled: the name, ``typing.Any``, inside a
   string annotation, or through a module-level alias whose value mentions it
   (``JSONDict = dict[str, Any]``), including one imported from another project module.
   ``Any`` inside bodies and private helpers is allowed.
2. Every ``# type: ignore`` in the packages names its error code and says why:
   ``# type: ignore[code]  # reason``.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO_ROOT

TYPED_PACKAGES = ("kiosk", "sync")
IGNORE_PACKAGES = ("kiosk", "sync", "screens", "mahalla")
TYPING_MODULES = ("typing", "typing_extensions")


def package_files(packages: tuple[str, ...]) -> list[Path]:
    return sorted(path for package in packages for path in (REPO_ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


class AnyFinder:
    """Whether an annotation (or alias value) mentions ``Any``, for one module."""

    def __init__(self, any_names: set[str], typing_names: set[str], aliases: set[str]) -> None:
        self.any_names = (
            any_names  # names bound to typing.Any (`Any`, `from typing import Any as A`)
        )
        self.typing_names = typing_names  # names bound to the typing module (`typing`, `t`)
        self.aliases = aliases  # module-level aliases whose value mentions Any

    def mentions_any(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and (sub.id in self.any_names or sub.id in self.aliases):
                return True
            if isinstance(sub, ast.Attribute) and sub.attr == "Any":
                if isinstance(sub.value, ast.Name) and (
                    sub.value.id in self.typing_names or sub.value.id in TYPING_MODULES
                ):
                    return True
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                try:
                    parsed = ast.parse(sub.value, mode="eval")
                except SyntaxError:
                    continue
                if self.mentions_any(parsed):
                    return True
        return False


def module_level_aliases(tree: ast.Module, finder: AnyFinder) -> set[str]:
    """Module-level names whose assigned value mentions Any, to a fixed point."""
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in tree.body:
            targets: list[ast.expr] = []
            value: ast.AST | None = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign):
                targets, value = [node.target], node.value
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in found:
                    finder.aliases = found
                    if finder.mentions_any(value):
                        found.add(target.id)
                        changed = True
    return found


def _imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[str, str, str]]:
    """(source module, imported name, local name) for every `from ... import` in the module."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{source}" if source else base
            for alias in node.names:
                yield source, alias.name, alias.asname or alias.name


def _typing_bindings(tree: ast.Module, module: str, is_package: bool) -> tuple[set[str], set[str]]:
    any_names: set[str] = set()
    typing_names: set[str] = set()
    for source, name, local in _imports(tree, module, is_package):
        if source in TYPING_MODULES and name == "Any":
            any_names.add(local)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in TYPING_MODULES:
                    typing_names.add(alias.asname or alias.name)
    return any_names, typing_names


def public_functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_public(node.name):
            yield node
        elif isinstance(node, ast.ClassDef) and is_public(node.name):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and is_public(
                    item.name
                ):
                    yield item


def annotations(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr | None]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    for arg in every:
        if arg is not None:
            yield arg.annotation
    yield function.returns


def any_in_public_signatures(files: list[Path], root: Path = REPO_ROOT) -> list[str]:
    """`path:line name` for each public function whose signature mentions Any."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in files}
    names = {path: module_name_under(path, root) for path in files}
    finders: dict[str, AnyFinder] = {}
    for path, tree in trees.items():
        is_package = path.name == "__init__.py"
        any_names, typing_names = _typing_bindings(tree, names[path], is_package)
        finder = AnyFinder(any_names, typing_names, set())
        finder.aliases = module_level_aliases(tree, finder)
        finders[names[path]] = finder
    # Aliases imported from another project module count as well (to a fixed point:
    # a module may re-export an alias it imported).
    changed = True
    while changed:
        changed = False
        for path, tree in trees.items():
            finder = finders[names[path]]
            for source, name, local in _imports(tree, names[path], path.name == "__init__.py"):
                other = finders.get(source)
                if other is not None and name in other.aliases and local not in finder.aliases:
                    finder.aliases.add(local)
                    changed = True
    offenders = []
    for path, tree in trees.items():
        finder = finders[names[path]]
        for function in public_functions(tree):
            if any(finder.mentions_any(annotation) for annotation in annotations(function)):
                relative = path.relative_to(root).as_posix()
                offenders.append(f"{relative}:{function.lineno} {function.name}")
    return offenders


def module_name_under(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# `# type: ignore[code, code]` then a comment giving the reason.
GOOD_IGNORE = re.compile(r"#\s*type:\s*ignore\[[\w-]+(?:\s*,\s*[\w-]+)*\]\s*#\s*\S")
ANY_IGNORE = re.compile(r"#\s*type:\s*ignore\b")


def unexplained_ignores(files: list[Path], root: Path = REPO_ROOT) -> list[str]:
    """`path:line` for each `# type: ignore` comment without a code and a reason."""
    offenders = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type != tokenize.COMMENT or not ANY_IGNORE.search(token.string):
                continue
            if not GOOD_IGNORE.search(token.string):
                relative = path.relative_to(root).as_posix()
                offenders.append(f"{relative}:{token.start[0]} {token.string.strip()}")
    return offenders


def test_no_any_in_public_signatures() -> None:
    offenders = any_in_public_signatures(package_files(TYPED_PACKAGES))
    assert offenders == [], "Any in public signatures:\n" + "\n".join(offenders)


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    offenders = unexplained_ignores(package_files(IGNORE_PACKAGES))
    assert offenders == [], "type: ignore without [code]  # reason:\n" + "\n".join(offenders)


# The checkers themselves, on small made-up packages, so a check that silently stopped
# seeing anything would fail here.


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_the_any_checker_sees_every_spelling(tmp_path: Path) -> None:
    files = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/aliases.py": (
                "from typing import Any\nJSONDict = dict[str, Any]\nRows = list[JSONDict]\n"
            ),
            "pkg/mod.py": (
                "from __future__ import annotations\n"
                "import typing\n"
                "import typing as t\n"
                "from typing import Any, Any as A\n"
                "from pkg.aliases import Rows\n"
                "def plain(x: Any) -> None: ...\n"
                "def returns() -> dict[str, Any]: ...\n"
                "def dotted(x: typing.Any) -> None: ...\n"
                "def short(x: t.Any) -> None: ...\n"
                "def renamed(*args: A) -> None: ...\n"
                "def text(x: 'list[Any]') -> None: ...\n"
                "def alias(rows: Rows) -> None: ...\n"
                "async def later(**kw: Any) -> None: ...\n"
                "def _private(x: Any) -> Any: ...\n"
                "def fine(x: object) -> int: ...\n"
                "class Public:\n"
                "    def __init__(self, x: Any) -> None: ...\n"
                "    def method(self, *, x: int = 0) -> Any: ...\n"
                "    def _helper(self, x: Any) -> None: ...\n"
                "    def ok(self) -> None:\n"
                "        y: Any = 1\n"
                "class _Private:\n"
                "    def method(self) -> Any: ...\n"
            ),
        },
    )
    found = [entry.split(" ", 1)[1] for entry in any_in_public_signatures(files, tmp_path)]
    assert found == [
        "plain",
        "returns",
        "dotted",
        "short",
        "renamed",
        "text",
        "alias",
        "later",
        "__init__",
        "method",
    ]


def test_the_ignore_checker_wants_a_code_and_a_reason(tmp_path: Path) -> None:
    files = _write(
        tmp_path,
        {
            "m.py": (
                "a = 1  # type: ignore\n"
                "b = 1  # type: ignore[misc]\n"
                "c = 1  # type: ignore  # a reason but no code\n"
                "d = 1  # type: ignore[misc]  # Textual sets this\n"
                "e = 1  # type: ignore[arg-type, misc]  # both, said why\n"
                "f = '# type: ignore'\n"
            ),
        },
    )
    found = [entry.split(" ", 1)[0] for entry in unexplained_ignores(files, tmp_path)]
    assert found == ["m.py:1", "m.py:2", "m.py:3"]

"""docs/ARCHITECTURE.md's module map matches the code, both ways.

Every module (a ``.py`` file other than ``__init__``/``__main__``) of the project's
packages is named in the map, and every module the map names exists. The map is the
tables whose first column is "module": a heading that names a package folder in
backticks (``## Sync (`sync/`)``) sets where the names of the tables below it start.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "ARCHITECTURE.md"
PACKAGES = ("mahalla", "kiosk", "sync", "screens")
HEADING_ROOT = re.compile(r"^#+ .*?`((?:mahalla|kiosk|sync|screens)/[\w/]*)`")
NAME = re.compile(r"`([\w/]+\.py)`")


def modules_in_code() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            if path.name not in ("__init__.py", "__main__.py"):
                found.add(path.relative_to(REPO_ROOT).as_posix())
    return found


def modules_in_map(text: str) -> set[str]:
    root: str | None = None
    in_table = False
    found = set()
    for line in text.splitlines():
        heading = HEADING_ROOT.match(line)
        if heading:
            root = heading.group(1)
        if line.startswith("| module |"):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and root is not None:
            first_cell = line.split("|")[1]
            found.update(f"{root}{name}" for name in NAME.findall(first_cell))
    return found


def test_the_module_map_matches_the_code_both_ways() -> None:
    in_code = modules_in_code()
    in_map = modules_in_map(DOC.read_text(encoding="utf-8"))
    assert sorted(in_code - in_map) == [], "modules missing from docs/ARCHITECTURE.md"
    assert sorted(in_map - in_code) == [], "docs/ARCHITECTURE.md names modules that do not exist"


def test_the_map_reader_sees_tables_under_their_heading(tmp_path: Path) -> None:
    text = (
        "## Sync (`sync/`)\n| module | job |\n| --- | --- |\n"
        "| `wire.py`, `portal/app.py` | x |\n\nprose `other.py`\n"
        "## UI (`screens/`)\n| module | job |\n| --- | --- |\n| `widgets/qr.py` | y |\n"
    )
    assert modules_in_map(text) == {"sync/wire.py", "sync/portal/app.py", "screens/widgets/qr.py"}

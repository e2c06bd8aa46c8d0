"""The app's stylesheets are whole: every rule's braces close (a merge that drops one
makes Textual refuse the rest of the file, and the screens after the first lose their
layout)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHEETS = sorted((Path(__file__).resolve().parent.parent / "screens").glob("*.tcss"))


@pytest.mark.parametrize("sheet", SHEETS, ids=[s.name for s in SHEETS])
def test_every_rule_is_closed(sheet: Path) -> None:
    depth = 0
    for number, line in enumerate(sheet.read_text(encoding="utf-8").splitlines(), 1):
        code = line.split("/*")[0] if "*/" not in line else line
        for ch in code:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth in (0, 1), f"{sheet.name}:{number}: braces nest or close twice"
        if depth == 1 and line.lstrip().startswith("/* -----"):
            raise AssertionError(f"{sheet.name}:{number}: a section starts inside a rule")
    assert depth == 0, f"{sheet.name}: a rule is not closed"

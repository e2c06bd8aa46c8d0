"""Every text box of the kiosk is a TextBox, which never selects its text on focus
(a fast typist's first key was swallowed: a PIN lost a digit, a search lost a letter)."""

from __future__ import annotations

import re

from screens.widgets.textbox import TextBox
from tests.conftest import REPO_ROOT


def test_a_textbox_does_not_select_on_focus() -> None:
    assert TextBox().select_on_focus is False
    assert TextBox(select_on_focus=True).select_on_focus is True  # still settable


def test_no_screen_builds_a_bare_input() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for path in sorted((REPO_ROOT / "screens").rglob("*.py"))
        if path.name != "textbox.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bInput\(", line)
    ]
    assert found == []

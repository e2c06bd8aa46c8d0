"""The kiosk's one text box: an Input that never selects its text on focus.

Textual's Input selects everything when it gains focus. At a kiosk the focus often
arrives just after the first key of a fast typist (a box focused on mount, or a letter
that moves the focus into the search box), so the selection swallowed that key and the
next one replaced it: a PIN lost a digit, "б о ғ" became "оғ". Every text box of the
kiosk is a TextBox, so no screen can bring that back by forgetting a flag.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class TextBox(Input):
    """An Input with ``select_on_focus`` off by default."""

    def __init__(self, *args: Any, select_on_focus: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, select_on_focus=select_on_focus, **kwargs)

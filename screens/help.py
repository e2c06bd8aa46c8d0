"""After "Call the operator": help is coming, shown in large type and spoken.

The call itself is recorded by the app (``KioskApp.action_call_operator``, durable and
audited: kiosk/help_calls.py) before this dialog opens, so "help is coming" is never
said for a call the operator's dashboard will not show. The citizen's screen stays as
it was underneath: OK (a click, Enter, Escape or any digit) goes back to it.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.widgets import Button

from kiosk.i18n import N_, tr
from screens.base import KioskModal
from screens.widgets.tr import TrButton, TrLabel

HELP_COMING = N_("Help is coming. An operator has been called and will come to you.")


class HelpCalledScreen(KioskModal):
    """Says that help is coming; OK closes it."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield TrLabel(N_("Help is coming"), classes="dialog-title", id="help-title")
            yield TrLabel(HELP_COMING, classes="dialog-text", id="help-text")
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(N_("OK"), prefix="1  ", id="help-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#help-ok", Button).focus()
        self.speak()

    def speak(self) -> None:
        self.kiosk.say(tr(self.lang, HELP_COMING))

    def on_key(self, event: Key) -> None:
        if event.key in ("enter", "escape", "space") or event.key.isdigit():
            event.stop()
            self.close()

    @on(Button.Pressed, "#help-ok")
    def close(self) -> None:
        if self.is_current:
            self.dismiss(None)

"""The idle warning: a countdown before the kiosk wipes the screen for the next person."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.reactive import reactive
from textual.widgets import Button

from kiosk.i18n import N_, tr
from screens.base import KioskModal
from screens.widgets.tr import TrButton, TrLabel


class IdleWarningScreen(KioskModal):
    """Any key or the button keeps the session; the app wipes it when time is up."""

    remaining: reactive[int] = reactive(30)

    def __init__(self, remaining: int) -> None:
        super().__init__()
        self.set_reactive(IdleWarningScreen.remaining, remaining)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="idle-dialog"):
            yield TrLabel(N_("Are you still there?"), classes="dialog-title")
            yield TrLabel(
                N_("For your privacy the screen will be cleared in {n} seconds."),
                id="idle-countdown",
                classes="dialog-text",
                n=self.remaining,
            )
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(N_("I am still here"), id="idle-stay", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#idle-stay", Button).focus()
        self.kiosk.say(tr(self.lang, "Are you still there?"))

    def watch_remaining(self, remaining: int) -> None:
        if self.is_mounted:
            self.query_one("#idle-countdown", TrLabel).set_msg(n=remaining)

    def on_key(self, event: Key) -> None:
        event.stop()
        self.stay()

    @on(Button.Pressed, "#idle-stay")
    def stay(self) -> None:
        self.kiosk.touch()
        self.dismiss(None)

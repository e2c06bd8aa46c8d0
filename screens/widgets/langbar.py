"""The top bar: the kiosk's name and the three language buttons, on every screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Static

from kiosk.i18n import CITIZEN_LANGS, LANG_NAMES, N_, tr


class LangBar(Horizontal):
    """Switches ``App.lang`` at any moment; the current language is highlighted."""

    DEFAULT_CSS = """
    LangBar {
        dock: top;
        height: 1;
        background: $primary;
        color: $text;
    }
    LangBar > #lb-title { width: 1fr; padding: 0 1; text-style: bold; color: $text; }
    LangBar > Button {
        height: 1;
        min-width: 10;
        border: none;
        padding: 0 1;
        margin: 0 0 0 1;
        background: $primary-darken-2;
        color: $text;
    }
    LangBar > Button.-current { background: $accent; color: $text; text-style: bold underline; }
    """

    TITLE = N_("Mahalla Kiosk")

    def compose(self) -> ComposeResult:
        yield Static(id="lb-title", markup=False)
        for code in CITIZEN_LANGS:
            button = Button(Content(LANG_NAMES[code]), id=f"lang-{code}", compact=True)
            # Mouse/touch targets; keys F5-F7 do the same without stealing the focus.
            button.can_focus = False
            yield button

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self._show, init=True)

    def _show(self, lang: str) -> None:
        self.query_one("#lb-title", Static).update(Content(tr(lang, self.TITLE)))
        for code in CITIZEN_LANGS:
            self.query_one(f"#lang-{code}", Button).set_class(code == lang, "-current")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id.startswith("lang-"):
            self.app.lang = button_id.removeprefix("lang-")  # type: ignore[attr-defined]

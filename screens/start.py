"""The first screen: choose a language (big targets, keys 1..n), spoken greeting.

Also the way to the status check, the high-contrast switch and "Continue with my
code" (``screens.resume``). No saved draft is ever offered here by itself: one opens
with its resume code only, so the next person sees nothing of the previous one.
"""

from __future__ import annotations

import logging

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Static

from kiosk import languages
from kiosk.i18n import N_, tr
from screens.base import KioskScreen
from screens.widgets.tr import TrButton, button_classes

logger = logging.getLogger(__name__)

GREETING = N_("Welcome! Choose your language")
ONE_COLUMN_MAX = 3  # more language buttons than this go in two columns (80x24 fits)


def tool_keys() -> tuple[str, str]:
    """The keys of "Check my application" and "High contrast": next after the languages."""
    n = len(languages.citizen_codes())
    return str(n + 1), str(n + 2)


def resume_key() -> str:
    """The key of "Continue with my code": after the other tools."""
    return str(len(languages.citizen_codes()) + 3)


class StartScreen(KioskScreen):
    """Language choice first: the greeting is shown in every citizen language at once."""

    def body(self) -> ComposeResult:
        offered = languages.citizen_codes()
        status_key, contrast_key = tool_keys()
        # Scrolls when a small terminal cannot show it all (app.tcss sizes it).
        with VerticalScroll(id="start"):
            for code in offered:
                yield Static(Content(tr(code, GREETING)), classes="greeting", id=f"greet-{code}")
            columns = "-two-columns" if len(offered) > ONE_COLUMN_MAX else None
            with Grid(id="lang-choice", classes=columns):
                for n, code in enumerate(offered, start=1):
                    yield Button(
                        Content(f"{n}  {languages.get(code).name}"),
                        id=f"choose-{code}",
                        classes=button_classes("big lang-button"),
                    )
            with Horizontal(classes="start-tools"):
                yield TrButton(N_("Check my application"), prefix=f"{status_key}  ", id="to-status")
                yield TrButton(
                    N_("High contrast"), prefix=f"{contrast_key}  ", id="toggle-contrast"
                )
                yield TrButton(
                    N_("Continue with my code"), prefix=f"{resume_key()}  ", id="to-resume"
                )
                if self.kiosk.mode == "operator":
                    yield TrButton(N_("Back to the dashboard"), prefix="0  ", id="to-dashboard")

    def on_mount(self) -> None:
        self.query_one(f"#choose-{languages.citizen_codes()[0]}", Button).focus()

    def on_screen_resume(self) -> None:
        self.speak_intro()

    def speak_intro(self) -> None:
        """The greeting, then every choice with its number (each language by its own
        name, the tools in the language on screen)."""
        from screens.spoken import numbered, sentences

        lang = self.lang
        offered = languages.citizen_codes()
        status_key, contrast_key = tool_keys()
        items: list[tuple[int | str, str]] = [
            (n, languages.get(code).name) for n, code in enumerate(offered, start=1)
        ]
        items += [
            (status_key, tr(lang, "Check my application")),
            (contrast_key, tr(lang, "High contrast")),
            (resume_key(), tr(lang, "Continue with my code")),
        ]
        if self.kiosk.mode == "operator":
            items.append((0, tr(lang, "Back to the dashboard")))
        self.kiosk.say(sentences(tr(lang, GREETING), numbered(items)))

    def on_key(self, event: Key) -> None:
        keys = {str(n): code for n, code in enumerate(languages.citizen_codes(), start=1)}
        status_key, contrast_key = tool_keys()
        if event.key in keys:
            event.stop()
            self.choose(keys[event.key])
        elif event.key == status_key:
            event.stop()
            self.open_status()
        elif event.key == contrast_key:
            event.stop()
            self.kiosk.action_toggle_contrast()
        elif event.key == resume_key():
            event.stop()
            self.open_resume()
        elif event.key == "0" and self.kiosk.mode == "operator":
            event.stop()
            self.app.pop_screen()

    @on(Button.Pressed, ".lang-button")
    def _lang_pressed(self, event: Button.Pressed) -> None:
        self.choose((event.button.id or "").removeprefix("choose-"))

    @on(Button.Pressed, "#to-status")
    def open_status(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("status"))

    @on(Button.Pressed, "#to-resume")
    def open_resume(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("resume"))

    @on(Button.Pressed, "#toggle-contrast")
    def _contrast(self) -> None:
        self.kiosk.action_toggle_contrast()

    @on(Button.Pressed, "#to-dashboard")
    def _dashboard(self) -> None:
        self.app.pop_screen()

    def choose(self, lang: str) -> None:
        self.kiosk.lang = lang
        self.app.push_screen(self.kiosk.new_screen("services"))

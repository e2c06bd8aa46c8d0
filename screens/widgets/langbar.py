"""The top bar: the kiosk's name, a button per citizen language, and on every citizen
screen "Call the operator" (the app records and announces the call: ``KioskApp.
action_call_operator``).

Every button here is a touch target of at least 3 rows by 12 columns (issue 14). Under
80 columns the bar leaves out the kiosk's name and the button of the language on
screen (what the citizen reads is that language already), so that the other
languages and the call keep their size.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Static

from kiosk import languages
from kiosk.i18n import DEFAULT_LANG, N_, tr
from screens.widgets.tr import TrButton, button_classes, set_text

# Shown when the chosen language is read aloud by another language's voice.
# TRANSLATORS: in place of the kiosk's name; {language} is the voice's language (O‘zbekcha).
VOICE_NOTE = N_("Voice: {language}")


class LangBar(Horizontal):
    """Switches ``App.lang`` at any moment; the current language is highlighted."""

    DEFAULT_CSS = """
    LangBar {
        dock: top;
        height: 3;
        background: $primary;
        color: $text;
    }
    LangBar > #lb-title, LangBar > #lb-voice {
        width: 1fr;
        height: 3;
        padding: 0 1;
        content-align: left middle;
        text-style: bold;
        color: $text;
    }
    LangBar > .-hidden { display: none; }
    LangBar > Button {
        height: 3;
        min-width: 12;
        border: none;
        padding: 0 1;
        margin: 0 0 0 1;
        content-align: center middle;
        text-align: center;
        background: $primary-darken-2;
        color: $text;
    }
    LangBar > Button.-current { background: $accent; color: $text; text-style: bold underline; }
    LangBar > #call-operator { background: $warning-darken-1; color: $text; text-style: bold; }
    """

    # TRANSLATORS: a button on every citizen screen; pressing it calls the kiosk's operator.
    CALL = N_("Call the operator")

    def __init__(self, *, call: bool = False) -> None:
        super().__init__()
        self.call = call

    TITLE = N_("Mahalla Kiosk")

    def compose(self) -> ComposeResult:
        # Built as the app's language shows them, so the first paint needs no second
        # layout; on mount, _show finds nothing to change.
        lang: str = getattr(self.app, "lang", DEFAULT_LANG)
        title, voice, voice_shown = self._texts(lang)
        yield Static(
            Content(title), id="lb-title", markup=False, classes="-hidden" if voice_shown else ""
        )
        yield Static(
            Content(voice), id="lb-voice", markup=False, classes="" if voice_shown else "-hidden"
        )
        for code in languages.citizen_codes():
            button = Button(
                Content(languages.get(code).name),
                id=f"lang-{code}",
                compact=True,
                classes=button_classes("-current" if code == lang else None),
            )
            # Mouse/touch targets; F5 steps through them without stealing the focus.
            button.can_focus = False
            yield button
        if self.call:
            call = TrButton(self.CALL, prefix="☎ ", id="call-operator")
            call.compact = True  # no border: the bar's colour is the button
            call.can_focus = False  # F1 calls too; the focus stays with the screen
            yield call

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self._show, init=True)

    def _texts(self, lang: str) -> tuple[str, str, bool]:
        """The kiosk's name, the voice note, and whether the note shows (in the name's place)."""
        other = languages.speaks_with_other_voice(lang)
        voice = "" if other is None else tr(lang, VOICE_NOTE, language=languages.get(other).name)
        return tr(lang, self.TITLE), voice, other is not None

    def _show(self, lang: str) -> None:
        title_text, voice_text, voice_shown = self._texts(lang)
        title = self.query_one("#lb-title", Static)
        voice = self.query_one("#lb-voice", Static)
        set_text(title, title_text)
        if voice_shown:
            set_text(voice, voice_text)
        # The note takes the name's place: at 80 columns the bar has room for one.
        voice.set_class(not voice_shown, "-hidden")
        title.set_class(voice_shown, "-hidden")
        for button in self.query(Button):
            if (button.id or "").startswith("lang-"):
                button.set_class(button.id == f"lang-{lang}", "-current")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "call-operator":
            # KioskApp's action: importing the app here would make an import cycle.
            self.app.action_call_operator()  # type: ignore[attr-defined]  # see above
        elif button_id.startswith("lang-"):
            # KioskApp's reactive: importing the app here would make an import cycle.
            self.app.lang = button_id.removeprefix("lang-")  # type: ignore[attr-defined]  # see above

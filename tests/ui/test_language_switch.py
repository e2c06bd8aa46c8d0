"""The language switch offers every citizen language of kiosk.languages."""

from __future__ import annotations

from textual.widgets import Button, Static

from kiosk import i18n, languages
from screens.start import StartScreen, tool_keys
from tests.ui.driver import ready


def _voice_note(app: object) -> Static:
    return app.screen.query_one("#lb-voice", Static)  # type: ignore[attr-defined]


async def test_f5_steps_through_every_citizen_language_and_round(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        offered = languages.citizen_codes()
        assert app.lang == offered[0]
        seen = []
        for _ in offered:
            await pilot.press("f5")
            seen.append(app.lang)
        assert seen == [*offered[1:], offered[0]]
        assert [b.id for b in app.screen.query("LangBar Button") if b.id != "call-operator"] == [
            f"lang-{code}" for code in offered
        ]
        assert not _voice_note(app).display  # these languages have voices of their own


async def test_a_new_language_is_offered_and_notes_the_voice_it_borrows(
    make_app, new_language: str
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        start = app.screen
        assert isinstance(start, StartScreen)
        assert start.query_one(f"#greet-{new_language}", Static)
        count = len(languages.citizen_codes())
        assert tool_keys() == (str(count + 1), str(count + 2))
        # Everything on the start screen still fits 80x24 with one language more.
        for widget in start.query(Button):
            if not widget.display:
                continue  # the bar leaves out the language on screen under 120 columns
            assert widget.region.bottom <= 23 and widget.region.height > 0, widget.id
        await pilot.press(str(count))  # the new language, last of the choices
        await pilot.pause()
        assert app.lang == new_language
        note = _voice_note(app)
        assert note.display and not app.screen.query_one("#lb-title", Static).display
        assert str(note.content) == i18n.tr(new_language, "Voice: {language}", language="O‘zbekcha")
        assert app.screen.query_one(f"#lang-{new_language}", Button).has_class("-current")
        await pilot.press("f5")  # round to the first language, which has its own voice
        await pilot.pause()
        assert app.lang == languages.citizen_codes()[0]
        assert not _voice_note(app).display
        assert app.screen.query_one("#lb-title", Static).display

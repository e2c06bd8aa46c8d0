""" "Call the operator" (issue 14): on every citizen screen, pressing it records a call,
shows and speaks that help is coming in the citizen's language, and the operator's
dashboard shows a flag until the operator clears it (audited: kiosk/help_calls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button

from kiosk.i18n import tr
from kiosk.store import Store
from screens.help import HELP_COMING, HelpCalledScreen
from tests.ui.driver import click, ready, wait_until
from tests.ui.places import ALL_CITIZEN_PLACES, add_operators, to_dashboard


@pytest.fixture(autouse=True)
def _fixed_resume_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import drafts

    monkeypatch.setattr(drafts, "new_secret", lambda: "1234567890")


def _waiting(data_dir: Path) -> object:
    with Store.open(data_dir) as store:
        return store.help_call()


@pytest.mark.parametrize("name", list(ALL_CITIZEN_PLACES))
async def test_every_citizen_screen_calls_the_operator(make_app, data_dir, speech, name) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ALL_CITIZEN_PLACES[name](pilot)
        screen = app.screen
        button = screen.query_one("#call-operator", Button)
        assert button.display and screen.region.contains_region(button.region), button.region
        lang = "ru"
        app.lang = lang
        await pilot.pause()
        assert _waiting(data_dir) is None
        speech.said.clear()
        await click(pilot, button)
        await wait_until(pilot, lambda: isinstance(app.screen, HelpCalledScreen), "help coming")
        # Shown and spoken, in the citizen's language.
        sentence = tr(lang, HELP_COMING)
        assert sentence != HELP_COMING  # translated
        await wait_until(pilot, lambda: sentence in speech.texts(), "help coming said")
        shown = str(app.screen.query_one("#help-text").render())
        assert sentence in shown
        assert (sentence, lang, "text") in speech.said, speech.said
        call = _waiting(data_dir)
        assert call is not None and call["lang"] == lang  # type: ignore[index]
        # OK: back to the very screen the citizen was on.
        await click(pilot, app.screen.query_one("#help-ok", Button))
        await wait_until(pilot, lambda: app.screen is screen, "back to the screen")


async def test_the_dashboard_flags_a_call_until_the_operator_clears_it(
    make_app, data_dir, speech
) -> None:
    # The citizen's kiosk calls...
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f1")  # the key does as the button
        await wait_until(pilot, lambda: isinstance(app.screen, HelpCalledScreen), "help coming")
    # ...and the operator's terminal on the same data folder shows it, even started after.
    add_operators(data_dir)
    operator = make_app(mode="operator")
    async with operator.run_test(size=(80, 24)) as pilot:
        await to_dashboard(pilot)
        screen = operator.screen
        assert not screen.query("#call-operator")  # no call button on the operator's screens
        flag = screen.query_one("#help-flag")
        await wait_until(pilot, lambda: flag.display, "the flag")
        text = str(screen.query_one("#help-flag-text").render())
        assert "☎" in text and tr(operator.lang, "the first screen") in text
        await click(pilot, screen.query_one("#help-clear", Button))
        await wait_until(pilot, lambda: not flag.display, "the flag cleared")
    with Store.open(data_dir) as store:
        assert store.help_call() is None
        actions = [
            tuple(r)
            for r in store.db.execute(
                "SELECT actor, action FROM audit WHERE action LIKE 'help_%' ORDER BY seq"
            )
        ]
        assert actions[0] == ("citizen", "help_called")
        assert actions[1][1] == "help_cleared" and actions[1][0].startswith("operator:")

"""The voice-first pass (issue 14): everything on a screen can be heard, in the
citizen's language: the question, its hint, the options with their numbers (and "0"
for more past nine), errors, the review's lines, the receipt's code. One test per
screen type asserts the spoken text, through the silent speech stand-in's record."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from kiosk import languages, tracking
from kiosk.i18n import tr
from kiosk.speech.prepare import code_prompt
from screens.services import MORE, PAGE
from screens.spoken import MORE_OPTIONS
from screens.widgets.answers import ChoiceButton
from sync.lookup import describe
from tests.ui.driver import choose_language, ready, type_text, wait_until
from tests.ui.places import (
    FIXED_RECEIPT,
    answer_until,
    to_multiple,
    to_one_choice,
    to_receipt,
    to_resume,
    to_review,
    to_status,
    to_text,
)

LANGS = ["uz_Latn", "ru"]


@pytest.fixture(autouse=True)
def _fixed_resume_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import drafts

    monkeypatch.setattr(drafts, "new_secret", lambda: "1234567890")


def last(speech: Any) -> str:
    assert speech.said, "nothing was said"
    return str(speech.said[-1][0])


def heard(speech: Any, *parts: str) -> None:
    """Each part is in one utterance said last, in that order."""
    text = last(speech)
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} not heard (after {at}) in {text!r}"
        at = found + len(part)


async def test_start(make_app, speech) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        lang = app.lang
        names = [
            f"{n}: {languages.get(c).name}."
            for n, c in enumerate(languages.citizen_codes(), start=1)
        ]
        k = len(names)
        heard(
            speech,
            tr(lang, "Welcome! Choose your language"),
            *names,
            f"{k + 1}: {tr(lang, 'Check my application')}.",
            f"{k + 2}: {tr(lang, 'High contrast')}.",
            f"{k + 3}: {tr(lang, 'Continue with my code')}.",
        )


@pytest.mark.parametrize("lang", LANGS)
async def test_service_list(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, lang, "keyboard")
        screen = app.screen
        await wait_until(pilot, lambda: bool(screen.on_page()), "the services")
        page = screen.on_page()
        assert len(screen.results) > PAGE  # a second page: "0" is heard
        heard(
            speech,
            tr(lang, "Choose a service"),
            *[f"{n}: {form.title(lang)}." for n, form in enumerate(page, start=1)],
            f"0: {tr(lang, MORE, page=1, pages=screen.pages)}.",
        )
        await pilot.press("0")  # the next page is heard too
        await pilot.pause()
        heard(speech, f"1: {screen.on_page()[0].title(lang)}.")


@pytest.mark.parametrize("lang", LANGS)
async def test_text_question(make_app, speech, lang) -> None:
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_text(pilot)
        app.lang = lang
        await pilot.pause()
        await pilot.click("#listen")
        session = app.visit.session
        heard(speech, session.label("pinfl"), session.hint("pinfl"))
        assert speech.said[-1][1] == lang


@pytest.mark.parametrize("lang", LANGS)
async def test_one_choice(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_one_choice(pilot)
        app.lang = lang
        await pilot.pause()
        await pilot.click("#listen")
        buttons = list(app.screen.query(ChoiceButton))
        assert 2 <= len(buttons) <= 9
        options = [f"{b.number}: {b.choice.label(lang)}." for b in buttons]
        heard(speech, app.visit.session.label("purpose"), *options)
        assert "0:" not in last(speech)  # nine or fewer: no "more"


@pytest.mark.parametrize("lang", LANGS)
async def test_multiple_choice(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_multiple(pilot)
        app.lang = lang
        await pilot.pause()
        await pilot.click("#listen")
        buttons = list(app.screen.query(ChoiceButton))
        assert buttons[0].multiple
        options = [f"{b.number}: {b.choice.label(lang)}." for b in buttons]
        heard(speech, app.visit.session.label("problems"), *options)


@pytest.mark.parametrize("lang", LANGS)
async def test_a_long_list_says_zero_for_more(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await answer_until(pilot, "address_registration", "region", wait=False)
        app.lang = lang
        await pilot.pause()
        await pilot.click("#listen")
        buttons = list(app.screen.query(ChoiceButton))
        assert len(buttons) > 9
        first = [f"{n}: {b.choice.label(lang)}." for n, b in enumerate(buttons[:9], start=1)]
        more = f"0: {tr(lang, MORE_OPTIONS)}."
        assert tr(lang, MORE_OPTIONS) != MORE_OPTIONS or lang == "en"  # translated
        heard(speech, *first, more)
        assert buttons[9].choice.label(lang) not in last(speech)  # the tenth has no key yet
        await pilot.press("0")  # the next ones get the numbers, and are heard with them
        await pilot.pause()
        rest = [f"{n}: {b.choice.label(lang)}." for n, b in enumerate(buttons[9:], start=1)]
        heard(speech, *rest, more)


@pytest.mark.parametrize("lang", LANGS)
async def test_an_error(make_app, speech, lang) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_text(pilot)
        app.lang = lang
        await pilot.pause()
        box = app.screen.query_one("#answer-input", Input)
        box.value = ""
        await type_text(pilot, "123")
        await pilot.press("enter")
        await wait_until(pilot, lambda: str(app.screen.query_one("#q-error").render()), "error")
        shown = str(app.screen.query_one("#q-error").render()).removeprefix("⚠ ")
        assert last(speech) == shown
        assert speech.said[-1][1] == lang


async def test_review(make_app, speech) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_review(pilot)
        lang = app.lang
        lines = [f"{item.label}: {item.display}." for item in app.visit.session.review()]
        assert len(lines) > 3
        heard(
            speech,
            tr(lang, "Check your answers"),
            *lines,
            tr(lang, "Tap an answer to change it."),
            tr(lang, "By submitting you agree that your answers are sent to the public service."),
        )
        assert last(speech) in speech.private  # the answers: never cached


@pytest.mark.parametrize("lang", LANGS)
async def test_receipt(make_app, speech, lang) -> None:
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_receipt(pilot)
        code = FIXED_RECEIPT.tracking_code
        heard(
            speech,
            tr(lang, "Your application is saved."),
            tr(lang, "Tracking code") + ": " + code_prompt(code, lang),
            tr(lang, "Documents to bring:"),
            *FIXED_RECEIPT.documents,
        )
        assert code not in last(speech)  # spelled, not read as a word
        assert last(speech) in speech.private


@pytest.mark.parametrize("lang", LANGS)
async def test_status(make_app, speech, lang) -> None:
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_status(pilot)
        heard(
            speech,
            tr(lang, "Check my application"),
            tr(lang, "Type the tracking code from your receipt, or scan its QR code."),
        )
        code = tracking.sequential_code("K7M", 42)  # valid, but this kiosk never saw it
        await type_text(pilot, code)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(speech.said) > 1, "the answer")
        heard(speech, describe(None, lang))
        await pilot.press(*["backspace"] * 20)
        await type_text(pilot, "ABC")
        await pilot.press("enter")
        await pilot.pause()
        heard(speech, tr(lang, "This is not a valid tracking code. Please check it and try again."))


async def test_resume(make_app, speech) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_resume(pilot)
        lang = app.lang
        heard(
            speech,
            tr(lang, "Continue with my code"),
            tr(lang, "Type the 12-digit code you were given when you saved your answers."),
        )

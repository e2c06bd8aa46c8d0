"""Issue 14, finding 3: error messages that say what is wrong, in the citizen's language.

Each test drives a real question screen (Pilot) to the question and types what a
citizen typed: a birth date in the future, a day the month does not have, a passport
series in Cyrillic, a card number with spaces, a birth date the PINFL contradicts; and
reads the date's placeholder.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Static

from kiosk.catalog import load_sample
from screens.question import QuestionScreen
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    ready,
    send_keys,
    type_text,
    wait_until,
)

FORM = "criminal_record_certificate"

# What the message must say (a word of it in each language), and what it must not.
FUTURE = {"uz_Latn": "kelajak", "ru": "будущ"}
NO_DAY = {"uz_Latn": "28 kun", "ru": "28 дн"}
PATTERN = {"uz_Latn": "KK.OO.YYYY", "uz_Cyrl": "КК.ОО.ЙЙЙЙ", "ru": "ДД.ММ.ГГГГ"}
PINFL = {"uz_Latn": "JShShIR", "ru": "ПИНФЛ"}
AGE_RULE = {"uz_Latn": "16 yoshda", "ru": "16 лет"}


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def reach(pilot: Any, form: str, ref: str, lang: str) -> dict[str, Any]:
    await ready(pilot)
    await choose_language(pilot, lang, "keyboard")
    await choose_service(pilot, form, "keyboard")
    sample = load_sample(form)
    for _ in range(60):
        if pilot.app.visit.session.current.ref == ref:
            return sample
        await answer_step(pilot, sample, "keyboard")
    raise AssertionError(f"never reached {ref}")


async def enter(pilot: Any, text: str) -> None:
    await send_keys(pilot, "home", "ctrl+k")
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("lang", ["uz_Latn", "ru"])
async def test_future_birth_date_says_it_is_in_the_future(make_app, lang: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, FORM, "birth_date", lang)
        await enter(pilot, "01.01.2030")
        assert app.visit.session.current.ref == "birth_date"
        error = text_of(app.screen, "#q-error")
        assert FUTURE[lang] in error.lower(), error
        assert AGE_RULE[lang] not in error, error


@pytest.mark.parametrize("lang", ["uz_Latn", "ru"])
async def test_day_the_month_lacks_is_named(make_app, lang: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, FORM, "birth_date", lang)
        await enter(pilot, "31.02.1991")
        error = text_of(app.screen, "#q-error")
        assert "31.02.1991" in error and NO_DAY[lang] in error, error
        assert PATTERN[lang] not in error and "DD.MM.YYYY" not in error, error


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru"])
async def test_date_placeholder_is_in_the_citizens_language(make_app, lang: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, FORM, "birth_date", lang)
        box = app.screen.query_one("#answer-input", Input)
        assert str(box.placeholder) == PATTERN[lang]
        await enter(pilot, "1991")  # not a date: the message shows the same pattern
        assert PATTERN[lang] in text_of(app.screen, "#q-error")


@pytest.mark.parametrize("lang", ["uz_Latn", "ru"])
async def test_cyrillic_passport_series_is_accepted_and_previewed_in_latin(
    make_app, lang: str
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, FORM, "passport", lang)
        await send_keys(pilot, "home", "ctrl+k")
        await type_text(pilot, "АД4455667")
        screen = app.screen
        await wait_until(pilot, lambda: "AD 4455667" in text_of(screen, "#q-preview"), "preview")
        assert "АД" not in text_of(screen, "#q-preview")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.visit.session.current.ref != "passport", "next")
        assert app.visit.session.value("passport") == "AD4455667"


async def test_passport_message_says_latin_letters(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, FORM, "passport", "uz_Latn")
        await enter(pilot, "ЖЖ4455667")  # no Latin letter looks or sounds like Ж
        assert "lotin" in text_of(app.screen, "#q-error").lower()


async def test_card_number_with_spaces_is_accepted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await reach(pilot, "child_allowance", "card_number", "ru")
        await enter(pilot, "8600 9876-5432 1098")
        await wait_until(pilot, lambda: app.visit.session.current.ref != "card_number", "next")
        assert app.visit.session.value("card_number") == "8600987654321098"


@pytest.mark.parametrize("lang", ["uz_Latn", "ru"])
async def test_birth_date_against_the_pinfl(make_app, lang: str) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sample = await reach(pilot, FORM, "birth_date", lang)
        assert sample["pinfl"][1:7] == "140590"  # 14.05.1990, as the sample's birth date
        await enter(pilot, "15.05.1990")
        assert app.visit.session.current.ref == "birth_date"
        error = text_of(app.screen, "#q-error")
        assert PINFL[lang] in error and "14.05.1990" in error, error
        await enter(pilot, "14.05.1990")  # the consistent date goes through
        await wait_until(pilot, lambda: app.visit.session.current.ref != "birth_date", "next")
        assert isinstance(app.screen, QuestionScreen)

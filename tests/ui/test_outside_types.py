"""An outside form at the kiosk (issue 17): listed marked "(ru)" for an Uzbek reader,
and its time, date-time, range and rank questions answered on the question screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, Static

from kiosk.catalog import Catalog
from kiosk.xlsform_load import load_spec
from screens.question import QuestionScreen
from screens.review import ReviewScreen
from screens.services import ServiceButton
from screens.widgets.answers import ChoiceButton
from tests.ui.driver import choose_language, choose_service, click, ready, type_text, wait_until

FORM = Path(__file__).resolve().parent.parent / "forms" / "outside_types.md"


def error_text(screen: Any) -> str:
    return str(screen.query_one("#q-error", Static).content)


async def at(pilot: Any, ref: str) -> None:
    await wait_until(pilot, lambda: pilot.app.visit.session.current.ref == ref, ref)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, QuestionScreen), "question")


async def enter(pilot: Any, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def test_outside_form_types_on_the_question_screen(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await app.db.catalog(Catalog.put, load_spec(FORM), "portal")
        await choose_language(pilot, "uz_Latn", "keyboard")
        await wait_until(pilot, lambda: bool(app.screen.query("#svc-outside_types")), "listed")
        [button] = app.screen.query("#svc-outside_types").results(ServiceButton)
        assert str(button.label).endswith("Outside types (ru)")  # shown in Russian
        await choose_service(pilot, "outside_types", "keyboard")

        await at(pilot, "code")  # a barcode: a scanner types it
        await enter(pilot, "4780000000015")

        await at(pilot, "opens")  # time
        await enter(pilot, "25:00")
        assert app.visit.session.current.ref == "opens"
        # The kiosk's words in the reader's Uzbek, the field named in the form's Russian.
        assert "Время открытия: vaqtni SS:DD" in error_text(app.screen)
        for _ in range(5):
            await pilot.press("backspace")
        await enter(pilot, "8:30")

        await at(pilot, "visit")  # date and time
        await enter(pilot, "05.03.2024 14:00")

        await at(pilot, "rooms")  # range 1..9 step 2: number keys
        await enter(pilot, "4")
        assert app.visit.session.current.ref == "rooms"
        assert error_text(app.screen)
        await pilot.press("backspace")
        await enter(pilot, "5")

        await at(pilot, "best")  # rank: number keys give the next place
        for key in ("2", "3"):
            await pilot.press(key)
            await pilot.pause()
        buttons = list(app.screen.query(ChoiceButton))
        await click(pilot, buttons[0])  # and a click: apple last
        await wait_until(
            pilot, lambda: app.visit.session.value("best") == ["pear", "plum", "apple"], "ranked"
        )
        assert [str(b.label).split()[1] for b in app.screen.query(ChoiceButton)] == [
            "[3]",
            "[1]",
            "[2]",
        ]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), "review")

        session = app.visit.session
        assert session.value("opens") == "08:30:00"
        assert session.value("visit") == "2024-03-05T14:00:00"
        assert session.value("rooms") == 5
        payload = session.payload()
        assert str(payload["device"]).startswith("kiosk-")
        assert payload["started"] and payload["code"] == "4780000000015"


async def test_rank_by_clicks_and_taking_a_place_back(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        await app.db.catalog(Catalog.put, load_spec(FORM), "portal")
        await choose_language(pilot, "ru", "keyboard")
        await wait_until(pilot, lambda: bool(app.screen.query("#svc-outside_types")), "listed")
        [button] = app.screen.query("#svc-outside_types").results(ServiceButton)
        assert str(button.label).endswith("Outside types")  # it has Russian: no mark
        await choose_service(pilot, "outside_types", "keyboard")
        session = app.visit.session
        for ref, text in (("code", "1"), ("opens", "9:00"), ("visit", "01.12.2026 9:00")):
            await at(pilot, ref)
            await enter(pilot, text)
        await at(pilot, "rooms")
        await enter(pilot, "9")
        await at(pilot, "best")
        apple, pear, plum = list(app.screen.query(ChoiceButton))
        for choice in (plum, apple):
            await click(pilot, choice)
        await wait_until(pilot, lambda: session.value("best") == ["plum", "apple"], "two")
        await click(pilot, app.screen.query_one("#next", Button))
        await pilot.pause()
        assert session.current.ref == "best"  # not every option has a place yet: it stays
        assert "расставьте все варианты по порядку" in error_text(app.screen)
        await click(pilot, plum)  # plum's place taken back, and apple's after it
        await wait_until(pilot, lambda: session.value("best") is None, "none")
        for choice in (pear, apple, plum):
            await click(pilot, choice)
        await wait_until(pilot, lambda: session.value("best") == ["pear", "apple", "plum"], "3")
        assert "Яблоко" in str(apple.label) and "[2]" in str(apple.label)

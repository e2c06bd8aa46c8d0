"""Keys typed in one burst (a fast operator, a scanner typing a PINFL and Enter).

Every key is queued at once, with no pause for the app to settle in between: the keys
after one that changes the step (or moves the focus to the next box) must still land
in the question or box they were meant for, none lost and none in the wrong place.
"""

from __future__ import annotations

from typing import Any

from textual.keys import _character_to_key
from textual.widgets import Input

from kiosk.operators import add_operator
from kiosk.store import Store
from screens.dashboard import DashboardScreen
from screens.operator_login import OperatorLoginScreen
from screens.question import QuestionScreen
from tests.ui.driver import choose_language, choose_service, ready, send_keys

FORM = "criminal_record_certificate"

Key = str | tuple[str, str]


def text(value: str) -> list[Key]:
    """The key events of typing ``value``."""
    return [(ch if ch.isalnum() else _character_to_key(ch), ch) for ch in value]


async def burst(pilot: Any, *groups: list[Key] | str) -> None:
    """All the keys queued at once (like a terminal's input), then the app settles."""
    keys: list[Key] = []
    for group in groups:
        keys.extend([group] if isinstance(group, str) else group)
    await send_keys(pilot, *keys)
    for _ in range(5):
        await pilot.pause()


async def test_burst_across_select_one_text_and_integer(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        assert isinstance(app.screen, QuestionScreen)
        session = app.visit.session
        assert session.current.ref == "full_name"
        await burst(
            pilot,
            text("Karimov Jasur"),
            "enter",
            text("31405902620419"),  # a scanner: the PINFL and Enter in one go
            "enter",
            text("ad1234567"),
            "enter",
            text("14.05.1990"),
            "enter",
            "2",  # name changed? no (select_one: focus goes to Next)
            "enter",
            "2",  # purpose: abroad for work or study
            "enter",
            text("Koreya"),  # the text question that follows the select_one
            "enter",
            "home",  # copies has a default of 1: clear it
            "ctrl+k",
            "3",
            "enter",
        )
        assert session.current.ref == "delivery", session.current.ref
        assert session.value("full_name") == "Karimov Jasur"
        assert session.value("pinfl") == "31405902620419"
        assert session.value("passport") == "AD1234567"
        assert session.value("birth_date").isoformat() == "1990-05-14"
        assert session.value("name_changed") == "no"
        assert session.value("purpose") == "travel_abroad"
        assert session.value("country") == "Koreya"
        assert session.value("copies") == 3
        # The screen shows the step the session is at, its first option focused.
        index, total = session.progress()
        assert str(app.screen.query_one("#q-progress").content) == f"{index} / {total}"
        assert app.focused is not None and app.focused.has_class("choice")


async def test_burst_right_after_a_choice_lands_in_the_next_question(make_app) -> None:
    """The tmux report: "2" Enter at a choice, then text and Enter straight away."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        session = app.visit.session
        session.set("full_name", "Karimov Jasur")
        session.set("pinfl", "31405902620419")
        session.set("passport", "AD1234567")
        session.set("birth_date", "14.05.1990")
        session.jump("name_changed")
        await app.screen.render_step()
        await pilot.pause()
        await burst(pilot, "2", "enter", "3", "enter", text("Germaniya"), "enter", "2")
        assert session.value("name_changed") == "no"
        assert session.value("purpose") == "visa"
        assert session.value("country") == "Germaniya"
        assert session.current.ref == "copies"
        box = app.screen.query_one("#answer-input", Input)
        # The 2 typed after Enter: the form's default 1 was selected, so it is replaced
        # (a default never needs rubbing out, issue 14).
        assert box.value == "2"
        assert app.focused is box


async def test_operator_creation_typed_in_one_burst(make_app) -> None:
    app = make_app(mode="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = app.screen
        assert isinstance(screen, OperatorLoginScreen) and screen.creating
        await burst(
            pilot, text("Dilnoza"), "enter", text("246813"), "enter", text("246813"), "enter"
        )
        assert isinstance(app.screen, DashboardScreen), [
            (box.id, box.value) for box in screen.query(Input)
        ]
        assert app.operator_name == "Dilnoza"


async def test_operator_login_typed_in_one_burst(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Dilnoza", "246813")
    app = make_app(mode="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = app.screen
        assert isinstance(screen, OperatorLoginScreen) and not screen.creating
        await burst(pilot, text("Dilnoza"), "enter", text("246813"))
        # Nothing of the PIN in the name box: each box has what was typed for it.
        assert screen.query_one("#op-name", Input).value == "Dilnoza"
        assert screen.query_one("#op-pin", Input).value == "246813"
        assert app.focused is screen.query_one("#op-pin", Input)
        await burst(pilot, "enter")
        assert isinstance(app.screen, DashboardScreen)
        assert app.operator_name == "Dilnoza"

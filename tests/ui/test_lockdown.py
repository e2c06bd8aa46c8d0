"""Lockdown: citizen mode never leads out of the app without an existing operator's PIN."""

from __future__ import annotations

from textual.widgets import Input

from kiosk.i18n import tr
from kiosk.operators import MAX_FAILURES, add_operator, list_operators
from kiosk.store import Store
from screens.operator_login import OperatorLoginScreen
from screens.start import StartScreen
from tests.ui.driver import ready

PIN = "482916"


def test_citizen_mode_refuses_to_start_without_an_operator(run_kiosk, data_dir) -> None:
    result = run_kiosk("run", "--mode", "citizen", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "kiosk operator add NAME" in result.stderr
    assert "there is none yet" in result.stderr
    with Store.open(data_dir) as store:
        assert list_operators(store) == []  # nothing was created on the way


def test_refusal_is_translated(run_kiosk) -> None:
    result = run_kiosk("run", env={"KIOSK_LANG": "ru"}, timeout=60)
    assert result.returncode == 2
    assert "kiosk operator add NAME" in result.stderr
    assert "there is none yet" not in result.stderr


async def test_no_first_operator_creation_in_citizen_mode(make_app, data_dir) -> None:
    """Even if citizen mode is started without an operator, ctrl+q offers no way out."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OperatorLoginScreen) and not screen.creating
        assert not screen.query_one("#op-pin2", Input).display
        assert "kiosk operator add NAME" in str(screen.query_one("#login-message").content)
        await pilot.press(*"Aziz", "enter", *PIN, "enter")
        await pilot.pause()
        assert app.is_running
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
    with Store.open(data_dir) as store:
        assert list_operators(store) == []


async def test_quit_keys_need_the_pin(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Dilnoza", PIN)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        left = MAX_FAILURES - 1
        for key in ("ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash", "ctrl+p"):
            await pilot.press(key)
            await pilot.pause()
            assert app.is_running, key
            if key in ("ctrl+q", "ctrl+c"):
                screen = app.screen
                assert isinstance(screen, OperatorLoginScreen) and screen.purpose == "exit"
                assert not screen.creating
                await pilot.press(*"Dilnoza", "enter", *"000000", "enter")
                await pilot.pause()
                assert app.is_running  # wrong PIN: still in the app
                said = str(screen.query_one("#login-message").content)
                assert said == tr(app.lang, "Wrong PIN. Attempts left: {n}.", n=left)
                left -= 1
                await pilot.press("escape")
                await pilot.pause()
            assert isinstance(app.screen, StartScreen), key


def test_demo_creates_an_operator_and_prints_its_pin(data_dir, capsys) -> None:
    from kiosk.operators import login
    from screens.commands import DEMO_OPERATOR, _demo_operator

    _demo_operator(data_dir, "en")
    printed = capsys.readouterr().out
    pin = printed.split("PIN ")[1][:6]
    assert pin.isdigit() and len(pin) == 6
    with Store.open(data_dir) as store:
        assert login(store, DEMO_OPERATOR, pin).ok
    _demo_operator(data_dir, "en")  # an operator exists: no second one, nothing printed
    assert capsys.readouterr().out == ""
    with Store.open(data_dir) as store:
        assert [o["name"] for o in list_operators(store)] == [DEMO_OPERATOR]


async def test_short_old_pin_must_be_changed_at_login(make_app, data_dir) -> None:
    """A 4-digit PIN from before: it logs in once more, and a new one is set at once."""
    from kiosk import operators
    from screens.dashboard import DashboardScreen

    with Store.open(data_dir) as store, store.transaction() as db:
        old = operators.hash_pin("1357", operators.ScryptCost(2**14, 8, 1))
        db.execute(
            "INSERT INTO operators (name, pin_hash, created_at) VALUES ('Aziz', ?, 'x')", [old]
        )
    app = make_app(mode="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(*"Aziz", "enter", *"1357", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, OperatorLoginScreen) and screen.pending is not None
        assert screen.query_one("#op-pin2", Input).display
        await pilot.press(*"2468", "enter", *"2468", "enter")  # still too short
        await pilot.pause()
        assert isinstance(app.screen, OperatorLoginScreen)
        said = str(screen.query_one("#login-message").content)
        assert said == tr(app.lang, "The PIN must have {min} to {max} digits.", min=6, max=12)
        for box in ("#op-pin", "#op-pin2"):
            screen.query_one(box, Input).value = ""
        screen.set_focus(screen.query_one("#op-pin", Input))
        await pilot.press(*"246813", "enter", *"246813", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
    with Store.open(data_dir) as store:
        assert operators.login(store, "Aziz", "246813").ok
        assert not operators.login(store, "Aziz", "1357").ok

"""Operator mode: first-run creation, PIN login, lock-out, dashboard, consent on submit."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from kiosk.catalog import load_sample
from kiosk.operators import MAX_FAILURES, add_operator
from kiosk.store import Store
from screens.dashboard import DashboardScreen, Tile
from screens.operator_login import OperatorLoginScreen
from screens.receipt import ReceiptScreen
from screens.review import ConsentScreen, ReviewScreen
from tests.ui.driver import choose_language, choose_service, click, fill_form, ready, type_text

FORM = "criminal_record_certificate"


def tile(screen: DashboardScreen, tile_id: str) -> str:
    return str(screen.query_one(f"#{tile_id}", Tile).query_one(".tile-value").content)


async def login(pilot, name: str, pin: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#op-name", Input).value = ""
    await click(pilot, screen.query_one("#op-name", Input))
    await type_text(pilot, name)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()


async def test_first_run_creates_an_operator(make_app, data_dir) -> None:
    app = make_app(mode="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = app.screen
        assert isinstance(screen, OperatorLoginScreen) and screen.creating
        await click(pilot, screen.query_one("#op-name", Input))
        await type_text(pilot, "Dilnoza")
        await pilot.press("enter")
        await type_text(pilot, "246813")
        await pilot.press("enter")
        await type_text(pilot, "246914")  # not the same PIN
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OperatorLoginScreen)
        assert "PIN" in str(screen.query_one("#login-message").content)
        screen.query_one("#op-pin2", Input).value = ""
        await click(pilot, screen.query_one("#op-pin2", Input))
        await type_text(pilot, "246813")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert app.operator_name == "Dilnoza"
    with Store.open(data_dir) as store:
        from kiosk.operators import list_operators

        assert [o["name"] for o in list_operators(store)] == ["Dilnoza"]


async def test_lock_out_after_repeated_wrong_pins(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for attempt in range(MAX_FAILURES):
            await login(pilot, "Aziz", "000000")
            assert isinstance(app.screen, OperatorLoginScreen), attempt
        message = str(app.screen.query_one("#login-message").content)
        assert "Too many wrong PINs" in message
        # Even the right PIN is refused while locked.
        await login(pilot, "Aziz", "135792")
        assert isinstance(app.screen, OperatorLoginScreen)
        assert "Too many wrong PINs" in str(app.screen.query_one("#login-message").content)


async def test_wrong_pin_says_how_many_attempts_are_left(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "999999")
        assert f"Attempts left: {MAX_FAILURES - 1}" in str(
            app.screen.query_one("#login-message").content
        )
        await login(pilot, "Aziz", "135792")
        assert isinstance(app.screen, DashboardScreen)


async def test_assisted_submission_records_operator_and_consent(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        operator_id = add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "135792")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert tile(dashboard, "t-queued") == "0"
        await pilot.press("1")  # new application
        await pilot.pause()
        await choose_language(pilot, "uz_Cyrl", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, load_sample(FORM), "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("enter")  # Submit
        await pilot.pause()
        assert isinstance(app.screen, ConsentScreen)
        await pilot.press("2")  # the citizen does not agree: nothing is sent
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        with Store.open(data_dir) as store:
            assert store.queue() == []
        await click(pilot, app.screen.query_one("#submit"))
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ReceiptScreen)
        await pilot.press("escape")  # Done: back to the dashboard
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert tile(app.screen, "t-queued") == "1"
    with Store.open(data_dir) as store:
        [row] = store.queue()
    assert row["operator_id"] == operator_id and row["consent"] == 1


async def test_dashboard_lists_rejected_submissions(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        sub = store.submit(None, {"x": 1}, "ru", form_id=FORM, form_version="1")
        store.db.execute(
            "UPDATE outbox SET state = 'rejected', outcome = 'rejected', reason = ? WHERE id = ?",
            ["PINFL does not match the passport", sub.id],
        )
        store.db.conn.commit()
    app = make_app(mode="operator", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "135792")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert tile(dashboard, "t-rejected") == "1"
        table = dashboard.query_one("#rejected", DataTable)
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[0] == sub.tracking_code
        assert "PINFL does not match the passport" in cells[3]


async def test_sync_now_without_enrolment_says_why(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", lang="en")
    notes: list[str] = []
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "135792")
        await pilot.press("2")  # Sync now
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.sync_state == "error"
        notes = [str(n.message) for n in app._notifications]
        assert "Sync failed" in str(app.screen.query_one("#sb-sync").content)
    assert any("not enrolled" in note for note in notes)

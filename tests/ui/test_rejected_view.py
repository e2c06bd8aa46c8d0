"""Issue 14, finding 5: operators can read rejected items and act on them.

The dashboard's table shows whole cells, the status bar never says "All sent" while a
rejected item waits, and the rejected-items view (operator only) says each reason in
the operator's language from its reason code, shows the details, and offers two audited
actions: discard with a reason, and fix and resubmit (option (a): the operator enters
the answers again in a new visit of the same form; the new submission names the old
tracking code in its ``resubmits`` column and audit entry).
"""

from __future__ import annotations

import json

from textual.widgets import DataTable, Input

from kiosk import outbox
from kiosk.catalog import load_sample
from kiosk.operators import add_operator
from kiosk.store import Store
from screens.dashboard import DashboardScreen
from screens.question import QuestionScreen
from screens.receipt import ReceiptScreen
from screens.review import ConsentScreen, ReviewScreen
from screens.widgets.statusbar import StatusBar
from tests.ui.driver import click, fill_form, ready, wait_until
from tests.ui.test_operator import login

FORM = "criminal_record_certificate"


def drawn_row(table: DataTable, y: int = 1) -> str:
    """The text the table draws on its line ``y`` (0: the headings), cut as on screen."""
    return "".join(segment.text for segment in table.render_line(y))


def reject(data_dir, code: str = "item.unknown_form") -> str:
    """A submission the portal refused with a reason code: its tracking code."""
    with Store.open(data_dir) as store:
        form = __import__("kiosk.catalog", fromlist=["Catalog"]).Catalog(store)
        form.ensure_bundled()
        sub = store.submit(None, load_sample(FORM), "uz_Latn", form_id=FORM, form_version="1")
        [batch] = list(outbox.iter_batches(store.db, None, 10, 10**6))
        result = {
            "id": sub.id,
            "outcome": "rejected",
            "code": code,
            "params": {"form_id": FORM, "form_version": "1"},
            "reason": "The portal does not know form x version 1.",
        }
        outbox.apply_results(store, batch, [result], 0, lambda n: 1.0, lang="en")
        return sub.tracking_code


async def to_dashboard(app, pilot) -> DashboardScreen:
    await ready(pilot)
    await login(pilot, "Aziz", "135792")
    await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
    return app.screen


async def test_dashboard_cells_are_whole_and_status_bar_does_not_say_all_sent(
    make_app, data_dir
) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    code = reject(data_dir)
    app = make_app(mode="operator", lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        dashboard = await to_dashboard(app, pilot)
        table = dashboard.query_one("#rejected", DataTable)
        widths = {
            str(key.value): column.get_render_width(table) for key, column in table.columns.items()
        }
        assert widths["code"] >= len(code) + 2
        reason = str(table.get_row_at(0)[3])
        assert reason.startswith("The portal does not know form")
        assert widths["reason"] >= len(reason)
        assert code in drawn_row(table)  # as drawn, not only as measured
        bar = str(app.screen.query_one(StatusBar).query_one("#sb-sync").content)
        assert "All sent" not in bar
        assert "1 rejected" in bar


async def test_the_view_says_the_reason_in_the_operators_language_and_discards(
    make_app, data_dir
) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    code = reject(data_dir)
    app = make_app(mode="operator", lang="ru")
    async with app.run_test(size=(120, 40)) as pilot:
        await to_dashboard(app, pilot)
        await pilot.press("5")  # rejected items
        await wait_until(pilot, lambda: type(app.screen).__name__ == "RejectedScreen", "the view")
        screen = app.screen
        await wait_until(pilot, lambda: bool(screen.items), "the rejected items")
        details = str(screen.query_one("#rj-details").content)
        assert code in details
        row = drawn_row(screen.query_one("#rj-table", DataTable))
        assert code in row and "Справка о несудимости" in row
        assert "Портал не знает форму" in details  # from the code, in Russian
        assert "The portal" not in details
        await click(pilot, screen.query_one("#rj-discard"))
        await wait_until(pilot, lambda: type(app.screen).__name__ == "DiscardScreen", "ask why")
        app.screen.query_one("#discard-note", Input).value = "Гражданин подал заново"
        await click(pilot, app.screen.query_one("#discard-ok"))
        await wait_until(pilot, lambda: app.screen is screen and not screen.items, "discarded")
        bar = str(app.screen.query_one(StatusBar).query_one("#sb-sync").content)
        assert "1" not in bar
    with Store.open(data_dir) as store:
        row = store.db.execute(
            "SELECT settled, settled_note, payload FROM outbox WHERE tracking_code = ?", [code]
        ).fetchone()
        assert row == ("discarded", "Гражданин подал заново", "")
        entry = store.db.execute(
            "SELECT actor, subject, details FROM audit WHERE action = 'rejected_discarded'"
        ).fetchone()
    assert entry[0].startswith("operator:") and entry[1] == code
    assert json.loads(entry[2])["note"] == "Гражданин подал заново"


async def test_fix_and_resubmit_links_the_new_submission_to_the_old(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    old = reject(data_dir)
    app = make_app(mode="operator", lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        await to_dashboard(app, pilot)
        await pilot.press("5")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "RejectedScreen", "the view")
        screen = app.screen
        await wait_until(pilot, lambda: bool(screen.items), "the rejected items")
        await click(pilot, screen.query_one("#rj-resubmit"))
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the form again")
        banner = str(app.screen.query_one("#q-resubmit").content)
        assert old in banner and "The portal does not know form" in banner
        await fill_form(pilot, load_sample(FORM), "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), "consent")
        await pilot.press("1")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
    with Store.open(data_dir) as store:
        rows = {r["tracking_code"]: r for r in store.queue()}
        [new] = [r for r in rows.values() if r["tracking_code"] != old]
        assert new["resubmits"] == old and new["state"] == "queued"
        assert (
            rows[old]["settled"] == "resubmitted"
            and rows[old]["settled_note"] == new["tracking_code"]
        )
        details = store.db.execute(
            "SELECT details FROM audit WHERE action = 'submit' AND subject = ?",
            [new["tracking_code"]],
        ).fetchone()[0]
    assert json.loads(details)["resubmits"] == old


async def test_citizen_mode_has_no_rejected_view(make_app, data_dir) -> None:
    """Operator only: the screen refuses to open without a logged-in operator."""
    reject(data_dir)
    app = make_app(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        start = app.screen
        bar = str(start.query_one(StatusBar).query_one("#sb-sync").content)
        assert "All sent" not in bar and "rejected" not in bar  # neither claim nor worry
        await app.push_screen(app.new_screen("rejected"))
        await wait_until(pilot, lambda: app.screen is start, "refused")

"""The app against the real reference portal on 127.0.0.1: probe, background sync,
"Sync now" on the dashboard, statuses shown on the status screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.catalog import Catalog, load_sample
from kiosk.engine_json import validate_answers
from kiosk.operators import add_operator
from kiosk.store import Store, Submission
from mahalla.cli import main as kiosk_main
from screens.dashboard import DashboardScreen, Tile
from screens.start import tool_keys
from screens.status import StatusScreen
from screens.widgets.statusbar import StatusBar
from sync.portal.process import create_enrolment_code, start_portal
from tests.ui.driver import ready, type_text, wait_until

FORM = "criminal_record_certificate"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    process = start_portal(tmp_path_factory.mktemp("portal"))
    yield process
    process.stop()


def submit_sample(store: Store, lang: str) -> Submission:
    """A valid submission of the bundled form, as the UI would queue it."""
    catalog = Catalog(store)
    catalog.ensure_bundled()
    form = catalog.get(FORM)
    payload, errors = validate_answers(form, load_sample(FORM), lang)
    assert errors == []
    return store.submit(form, payload, lang)


def enrol(data_dir: Path, portal) -> None:
    code = create_enrolment_code(portal.data_dir)
    assert (
        kiosk_main(["enroll", "--portal", portal.url, "--code", code, "--data-dir", str(data_dir)])
        == 0
    )


def tile(screen: DashboardScreen, tile_id: str) -> str:
    return str(screen.query_one(f"#{tile_id}", Tile).query_one(".tile-value").content)


async def settle(pilot) -> None:
    """Let probe/sync workers finish and their messages land."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_background_sync_sends_the_queue_when_online(make_app, data_dir, portal) -> None:
    enrol(data_dir, portal)
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        sub = submit_sample(store, "uz_Latn")
    app = make_app(mode="operator", probe_interval=60.0, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await settle(pilot)  # the first probe finds the portal and drains the queue
        assert app.online is True
        assert app.sync_state == "idle", app.last_sync_error
        assert app.queued == 0
        bar = app.screen.query_one(StatusBar)
        assert "Online" in str(bar.query_one("#sb-net").content)
        await type_text(pilot, "Aziz")
        await pilot.press("enter")
        await type_text(pilot, "135792")
        await pilot.press("enter")
        await settle(pilot)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert tile(dashboard, "t-sent") == "1"
        assert tile(dashboard, "t-queued") == "0"
        assert "ago" in tile(dashboard, "t-last")
        # A second submission, then the operator's "Sync now".
        with Store.open(data_dir) as store:
            second = submit_sample(store, "ru")
        await dashboard.reload()
        assert tile(dashboard, "t-queued") == "1"
        await pilot.press("2")
        await settle(pilot)
        await dashboard.reload()
        assert tile(dashboard, "t-queued") == "0"
        assert tile(dashboard, "t-sent") == "2"
    with Store.open(data_dir) as store:
        states = {r["tracking_code"]: r["state"] for r in store.queue()}
    assert states == {sub.tracking_code: "sent", second.tracking_code: "sent"}


async def test_unreachable_portal_shows_offline(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        store.set_setting("portal_url", "http://127.0.0.1:9")  # nothing listens there
        store.set_setting("portal_token", "t")
    app = make_app(probe_interval=60.0, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await settle(pilot)
        assert app.online is False
        assert "Offline" in str(app.screen.query_one(StatusBar).query_one("#sb-net").content)


async def test_status_screen_shows_a_queued_application(make_app, data_dir, speech) -> None:
    with Store.open(data_dir) as store:
        sub = store.submit(None, {"x": 1}, "ru", form_id=FORM, form_version="1")
    app = make_app(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press(tool_keys()[0])
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        await type_text(pilot, sub.tracking_code.lower())
        await pilot.press("enter")
        shown = app.screen.query_one("#status-result")
        # The look-up runs on a worker thread now (live when online): wait for it.
        await wait_until(pilot, lambda: bool(str(shown.content)), "the answer")
        result = str(shown.content)
        assert "Saved on this kiosk" in result
        said = speech.texts()[-1]  # the lines as sentences, the code spelled
        assert result.splitlines()[-1] in said and said in speech.private
        await type_text(pilot, "X")  # no longer a valid code
        await pilot.press("enter")
        await pilot.pause()
        assert "not a valid tracking code" in str(app.screen.query_one("#status-result").content)

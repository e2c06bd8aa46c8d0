"""Issue 14, finding 6: statuses are fresh. Against a real portal process: a status set
at the portal reaches the kiosk by the background pull (every ``status_interval``
seconds while online, on the app's clock: the test moves a fake clock and calls the
scheduler), a citizen checking a code online gets the portal's live answer, and offline
the local copy with how old it is, in the citizen's language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.settings import STATUS_PULLED_AT
from kiosk.store import Store
from mahalla.cli import main as kiosk_main
from screens.start import tool_keys
from screens.status import StatusScreen
from sync.portal.process import start_portal
from sync.portal.store import PortalStore
from tests.ui.conftest import FIXED_NOW
from tests.ui.driver import ready, type_text, wait_until
from tests.ui.test_sync import enrol, submit_sample


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    process = start_portal(tmp_path_factory.mktemp("portal"))
    yield process
    process.stop()


def set_status(portal, code: str, status: str) -> None:
    store = PortalStore(portal.data_dir)
    try:
        store.set_status(code, status)
    finally:
        store.close()


def local_status(data_dir, code: str) -> str | None:
    with Store.open(data_dir) as store:
        info = store.status(code)
    return info["portal_status"] if info else None


def delivered(data_dir, portal) -> str:
    enrol(data_dir, portal)
    with Store.open(data_dir) as store:
        sub = submit_sample(store, "uz_Latn")
    assert kiosk_main(["sync", "--data-dir", str(data_dir)]) == 0
    assert local_status(data_dir, sub.tracking_code) == "received"
    return sub.tracking_code


async def test_a_status_set_at_the_portal_arrives_by_the_background_pull(
    make_app, data_dir, portal, clock
) -> None:
    code = delivered(data_dir, portal)
    set_status(portal, code, "approved")
    app = make_app(lang="en", status_interval=180.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.online = True  # as the probe found it
        assert not app.status_tick()  # not due yet
        clock.advance(179)
        assert not app.status_tick()
        clock.advance(1)
        assert app.status_tick()
        await wait_until(pilot, lambda: local_status(data_dir, code) == "approved", "pulled")
        await wait_until(pilot, lambda: not app._status_pulling, "the pull finished")
        assert not app.status_tick()  # the interval starts again
        app.online = False
        clock.advance(600)
        assert not app.status_tick()  # offline: nothing to pull


async def check(pilot, code: str) -> str:
    app = pilot.app
    await pilot.press(tool_keys()[0])
    await wait_until(pilot, lambda: isinstance(app.screen, StatusScreen), "the status screen")
    await type_text(pilot, code)
    await pilot.press("enter")
    result = app.screen.query_one("#status-result")
    await wait_until(pilot, lambda: code in str(result.content).replace("-", ""), "an answer")
    return str(result.content)


async def test_online_a_code_is_looked_up_live(make_app, data_dir, portal) -> None:
    code = delivered(data_dir, portal)
    set_status(portal, code, "completed")  # not pulled: only the live look-up knows
    app = make_app(lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.online = True
        shown = await check(pilot, code)
    assert "Completed" in shown and "Checked with the portal just now" in shown
    assert local_status(data_dir, code) == "received"  # shown, not stored


async def test_offline_the_local_copy_says_how_old_it_is(make_app, data_dir, portal) -> None:
    code = delivered(data_dir, portal)
    with Store.open(data_dir) as store:
        store.set_setting(STATUS_PULLED_AT, (FIXED_NOW - timedelta(hours=2)).isoformat())
    app = make_app(lang="ru")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.online = False
        shown = await check(pilot, code)
    assert "2 часа назад" in shown
    assert "ago" not in shown and "Saved on this kiosk" not in shown

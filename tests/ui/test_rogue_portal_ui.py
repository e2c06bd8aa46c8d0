"""Issue 14, finding 4, on screen: an operator syncs against a rogue portal process that
refuses everything with an English sentinel and unknown reason codes
(tests/integration/rogue_portal.py), in uz_Latn, uz_Cyrl and ru; neither the sentinel
nor an exception's name may appear on any screen, toast or the status bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.operators import add_operator
from kiosk.store import Store
from screens.dashboard import DashboardScreen
from sync.portal.process import start_portal
from tests.integration import rogue_portal
from tests.integration.synckit import moved
from tests.ui.driver import ready, type_text, wait_until
from tests.ui.test_sync import enrol, settle, submit_sample

FORBIDDEN = ["sentinel", "english detail", "connecterror", "traceback"]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    process = start_portal(tmp_path_factory.mktemp("portal"))
    yield process
    process.stop()


@pytest.fixture(params=["whole", "items"])
def rogue(request: pytest.FixtureRequest) -> Iterator[str]:
    proc, url = rogue_portal.start(request.param)
    try:
        yield url
    finally:
        rogue_portal.stop(proc)


def seen(app) -> str:
    """What the operator can read: the screen as drawn (toasts included), and the error
    the status bar and dashboard are made from."""
    return f"{app.export_screenshot()}\n{app.last_sync_error or ''}".lower()


async def sync_as_operator(make_app, data_dir: Path, lang: str) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        for _ in range(5):
            submit_sample(store, "uz_Latn")
    app = make_app(mode="operator", probe_interval=60.0, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await settle(pilot)  # the first probe finds the "portal" and syncs
        await type_text(pilot, "Aziz")
        await pilot.press("enter")
        await type_text(pilot, "135792")
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "dashboard")
        for word in FORBIDDEN:
            assert word not in seen(app), (word, seen(app))
        await pilot.press("2")  # Sync now
        await settle(pilot)
        await wait_until(pilot, lambda: app.sync_state != "syncing", "the sync")
        await app.screen.reload()
        await pilot.pause()
        text = seen(app)
        for word in FORBIDDEN:
            assert word not in text, (word, text)


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru"])
async def test_rogue_portal_refusals_never_reach_the_screen(
    make_app, data_dir: Path, portal, rogue: str, lang: str
) -> None:
    enrol(data_dir, portal)
    moved(data_dir, rogue)
    await sync_as_operator(make_app, data_dir, lang)


@pytest.mark.parametrize("lang", ["uz_Latn", "ru"])
async def test_unreachable_portal_is_not_named_on_screen(
    make_app, data_dir: Path, portal, lang: str
) -> None:
    enrol(data_dir, portal)
    moved(data_dir, "http://127.0.0.1:9")  # nothing listens there
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        submit_sample(store, "uz_Latn")
    app = make_app(mode="operator", probe_interval=60.0, lang=lang)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await type_text(pilot, "Aziz")
        await pilot.press("enter")
        await type_text(pilot, "135792")
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), "dashboard")
        await pilot.press("2")  # Sync now, though offline
        await settle(pilot)
        await wait_until(pilot, lambda: app.sync_state != "syncing", "the sync")
        assert app.last_sync_error  # something was said
        for word in FORBIDDEN:
            assert word not in seen(app), (word, seen(app))

"""The operator's dashboard says which district the kiosk serves, and flags the demo."""

from __future__ import annotations

from textual.widgets import Static

from kiosk.district import set_district
from kiosk.operators import add_operator
from kiosk.store import Store
from screens.dashboard import DashboardScreen
from tests.ui.driver import ready, wait_until
from tests.ui.test_operator import login


def district_line(app) -> Static:
    screen = app.screen
    assert isinstance(screen, DashboardScreen)
    return screen.query_one("#district-line", Static)


async def test_the_dashboard_names_the_district_in_the_ui_language(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        set_district(store, "chilanzar")
    app = make_app(mode="operator", lang="uz_Cyrl")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "135792")
        line = district_line(app)
        await wait_until(pilot, lambda: str(line.content) == "Туман: Чилонзор тумани")
        assert not line.has_class("-unset")
        app.lang = "ru"
        await wait_until(pilot, lambda: str(line.content) == "Район: Чиланзарский район")


async def test_the_dashboard_flags_a_district_not_set(make_app, data_dir) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", lang="uz_Cyrl")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await login(pilot, "Aziz", "135792")
        line = district_line(app)
        await wait_until(pilot, lambda: str(line.content) == "Туман: белгиланмаган (демо)")
        assert line.has_class("-unset")
        # Set from the shell while the dashboard is up: the next reading shows it.
        with Store.open(data_dir) as store:
            set_district(store, "yunusabad")
        await app.screen.reload()
        await wait_until(pilot, lambda: str(line.content) == "Туман: Юнусобод тумани")
        assert not line.has_class("-unset")

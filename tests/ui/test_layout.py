"""Layouts that hold from 60x20 to 200x60: every action can be seen and clicked.

For each screen type (tests/ui/places.py) at each size, every button and text box of
the screen (the language bar's too) is scrolled into view as a person would scroll,
must then lie wholly inside the terminal and inside what its scrolling container
shows, must show its whole label (no word cut off or folded), and a real mouse
click at its middle (``pilot.click``) must press that very button. The presses are
recorded instead of acted on, so one visit checks every button of a screen.

Also: the form's title and the step counter never share a cell, and the receipt
shows its tracking code in plain text once.
"""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual.css.query import NoMatches
from textual.errors import NoWidget
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Static

from kiosk import languages
from screens.widgets.bigcode import BigCode
from tests.ui.places import MORE_PLACES, PLACES, add_operators

ALL_PLACES = {**PLACES, **MORE_PLACES}

SIZES = [(60, 20), (80, 24), (120, 40), (200, 60)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


@pytest.fixture(autouse=True)
def _fixed_resume_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import drafts

    monkeypatch.setattr(drafts, "new_secret", lambda: "1234567890")


def shown(widget: Widget) -> bool:
    """Displayed, and so is every container it is in."""
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))


def drawn_text(widget: Widget) -> str:
    """What the widget draws, its lines joined by spaces (borders included)."""
    width, height = widget.outer_size
    lines = widget.render_lines(Region(0, 0, width, height))
    return " ".join(line.text for line in lines)


def label_words(button: Button) -> list[str]:
    return str(button.label).split()


def problems_of(screen: Any, widget: Widget) -> list[str]:
    """Why a person could not see or hit ``widget`` where it is now (empty: fine)."""
    try:
        geometry = screen.find_widget(widget)
    except NoWidget:
        return ["not on screen at all"]
    region, clip = geometry.region, geometry.clip
    found = []
    if region.width < 1 or region.height < 1:
        found.append(f"no room: {region}")
    if not screen.region.contains_region(region):
        found.append(f"{region} is not inside the terminal {screen.region}")
    if not clip.contains_region(region):
        found.append(f"{region} is cut by its container (shows {clip})")
    if isinstance(widget, Button):
        text = drawn_text(widget)
        missing = [word for word in label_words(widget) if word not in text]
        if missing:
            found.append(f"label cut: {missing} not in {text!r}")
    return found


async def check_actions(pilot: Pilot[Any]) -> None:
    """Every shown button and text box of the screen: in view once scrolled to, clicked."""
    app = pilot.app
    screen = app.screen
    pressed: list[Button] = []
    actions = [w for w in screen.query("Button, Input") if shown(w)]
    assert actions, "no action on the screen"
    for widget in actions:
        if isinstance(widget, Button):
            widget.press = lambda w=widget: pressed.append(w) or w  # type: ignore[method-assign]
    failures = []
    for widget in actions:
        widget.scroll_visible(animate=False, immediate=True)
        await pilot.pause()
        found = problems_of(screen, widget)
        for _ in range(100):  # a loaded machine may take more than one refresh to scroll
            if not found:
                break
            await pilot.pause(0.01)
            found = problems_of(screen, widget)
        if found:
            failures.append(f"{widget!r}: " + "; ".join(found))
            continue
        width, height = widget.region.size
        pressed.clear()
        hit = await pilot.click(widget, offset=(width // 2, height // 2))
        if isinstance(widget, Button):
            if not hit or pressed != [widget]:
                failures.append(f"{widget!r}: a click at its middle pressed {pressed}")
        elif not hit or app.focused is not widget:
            failures.append(f"{widget!r}: a click did not reach the box")
        assert app.screen is screen, f"{widget!r}: the click left the screen"
    assert not failures, "\n".join(failures)


async def open_place(make_app: Any, data_dir: Any, name: str) -> tuple[Any, Any]:
    place = ALL_PLACES[name]
    if place.mode == "operator":
        add_operators(data_dir)
    return place, make_app(mode=place.mode)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("name", list(ALL_PLACES))
async def test_every_action_is_in_view_and_clickable(make_app, data_dir, name, size) -> None:
    place, app = await open_place(make_app, data_dir, name)
    async with app.run_test(size=size) as pilot:
        await place.go(pilot)
        await check_actions(pilot)


@pytest.mark.parametrize("lang", ["ru", "kaa", "uz_Cyrl"])
@pytest.mark.parametrize("name", ["start", "text", "multiple", "review", "dashboard"])
async def test_actions_hold_in_every_language_at_60x20(make_app, data_dir, name, lang) -> None:
    """The longest labels (Russian, Karakalpak) at the smallest size."""
    if lang not in languages.citizen_codes():
        pytest.skip(f"{lang} is not offered")
    place, app = await open_place(make_app, data_dir, name)
    async with app.run_test(size=(60, 20)) as pilot:
        await place.go(pilot)
        app.lang = lang
        await pilot.pause()
        await check_actions(pilot)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("name", ["text", "multiple", "review"])
async def test_title_and_step_counter_do_not_touch(make_app, data_dir, name, size) -> None:
    """The form's title ends (or is shortened) at least a cell before the counter."""
    place, app = await open_place(make_app, data_dir, name)
    async with app.run_test(size=size) as pilot:
        await place.go(pilot)
        screen = app.screen
        for lang in ("uz_Latn", "ru"):
            app.lang = lang
            await pilot.pause()
            try:
                title, counter = screen.query_one("#q-form"), screen.query_one("#q-progress")
            except NoMatches:
                title, counter = screen.query_one("#review-title"), screen.query_one("#review-form")
            left, right = sorted((title, counter), key=lambda w: w.region.x)
            assert not left.region.overlaps(right.region), (left.region, right.region)
            # What the left one draws ends before the right one's text begins.
            left_text = drawn_text(left).rstrip()
            right_text = drawn_text(right)
            right_starts = right.region.x + (len(right_text) - len(right_text.lstrip()))
            assert left.region.x + cell_len(left_text) < right_starts, (left_text, right_text)
            assert left.region.height == right.region.height == 1


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_receipt_shows_the_code_once(make_app, data_dir, size) -> None:
    """Large where it fits, and in plain text exactly once at every width."""
    place, app = await open_place(make_app, data_dir, "receipt")
    async with app.run_test(size=size) as pilot:
        await place.go(pilot)
        screen = app.screen
        spaced = " ".join("K7M-4QXP-R")
        texts = [drawn_text(w) for w in screen.query(Static) if shown(w)]
        texts += [drawn_text(w) for w in screen.query(BigCode) if shown(w)]
        assert sum(text.count(spaced) for text in texts) == 1, texts
        # The code's symbols are on screen, not scrolled away.
        big = screen.query_one(BigCode)
        assert not problems_of(screen, big), problems_of(screen, big)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_dashboard_tiles_show_whole_captions(make_app, data_dir, size) -> None:
    """Every tile's caption and figure, in every language, whole and inside its tile
    (they were cut to a row: "Yuborilishini", "Самое старое")."""
    from screens.dashboard import Tile

    place, app = await open_place(make_app, data_dir, "dashboard")
    async with app.run_test(size=size) as pilot:
        await place.go(pilot)
        screen = app.screen
        for lang in languages.codes():
            app.lang = lang
            await pilot.pause()
            for tile in screen.query(Tile):
                assert not problems_of(screen, tile), (lang, tile.id, problems_of(screen, tile))
                for part in tile.query(Static):
                    shown_text = " ".join(drawn_text(part).split())
                    want = " ".join(str(part.render()).split())
                    assert shown_text == want, (lang, size, tile.id, shown_text, want)
                    assert tile.region.contains_region(part.region), (lang, tile.id)


@pytest.mark.parametrize("name", ["start", "multiple", "dashboard"])
async def test_layout_follows_a_resized_terminal(make_app, data_dir, name) -> None:
    """Drawn large, then the terminal shrinks to 60x20: the actions still hold."""
    place, app = await open_place(make_app, data_dir, name)
    async with app.run_test(size=(120, 40)) as pilot:
        await place.go(pilot)
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert app.screen.has_class("-narrow", "-short")
        await check_actions(pilot)

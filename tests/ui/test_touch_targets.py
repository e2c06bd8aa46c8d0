"""Touch targets (issue 14, "Keys and touch"): every button and choice row a finger can
press is at least 3 rows high and 12 columns wide, on the start, question (text, one
choice, multiple choice), review and receipt screens at 80x24; the language bar (with
"Call the operator"), long lists' options and the review's rows at 60x20 and 120x40 too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from textual.widgets import Button

from kiosk.catalog import load_sample
from kiosk.receipt import Receipt
from screens.receipt import ReceiptScreen
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    drawn,
    fill_form,
    ready,
    wait_until,
)

MIN_HEIGHT, MIN_WIDTH = 3, 12
# Once too small at 80x24 and checked on their own below: the language bar on every
# screen (one row), the rows of a long choice list (one row each, ".choices.-many") and
# the review's rows (two rows each).
ONCE_SMALL = ("LangBar Button", ".choices.-many ChoiceButton", "ReviewRow")
FORM = "social_assistance"
RECEIPT = Receipt(
    tracking_code="K7M4QXPR",
    form_title="Ijtimoiy yordam",
    created_at=dt.datetime(2026, 3, 21, 9, 30, tzinfo=dt.UTC).isoformat(),
    documents=["Pasport yoki ID-karta"],
    lang="uz_Latn",
)


async def _to_step(pilot: Any, ref: str) -> None:
    await choose_language(pilot, "uz_Latn", "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    sample = load_sample(FORM)
    for _ in range(80):
        await wait_until(pilot, lambda: drawn(pilot.app.screen), "the step drawn")
        if pilot.app.visit.session.current.ref == ref:
            return
        before = pilot.app.visit.session.current.ref
        await answer_step(pilot, sample, "keyboard")

        def moved(before: str = before) -> bool:
            return bool(pilot.app.visit.session.current.ref != before)

        await wait_until(pilot, moved, f"past {before}")
    raise AssertionError(f"never reached {ref}")


async def _go(pilot: Any, where: str) -> None:
    if where == "start":
        return
    if where == "receipt":
        await pilot.app.push_screen(ReceiptScreen(RECEIPT))
        return
    if where == "review":
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, load_sample(FORM), "keyboard")
        return
    await _to_step(pilot, where)


@pytest.mark.parametrize(
    "where", ["start", "full_name", "sex", "circumstances", "review", "receipt"]
)
async def test_touch_targets_are_large_enough(make_app, where) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await _go(pilot, where)
        await pilot.pause()
        buttons = list(app.screen.query(Button))
        assert buttons
        assert not _too_small(buttons), f"{where}: too small to touch: {_too_small(buttons)}"


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)], ids=str)
@pytest.mark.parametrize("where", ["circumstances", "review"])
async def test_once_small_targets(make_app, where, size) -> None:
    """The language bar (with "Call the operator"), a long list's options and the
    review's rows: each one there is, and each at least 3x12, at every size."""
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await _go(pilot, where)
        await pilot.pause()
        wanted = [ONCE_SMALL[0], ONCE_SMALL[2] if where == "review" else ONCE_SMALL[1]]
        for selector in wanted:
            assert app.screen.query(selector), selector
        buttons = [w for selector in ONCE_SMALL for w in app.screen.query(selector)]
        assert app.screen.query("#call-operator")
        assert not _too_small(buttons)


def _too_small(buttons: list[Any]) -> list[str]:
    small = []
    for button in buttons:
        if not button.display or not button.visible:
            continue
        # The size it is laid out with, in view or scrolled out of it (borders in).
        size = button.outer_size
        if size.height < MIN_HEIGHT or size.width < MIN_WIDTH:
            small.append(f"{button.id or button.label.plain!r}: {size.width}x{size.height}")
    return small

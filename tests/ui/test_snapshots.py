"""SVG snapshots at 80x24 in the default and the high-contrast theme.

Deterministic: fixed clock, speech silent, a fixed receipt, answers from the bundled
sample, no focused text box (so no cursor blink). Update with `--snapshot-update`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kiosk import languages
from kiosk.catalog import load_sample
from kiosk.operators import add_operator
from kiosk.receipt import Receipt
from kiosk.store import Store
from screens.receipt import ReceiptScreen
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    fill_form,
    ready,
    type_text,
)

FORM = "criminal_record_certificate"
THEMES = pytest.mark.parametrize("contrast", [False, True], ids=["default", "contrast"])
FIXED_RECEIPT = Receipt(
    tracking_code="K7M4QXPR",
    form_title="Sudlanmaganlik haqida maʼlumotnoma",
    created_at=dt.datetime(2026, 3, 21, 9, 30, tzinfo=dt.UTC).isoformat(),
    documents=["Pasport yoki ID-karta", "Toʻlov kvitansiyasi"],
    lang="uz_Latn",
)


@pytest.fixture(autouse=True)
def _drawn_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshots show the languages they were drawn with: a row added to
    kiosk.languages must not redraw them (tests/test_languages.py covers new rows)."""
    drawn = {"uz_Latn", "uz_Cyrl", "ru", "en"}
    rows = tuple(row for row in languages.LANGUAGES if row.code in drawn)
    monkeypatch.setattr(languages, "LANGUAGES", rows)


@pytest.fixture(autouse=True)
def _fixed_resume_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """The question screen shows the draft's resume code: a fixed one here (the slot is
    the lowest free, 00), so the snapshot does not change from run to run."""
    from kiosk import drafts

    monkeypatch.setattr(drafts, "new_secret", lambda: "1234567890")


async def _to_question(pilot: Any) -> None:
    await ready(pilot)
    await choose_language(pilot, "uz_Latn", "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    sample = load_sample(FORM)
    while pilot.app.visit.session.current.ref != "purpose":
        await answer_step(pilot, sample, "keyboard")


async def _to_review(pilot: Any) -> None:
    await ready(pilot)
    await choose_language(pilot, "uz_Latn", "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    await fill_form(pilot, load_sample(FORM), "keyboard")


async def _to_receipt(pilot: Any) -> None:
    await ready(pilot)
    await pilot.app.push_screen(ReceiptScreen(FIXED_RECEIPT))
    await pilot.pause()


async def _to_dashboard(pilot: Any) -> None:
    await ready(pilot)
    await type_text(pilot, "Aziz")
    await pilot.press("enter")
    await type_text(pilot, "135792")
    await pilot.press("enter")
    await pilot.pause()


@THEMES
def test_start(snap_compare, make_app, contrast: bool) -> None:
    assert snap_compare(make_app(high_contrast=contrast), terminal_size=(80, 24), run_before=ready)


@THEMES
def test_question(snap_compare, make_app, contrast: bool) -> None:
    app = make_app(high_contrast=contrast)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_question)


@THEMES
def test_review(snap_compare, make_app, contrast: bool) -> None:
    app = make_app(high_contrast=contrast)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_review)


@THEMES
def test_receipt(snap_compare, make_app, contrast: bool) -> None:
    app = make_app(high_contrast=contrast)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_receipt)


@THEMES
def test_dashboard(snap_compare, make_app, data_dir, contrast: bool) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", high_contrast=contrast)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_dashboard)

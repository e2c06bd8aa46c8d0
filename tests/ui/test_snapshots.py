"""SVG snapshots at 80x24 in the default and the high-contrast theme, and of every
screen type at 60x20 and 120x40 (the text and multiple-choice questions at 80x24 too).

Deterministic: fixed clock, speech silent, a fixed receipt, answers from the bundled
sample, no focused text box (so no cursor blink) but the text question's, whose
cursor is hidden in a snapshot. The screens are reached as tests/ui/places.py
says (tests/ui/test_layout.py checks the same ones). Update with `--snapshot-update`.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from kiosk import languages
from tests.ui import places

THEMES = pytest.mark.parametrize("contrast", [False, True], ids=["default", "contrast"])


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


_to_question = places.to_one_choice
_to_review = places.to_review
_to_receipt = places.to_receipt
_to_dashboard = places.to_dashboard


@THEMES
def test_start(snap_compare, make_app, contrast: bool) -> None:
    assert snap_compare(
        make_app(high_contrast=contrast), terminal_size=(80, 24), run_before=places.to_start
    )


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
    places.add_operators(data_dir)
    app = make_app(mode="operator", high_contrast=contrast)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_to_dashboard)


SIZES = {"60x20": (60, 20), "80x24": (80, 24), "120x40": (120, 40)}
AT_SIZES = [
    *[
        (name, size)
        for name in places.PLACES
        if name != "few_choices"
        for size in ("60x20", "120x40")
    ],
    ("text", "80x24"),
    ("multiple", "80x24"),
]


@pytest.mark.parametrize(("name", "size"), AT_SIZES, ids=[f"{n}-{s}" for n, s in AT_SIZES])
def test_at_size(snap_compare, make_app, data_dir, name: str, size: str) -> None:
    """Start, questions (text, one choice, multiple choice), review, receipt, dashboard."""
    place = places.PLACES[name]
    if place.mode == "operator":
        places.add_operators(data_dir)
    app = make_app(mode=place.mode)

    async def run_before(pilot: Any) -> None:
        await place.go(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False  # the cursor hidden, not blinking while drawn
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)

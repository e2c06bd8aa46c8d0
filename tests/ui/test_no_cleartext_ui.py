"""No clear text on disk after real visits through the UI (issue 13's Done-when).

The CLI case (tests/test_no_cleartext.py) covers every bundled form; this one drives the
app as a citizen does, so whatever the UI path writes (drafts saved on every answer, the
resume code, the submit, logs) is under the scanner too: one visit submitted, a second
saved for later, then the app quits. Nothing of either citizen may be found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.catalog import load_sample
from screens.receipt import ReceiptScreen
from screens.resume import DraftSavedScreen
from screens.review import ReviewScreen
from tests.cleartext import find_markers
from tests.test_no_cleartext import MARKER_NAME, MARKERS, marker_pinfl, with_markers
from tests.ui.driver import (
    choose_language,
    choose_service,
    click,
    fill_form,
    ready,
    type_text,
    wait_until,
)

pytestmark = pytest.mark.slow

FORM = "criminal_record_certificate"


async def test_no_marker_on_disk_after_a_submitted_and_a_saved_visit(
    make_app, data_dir: Path
) -> None:
    original = load_sample(FORM)
    sample = with_markers(original)
    assert isinstance(sample, dict)
    assert sample["full_name"] == MARKER_NAME
    assert sample["pinfl"] == marker_pinfl(str(original["pinfl"])) in MARKERS
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, sample, "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
        await click(pilot, app.screen.query_one("#done"))
        # The next citizen: one answer (the name), then "Save for later".
        await wait_until(pilot, lambda: app.visit is None, "the start screen")
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await type_text(pilot, MARKER_NAME)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.visit is not None and app.visit.code is not None)
        await click(pilot, app.screen.query_one("#keep"))
        await wait_until(pilot, lambda: isinstance(app.screen, DraftSavedScreen), "the code")
        await click(pilot, app.screen.query_one("#done"))
        await wait_until(pilot, lambda: app.visit is None, "the start screen")
    found = find_markers(data_dir, MARKERS)
    assert found == [], "\n".join(f"{f.file} [{f.where} {f.via}]" for f in found)
    assert any(data_dir.iterdir())  # the scan had something to look at

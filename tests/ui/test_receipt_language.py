"""The receipt follows a language switch: documents to bring and the form's title too."""

from __future__ import annotations

from textual.widgets import Static

from kiosk.catalog import load_sample
from screens.receipt import ReceiptScreen
from tests.ui.driver import choose_language, choose_service, fill_form, ready, switch_language

FORM = "criminal_record_certificate"


def _text(widget: Static) -> str:
    return str(widget.render())


async def test_receipt_documents_follow_the_language(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        form = app.visit.form if app.visit is not None else None
        assert form is not None
        await fill_form(pilot, load_sample(FORM), "keyboard")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReceiptScreen)
        docs = screen.query_one("#receipt-docs", Static)
        title = screen.query_one("#receipt-form", Static)
        latin = form.documents("uz_Latn")
        assert latin and _text(docs) == "\n".join(f"• {d}" for d in latin)
        for lang in ("ru", "uz_Cyrl", "uz_Latn"):
            await switch_language(pilot, lang)
            assert app.lang == lang
            wanted = form.documents(lang)
            assert wanted and _text(docs) == "\n".join(f"• {d}" for d in wanted)
            assert _text(title) == form.title(lang)
        assert form.documents("ru") != latin  # the switch is visible, not a no-op
        # The receipt itself keeps what was submitted.
        assert screen.receipt.documents == latin

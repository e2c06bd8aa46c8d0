"""Whole submissions through the UI, in each language, by keyboard and by mouse."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static

from kiosk.catalog import load_sample
from kiosk.engine_json import validate_answers
from kiosk.store import Store
from kiosk.tracking import format_code
from screens.receipt import ReceiptScreen
from screens.review import ReviewScreen
from screens.start import StartScreen
from screens.widgets.qr import QRCode
from tests import sealkit
from tests.ui.driver import choose_language, choose_service, click, fill_form, ready, wait_until

# Whole visits in every language and both input ways: the long end of the UI tests.
pytestmark = pytest.mark.slow

FORM = "criminal_record_certificate"


@pytest.mark.parametrize("how", ["keyboard", "mouse"])
@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru"])
async def test_full_submission(make_app, data_dir, speech, lang, how) -> None:
    app = make_app()
    sample = load_sample(FORM)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert isinstance(app.screen, StartScreen)
        await choose_language(pilot, lang, how)
        assert app.lang == lang
        await choose_service(pilot, FORM, how)
        await fill_form(pilot, sample, how)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        if how == "mouse":
            await click(pilot, review.query_one("#submit"))
        else:
            assert app.focused is review.query_one("#submit")
            await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReceiptScreen)
        code = app.screen.receipt.tracking_code
        # The code was spoken, symbol by symbol, in the receipt's sentence.
        from kiosk.speech.prepare import code_prompt

        assert any(code_prompt(code, lang) in t and la == lang for t, la, _ in speech.said)
    with Store.open(data_dir) as store:
        rows = store.queue(include_payload=True)
        answers = sealkit.open_row_in(store.db, rows[0])  # sealed at submit
        assert [r["tracking_code"] for r in rows] == [code]
        assert rows[0]["form_id"] == FORM and rows[0]["lang"] == lang
        assert store.list_drafts() == []  # the draft went with the submit
        from kiosk.catalog import Catalog

        form = Catalog(store).get(FORM)
    expected, errors = validate_answers(form, sample, lang)
    assert errors == []
    assert answers == json.loads(json.dumps(expected, default=str))


async def test_the_receipt_links_the_status_page_where_configured(make_app) -> None:
    """With ``portal_public_url`` the receipt's QR holds the status page's link (the
    receipt screen test decodes it); the code stays printed under it."""
    app = make_app(portal_public_url="https://mahalla.example.uz")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, load_sample(FORM), "keyboard")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        code = app.screen.receipt.tracking_code
        assert app.screen.receipt.qr_text == f"https://mahalla.example.uz/s/{code}"
        assert app.screen.query_one(QRCode).text == app.screen.receipt.qr_text
        printed = app.screen.query_one("#receipt-qr-code", Static)
        assert str(printed.render()) == format_code(code)


async def test_submission_with_a_repeat(make_app, data_dir) -> None:
    """address_registration asks "add another family member?" (a repeat prompt)."""
    form_id = "address_registration"
    sample = load_sample(form_id)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Cyrl", "keyboard")
        await choose_service(pilot, form_id, "mouse")
        await fill_form(pilot, sample, "keyboard")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReceiptScreen)
    with Store.open(data_dir) as store:
        [row] = store.queue(include_payload=True)
        payload = sealkit.open_row_in(store.db, row)  # sealed at submit
    assert [m["member_name"] for m in payload["family"]] == [
        m["member_name"] for m in sample["family"]
    ]


async def test_whole_service_by_digits_and_enter_only(make_app, data_dir) -> None:
    """social_assistance (text, one choice, multiple choice, a repeat of four, notes and
    confirmations) with number keys and Enter only, plus the typed answers themselves:
    no Tab, no arrows, no other letters, no mouse."""
    form_id = "social_assistance"
    sample = load_sample(form_id)
    app = make_app()
    pressed: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        real_press = pilot.press

        async def press(*keys: str) -> None:
            pressed.extend(keys)
            await real_press(*keys)

        pilot.press = press  # type: ignore[method-assign]  # records every key pressed
        await choose_language(pilot, "uz_Latn", "keyboard")
        await choose_service(pilot, form_id, "digits")
        await fill_form(pilot, sample, "digits")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert app.focused is review.query_one("#submit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
    # Strict: no Backspace either (a form's default is replaced by typing over it).
    assert set(pressed) <= {*"0123456789", "enter"}, set(pressed)
    with Store.open(data_dir) as store:
        [row] = store.queue(include_payload=True)
        answers = sealkit.open_row_in(store.db, row)
        from kiosk.catalog import Catalog

        form = Catalog(store).get(form_id)
    expected, errors = validate_answers(form, sample, "uz_Latn")
    assert errors == []
    assert answers == json.loads(json.dumps(expected, default=str))


async def test_whole_service_by_mouse_only(make_app, data_dir) -> None:
    """social_assistance (its livestock question has a default another answer replaces)
    with clicks only: not one key pressed through the Pilot, the typed answers aside
    (typed in as a keyboard's characters; no Tab, Enter, Backspace or editing key)."""
    form_id = "social_assistance"
    sample = load_sample(form_id)
    app = make_app()
    pressed: list[str] = []
    cleared: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        real_press = pilot.press

        async def press(*keys: str) -> None:
            pressed.extend(keys)
            await real_press(*keys)

        pilot.press = press  # type: ignore[method-assign]  # records every key pressed
        real_click = pilot.click

        async def click_recorded(*args: object, **kwargs: object) -> bool:
            target = args[0] if args else None
            if getattr(target, "id", None) == "answer-clear":
                cleared.append(app.visit.session.current.ref)
            return await real_click(*args, **kwargs)  # type: ignore[arg-type]

        pilot.click = click_recorded  # type: ignore[method-assign]
        await choose_language(pilot, "uz_Latn", "mouse")
        await choose_service(pilot, form_id, "mouse")
        await fill_form(pilot, sample, "mouse")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await click(pilot, review.query_one("#submit"))
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
    assert pressed == []
    assert cleared == ["cattle"]  # the default 0 cleared by a click, then 1 typed
    with Store.open(data_dir) as store:
        [row] = store.queue(include_payload=True)
        answers = sealkit.open_row_in(store.db, row)
        from kiosk.catalog import Catalog

        form = Catalog(store).get(form_id)
    expected, errors = validate_answers(form, sample, "uz_Latn")
    assert errors == []
    assert answers == json.loads(json.dumps(expected, default=str))

"""A full disk or a read-only database: the kiosk says so on screen and keeps going.

The failures are real SQLite ones on the app's own connection: the disk "fills" when
``PRAGMA max_page_count`` is pinned to the database's size and other data takes the
last free space (other citizens' drafts, earlier submissions); space "returns" when
the limit is raised. The read-only database is opened with SQLite's ``mode=ro``.
"""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import Static

from kiosk import drafts
from kiosk.catalog import Catalog, load_sample
from kiosk.engine_json import validate_answers
from kiosk.store import Store, StoreError
from screens.app import KioskApp
from screens.backend import StoreThread
from screens.question import QuestionScreen
from screens.receipt import ReceiptScreen
from screens.review import ReviewScreen
from screens.start import StartScreen
from tests.ui.conftest import FIXED_NOW
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    fill_form,
    ready,
    switch_language,
)

FORM = "criminal_record_certificate"
NO_LIMIT = 1073741823  # SQLite's default max_page_count


def _pin_size(store: Store) -> None:
    """The disk cannot grow any more: no page beyond the present ones."""
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")


def _space_returns(store: Store) -> None:
    store.db.execute(f"PRAGMA max_page_count = {NO_LIMIT}")


def _fill_with_drafts(store: Store) -> str:
    """Other citizens' kept drafts take the last space; returns the disk-full message."""
    _pin_size(store)
    key = drafts.new_key()
    for _ in range(100_000):
        try:
            store.save_draft(None, key, FORM, "1", "ru", {}, None, now=FIXED_NOW)
        except StoreError as exc:
            return exc.message("en")
    raise AssertionError("the disk never filled")


def _fill_with_submissions(store: Store, payload: dict[str, Any], lang: str) -> int:
    """Earlier applications, shaped like the citizen's, fill the disk; how many fit."""
    form = Catalog(store).get(FORM)
    _pin_size(store)
    queued = failures = 0
    while failures < 3:  # three refusals in a row: not even a lucky index page is left
        try:
            store.submit(form, payload, lang)
        except StoreError:
            failures += 1
        else:
            queued += 1
            failures = 0
    return queued


def _outbox(store: Store) -> list[tuple[str, str, str, str]]:
    return [
        (r["id"], r["tracking_code"], r["content_hash"], r["state"])
        for r in store.queue(include_payload=True)
    ]


def _text(widget: Static) -> str:
    return str(widget.render())


def _notes(app: KioskApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_disk_fills_mid_form(make_app, data_dir, speech) -> None:
    sample = load_sample(FORM)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "ru", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        for _ in range(3):
            await answer_step(pilot, sample, "keyboard")
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        assert app.visit is not None
        draft_id, key = app.visit.draft_id, app.visit.draft_key
        saved = await app.db.call(lambda s: s.load_draft(draft_id, key))
        assert saved is not None and saved["answers"]["full_name"] == sample["full_name"]
        english = await app.db.call(_fill_with_drafts)
        drafts_before = await app.db.call(lambda s: len(s.list_drafts()))

        # Answering on: the draft no longer fits; the citizen is told, in Russian.
        for _ in range(10):
            await answer_step(pilot, sample, "keyboard")
            if screen.store_error is not None:
                break
        assert screen.store_error is not None, "no draft save failed"
        expected = screen.store_error.message("ru")
        assert expected != english  # really translated
        assert "⚠ " + expected == _text(screen.query_one("#q-error", Static))
        assert _notes(app).count(expected) == 1  # once, not on every keystroke
        assert expected in speech.texts()
        assert app.is_running and app.screen is screen

        # The draft on disk is the last one that fitted: nothing saved was lost.
        on_disk = await app.db.call(lambda s: s.load_draft(draft_id, key))
        assert on_disk["answers"]["full_name"] == sample["full_name"]
        assert await app.db.call(lambda s: len(s.list_drafts())) == drafts_before

        # A language switch re-says the message; space returns; the next save clears it.
        await switch_language(pilot, "uz_Latn")
        assert "⚠ " + screen.store_error.message("uz_Latn") == _text(
            screen.query_one("#q-error", Static)
        )
        await app.db.call(_space_returns)
        await fill_form(pilot, sample, "keyboard")
        assert screen.store_error is None
        assert isinstance(app.screen, ReviewScreen)
        state = app.visit.session.draft_state()
        on_disk = await app.db.call(lambda s: s.load_draft(draft_id, key))
    assert on_disk["answers"] == state["answers"]
    assert on_disk["position"] == "#review"
    assert app.return_code in (None, 0)


async def test_submit_on_a_full_disk_then_again(make_app, data_dir, speech) -> None:
    lang = "uz_Cyrl"
    sample = load_sample(FORM)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await choose_language(pilot, lang, "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await fill_form(pilot, sample, "keyboard")
        review = app.screen
        assert isinstance(review, ReviewScreen)
        visit = app.visit
        assert visit is not None
        answers = dict(visit.session.answers)
        form = await app.db.catalog(lambda c: c.get(FORM))
        payload, errors = validate_answers(form, sample, lang)
        assert errors == []

        # Earlier applications fill the disk while this citizen checks the answers.
        earlier = await app.db.call(_fill_with_submissions, payload, lang)
        assert earlier > 0
        before = await app.db.call(_outbox)
        assert len(before) == earlier

        assert app.focused is review.query_one("#submit")
        await pilot.press("enter")
        await pilot.pause()
        # Still the review, every answer intact, the reason on screen and spoken.
        assert app.screen is review and app.visit is visit
        assert visit.session.answers == answers
        failure = app.last_store_failure
        assert isinstance(failure, StoreError) and "disk is full" in str(failure)
        message = failure.message(lang)
        assert message != str(failure)  # in Uzbek Cyrillic, not the English msgid
        assert message in _text(review.query_one("#review-error", Static))
        assert message in _notes(app)
        assert message in speech.texts()
        assert await app.db.call(_outbox) == before  # nothing queued
        draft = await app.db.call(lambda s: s.load_draft(visit.draft_id, visit.draft_key))
        assert draft is not None and draft["position"] == "#review"
        assert app.focused is review.query_one("#submit")  # enabled again, ready to retry

        # Space returns: the same Submit now works, exactly once.
        await app.db.call(_space_returns)
        submit = review.query_one("#submit")
        # A button ignores a second press while it shows the first: poll until that ends
        # (a generous deadline, never a fixed number of short waits).
        deadline = time.monotonic() + 60
        while submit.has_class("-active") and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert not submit.has_class("-active")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReceiptScreen)
        code = app.screen.receipt.tracking_code
    with Store.open(data_dir) as store:
        after = _outbox(store)
        assert after[:earlier] == before  # earlier rows untouched
        new = after[earlier:]
        assert [row[1] for row in new] == [code]
        assert new[0][3] == "queued"
        assert store.list_drafts() == []
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_read_only_database_at_start_up(make_app, data_dir, speech) -> None:
    with Store.open(data_dir) as store:  # made and migrated, then only readable
        key = drafts.new_key()
        store.save_draft(None, key, FORM, "1", "ru", {"full_name": "Ali"}, "full_name")
        kept = store.list_drafts()
    app = make_app()
    app.db = StoreThread(data_dir, read_only=True, on_failure=app.store_failed)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)  # caching the catalog is the first write: refused
        failure = app.last_store_failure
        assert isinstance(failure, StoreError)
        assert "read-only" in str(failure)
        message = failure.message(app.home_lang)  # said before the draft's language
        assert message in _notes(app)
        assert message in speech.texts()
        # The kiosk is up (purging expired drafts was refused too), not a traceback;
        # the draft is not offered: it opens with its code only.
        assert app.is_running
        assert isinstance(app.screen, StartScreen)
    assert app.return_code in (None, 0)
    with Store.open(data_dir) as store:
        assert store.list_drafts() == kept

"""Review: every relevant answer listed and read back; tap one to change it; Submit.

Submitting is one store transaction (outbox row, audit entry, draft removed); only
after it returns does the receipt appear, so a receipt always means "saved".
With an operator logged in, the citizen's consent is asked (and recorded) first.
A submit the store refuses (full disk, read-only database) writes nothing: the
citizen stays here with every answer, sees (and hears) why, and can submit again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskModal, KioskScreen
from screens.widgets.tr import TrButton, TrLabel


class ReviewRow(Button):
    """One answer: its question and the answer as given; pressing it edits it."""

    def __init__(self, item: Any, number: int) -> None:
        super().__init__(Content(""), classes="review-row")
        self.item = item
        self.number = number

    def show(self, item: Any, mark: str = "") -> None:
        self.item = item
        label = Content.assemble((item.label, "bold"), "\n", "   " + item.display)
        if mark:  # once-only prefill: from the registry, or corrected
            label = Content.assemble(label, "\n", ("   ⎘ " + mark, "italic"))
        self.label = label


class ReviewScreen(KioskScreen):
    """Lists ``session.review()``; the Submit button sends the visit to the store."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.submitting = False
        # Why the last submit failed, in a given language (re-shown on a switch).
        self.failure: Callable[[str], str] | None = None

    def body(self) -> ComposeResult:
        with Horizontal(id="q-top"):
            yield TrLabel(N_("Check your answers"), id="review-title")
            yield Static(id="review-form", markup=False)
        yield TrLabel(N_("Tap an answer to change it."), classes="hint")
        yield VerticalScroll(id="review-list")
        yield Static(id="review-error", markup=False)
        if self.kiosk.mode == "citizen":
            yield TrLabel(
                N_("By submitting you agree that your answers are sent to the public service."),
                classes="hint",
            )
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            yield TrButton(N_("Read aloud"), prefix="♪ ", id="read", classes="nav-mid")
            yield TrButton(
                N_("Submit"), suffix=" ✔", id="submit", classes="nav-next", variant="success"
            )

    async def on_mount(self) -> None:
        await self.fill()
        self.query_one("#submit", Button).focus()
        self.read_back()

    async def fill(self) -> None:
        visit = self.kiosk.visit
        if visit is None:
            return
        box = self.query_one("#review-list", VerticalScroll)
        await box.remove_children()
        items = visit.session.review()
        rows = [ReviewRow(item, n) for n, item in enumerate(items, start=1)]
        await box.mount_all(rows)
        for row in rows:
            row.show(row.item, visit.registry_mark(row.item.ref, self.lang))
        self.query_one("#review-form", Static).update(Content(visit.form.title(self.lang)))

    def apply_lang(self, lang: str) -> None:
        visit = self.kiosk.visit
        if visit is None:
            return
        visit.session.lang = lang
        items = visit.session.review()
        for row, item in zip(self.query(ReviewRow), items, strict=False):
            row.show(item, visit.registry_mark(item.ref, lang))
        self.query_one("#review-form", Static).update(Content(visit.form.title(lang)))
        self._show_failure()

    def _fail(self, text: Callable[[str], str]) -> None:
        self.failure = text
        self._show_failure()

    def _show_failure(self) -> None:
        box = self.query_one("#review-error", Static)
        if self.failure is None:
            box.update("")
            return
        box.update(Content("⚠ " + self.failure(self.lang)))

    def read_back(self) -> None:
        visit = self.kiosk.visit
        if visit is None:
            return
        from screens.spoken import sentences

        lang = self.lang
        lines = []
        for item in visit.session.review():
            mark = visit.registry_mark(item.ref, lang)
            lines.append(f"{item.label}: {item.display}" + (f" ({mark})" if mark else ""))
        consent = ""
        if self.kiosk.mode == "citizen":
            consent = tr(
                lang,
                "By submitting you agree that your answers are sent to the public service.",
            )
        said = sentences(
            tr(lang, "Check your answers"),
            *lines,
            tr(lang, "Tap an answer to change it."),
            consent,
        )
        self.kiosk.say(said, private=True)  # the answers: never cached

    @on(Button.Pressed, "#read")
    def _read(self) -> None:
        self.read_back()

    @on(Button.Pressed, ".review-row")
    def edit(self, event: Button.Pressed) -> None:
        assert isinstance(event.button, ReviewRow)
        self.edit_ref(event.button.item.ref)

    def edit_ref(self, ref: str) -> None:
        """Jump to the question; its Next brings the citizen back here."""
        visit = self.kiosk.visit
        if visit is None:
            return
        visit.session.jump(ref)
        visit.returning_to_review = True
        self.app.pop_screen()

    @on(Button.Pressed, "#back")
    def back(self) -> None:
        visit = self.kiosk.visit
        if visit is not None:
            visit.session.back()
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.back()

    @on(Button.Pressed, "#submit")
    async def submit(self) -> None:
        visit = self.kiosk.visit
        if visit is None or self.submitting:
            return
        errors = visit.session.validate_all()
        if errors:
            # Something no longer holds (e.g. a changed answer): fix it first.
            self.edit_ref(errors[0].field)
            return
        if self.kiosk.operator is not None:
            await self.app.push_screen(ConsentScreen(), self._consented)
            return
        await self.commit(consent=True)

    async def _consented(self, agreed: object) -> None:
        if agreed is True:
            await self.commit(consent=True)
        else:
            self._fail(
                lambda lang: tr(
                    lang, "The application cannot be sent without the citizen's consent."
                )
            )

    async def commit(self, consent: bool) -> None:
        """The durable submit; the receipt only after the store has committed."""
        from kiosk.receipt import build_receipt
        from kiosk.store import Store, StoreError

        visit = self.kiosk.visit
        if visit is None or self.submitting:
            return
        self.submitting = True
        self.query_one("#submit", Button).disabled = True
        operator = self.kiosk.operator
        operator_id = getattr(operator, "id", None)
        actor = f"operator:{operator_id}" if operator_id is not None else "citizen"
        payload = visit.payload()  # the answers, and the prefill section if any
        try:
            submission = await self.kiosk.db.call(
                Store.submit,
                visit.form,
                payload,
                visit.session.lang,
                operator_id=operator_id,
                consent=consent,
                draft_id=visit.draft_id,
                actor=actor,
                resubmits=visit.resubmits,
            )
        except StoreError as exc:
            # Disk full, read-only or locked database: nothing was queued and the draft
            # is as it was. The app has shown and spoken the reason; it stays here, in
            # the current language, and Submit works again once the disk has space.
            self.submitting = False
            submit = self.query_one("#submit", Button)
            submit.disabled = False
            submit.focus()  # disabling moved the focus away: Enter tries again
            reason = exc  # the name `exc` is gone after this block

            def failure(lang: str) -> str:
                return tr(
                    lang, "Could not save the application: {error}", error=reason.message(lang)
                )

            self._fail(failure)
            # Heard every time (the app's own announcement skips a repeated failure).
            self.kiosk.say(failure(self.lang))
            return
        self.failure = None
        receipt = build_receipt(
            visit.form, submission, visit.session.lang, self.kiosk.config.portal_public_url
        )
        self.kiosk.visit = None
        await self.kiosk.refresh_queue()
        # Not awaited: this screen is the one being replaced.
        self.app.switch_screen(self.kiosk.new_screen("receipt", receipt, visit.form))
        if self.kiosk.online:
            self.kiosk.sync_now()


class ConsentScreen(KioskModal):
    """The operator asks the citizen and records the answer (Yes / No)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TrLabel(N_("Citizen's consent"), classes="dialog-title")
            yield TrLabel(
                N_(
                    "Does the citizen agree to submit this application and to the "
                    "processing of their personal data for it?"
                ),
                classes="dialog-text",
            )
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(
                    N_("Yes, the citizen agrees"), prefix="1  ", id="yes", variant="success"
                )
                yield TrButton(N_("No"), prefix="2  ", id="no", variant="error")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_key(self, event: Key) -> None:
        if event.key in ("1", "2", "escape"):
            event.stop()
            self.dismiss(event.key == "1")

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)

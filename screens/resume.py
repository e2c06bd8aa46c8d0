"""Drafts and their resume codes (kiosk/drafts.py, docs/drafts.md), on screen.

``ResumeScreen``: "Continue with my code": the citizen types the 12 digits (spaces
and dashes ignored); the store thread checks it (scrypt: slow, never on the event
loop), and the right code resumes the form where it stopped. A wrong code says so;
the third locks that draft for 15 minutes, and the message says until when.
Nothing of any draft is shown before its code has opened it.

``DraftSavedScreen``: after "Save for later", the code again, large, grouped and
spoken (privately: never cached); "Done" goes home and the visit's key is forgotten.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk.drafts import code_sentence, format_code, normalize_code
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel

if TYPE_CHECKING:
    from kiosk.drafts import OpenResult

logger = logging.getLogger(__name__)


def say_code(screen: KioskScreen, code: str) -> None:
    """Speak the code sentence, privately: its audio is never cached."""
    screen.kiosk.say(code_sentence(screen.lang, code), private=True)


class ResumeScreen(KioskScreen):
    """Type the resume code; the right one opens the draft."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.message: tuple[str, dict[str, object]] | None = None
        self.busy = False

    def body(self) -> ComposeResult:
        with Vertical(id="resume"):
            yield TrLabel(N_("Continue with my code"), classes="screen-title")
            yield TrLabel(
                N_("Type the 12-digit code you were given when you saved your answers."),
                classes="hint",
            )
            with Horizontal(id="resume-entry"):
                yield TextBox(
                    id="resume-code",
                    max_length=20,
                    restrict=r"[0-9 \-]*",
                    placeholder="0000 0000 0000",
                )
                yield TrButton(N_("Continue"), id="resume-open", variant="primary")
            yield Static(id="resume-result", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    def on_mount(self) -> None:
        from screens.spoken import sentences

        self.query_one("#resume-code", Input).focus()
        lang = self.lang
        self.kiosk.say(
            sentences(
                tr(lang, "Continue with my code"),
                tr(lang, "Type the 12-digit code you were given when you saved your answers."),
            )
        )

    def apply_lang(self, lang: str) -> None:
        self._show(speak=False)

    def _say(self, msgid: str, **params: object) -> None:
        self.message = (msgid, params)
        self._show(speak=True)

    def _show(self, speak: bool) -> None:
        box = self.query_one("#resume-result", Static)
        if self.message is None:
            box.update("")
            box.remove_class("-shown")
            return
        msgid, params = self.message
        text = tr(self.lang, msgid, **params)
        box.update(Content(text))
        box.add_class("-shown")
        if speak:
            self.kiosk.say(text)

    @on(Input.Submitted, "#resume-code")
    @on(Button.Pressed, "#resume-open")
    def submit(self) -> None:
        if self.busy:
            return
        code = normalize_code(self.query_one("#resume-code", Input).value)
        if code is None:
            self._say(N_("A code has 12 digits. Please check it and try again."))
            return
        self.busy = True
        self._say(N_("Checking your code..."))
        self.kiosk.run_worker(self.try_code(code), group="navigation")

    async def try_code(self, code: str) -> None:
        """On the store thread (scrypt is slow); the screen keeps answering meanwhile."""
        from kiosk.store import Store, StoreError

        kiosk = self.kiosk
        try:
            result = await kiosk.db.call(Store.open_draft, code, kiosk.clock.now())
        except StoreError:
            self.busy = False
            self.message = None
            self._show(speak=False)
            return  # shown and spoken by the app
        if result.outcome == "opened":
            await self.resume(result)
            return
        self.busy = False
        self.query_one("#resume-code", Input).value = ""
        if result.outcome == "locked" and result.locked_until is not None:
            seconds = (result.locked_until - kiosk.clock.now()).total_seconds()
            minutes = max(1, math.ceil(seconds / 60))
            self._say(
                N_(
                    "Too many wrong codes. This application is locked for {minutes} minutes. "
                    "Please try again later."
                ),
                minutes=minutes,
            )
        else:
            self._say(N_("This code does not open a saved application. Please check it."))

    async def resume(self, result: OpenResult) -> None:
        from kiosk.catalog import Catalog
        from kiosk.engine import FormSession
        from screens.visit import Visit

        kiosk = self.kiosk
        draft, key = result.draft, result.key
        assert draft is not None and key is not None
        try:
            form = await kiosk.db.catalog(Catalog.get, draft["form_id"], draft["form_version"])
        except Exception:  # a form gone from the catalog cannot resume
            logger.warning("draft's form not loaded", exc_info=True)
            self.busy = False
            self._say(N_("This form is no longer available; the draft cannot be resumed."))
            return
        state = {
            "form_id": draft["form_id"],
            "form_version": draft["form_version"],
            "answers": draft["answers"],
            "position": draft["position"],
            "lang": draft["lang"],
        }
        session = FormSession.from_draft(
            form, state, today=kiosk.clock.now().date(), clock=kiosk.clock.now
        )
        # A resumed draft was kept on purpose (or survived a crash): keep it on idle too.
        visit = Visit(form, session, draft_id=draft["id"], keep_draft=True)
        visit.draft_key, visit.slot = key, draft["slot"]
        kiosk.lang = session.lang
        self.app.pop_screen()
        # At the review already, the question screen opens the review itself.
        await kiosk.start_visit(visit)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        if not self.busy:
            self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self._back()


class DraftSavedScreen(KioskScreen):
    """After "Save for later": the code large, grouped and spoken; Done goes home."""

    CSS_PATH = LATER_CSS

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def body(self) -> ComposeResult:
        with Vertical(id="draft-saved"):
            yield TrLabel(N_("Your answers are saved."), classes="screen-title")
            yield TrLabel(N_("Your code to continue later:"), classes="hint")
            yield Static(Content(format_code(self.code)), id="draft-code", markup=False)
            yield TrLabel(
                N_(
                    'Write it down. To continue, choose "Continue with my code" on the '
                    "first screen. Without the code nobody can open your answers."
                ),
                classes="hint",
            )
        with Horizontal(classes="nav"):
            yield TrButton(N_("Hear the code again"), prefix="♪ ", id="hear", classes="nav-mid")
            yield TrButton(
                N_("Done"), suffix=" ✔", id="done", classes="nav-next", variant="primary"
            )

    def on_mount(self) -> None:
        self.query_one("#done", Button).focus()
        say_code(self, self.code)

    @on(Button.Pressed, "#hear")
    def _hear(self) -> None:
        say_code(self, self.code)

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        if self.is_current:
            self.kiosk.request_home(discard=False)

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.done()

"""The first screen: choose a language (big targets, keys 1..n), spoken greeting.

Also the way to the status check and the high-contrast switch, and, after a crash,
the offer to resume the unfinished application (``ResumeScreen``).
"""

from __future__ import annotations

import logging
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Static

from kiosk import languages
from kiosk.i18n import N_, tr
from screens.base import KioskModal, KioskScreen
from screens.widgets.tr import TrButton, TrLabel, button_classes

logger = logging.getLogger(__name__)

GREETING = N_("Welcome! Choose your language")
ONE_COLUMN_MAX = 3  # more language buttons than this go in two columns (80x24 fits)


def tool_keys() -> tuple[str, str]:
    """The keys of "Check my application" and "High contrast": next after the languages."""
    n = len(languages.citizen_codes())
    return str(n + 1), str(n + 2)


class StartScreen(KioskScreen):
    """Language choice first: the greeting is shown in every citizen language at once."""

    def body(self) -> ComposeResult:
        offered = languages.citizen_codes()
        status_key, contrast_key = tool_keys()
        with Vertical(id="start"):
            for code in offered:
                yield Static(Content(tr(code, GREETING)), classes="greeting", id=f"greet-{code}")
            with Grid(id="lang-choice") as grid:
                grid.styles.grid_size_columns = 1 if len(offered) <= ONE_COLUMN_MAX else 2
                for n, code in enumerate(offered, start=1):
                    yield Button(
                        Content(f"{n}  {languages.get(code).name}"),
                        id=f"choose-{code}",
                        classes=button_classes("big lang-button"),
                    )
            with Horizontal(classes="start-tools"):
                yield TrButton(N_("Check my application"), prefix=f"{status_key}  ", id="to-status")
                yield TrButton(
                    N_("High contrast"), prefix=f"{contrast_key}  ", id="toggle-contrast"
                )
                if self.kiosk.mode == "operator":
                    yield TrButton(N_("Back to the dashboard"), prefix="0  ", id="to-dashboard")

    def on_mount(self) -> None:
        self.query_one(f"#choose-{languages.citizen_codes()[0]}", Button).focus()

    def on_screen_resume(self) -> None:
        self.speak_intro()

    def speak_intro(self) -> None:
        self.kiosk.say(tr(self.lang, GREETING))

    def on_key(self, event: Key) -> None:
        keys = {str(n): code for n, code in enumerate(languages.citizen_codes(), start=1)}
        status_key, contrast_key = tool_keys()
        if event.key in keys:
            event.stop()
            self.choose(keys[event.key])
        elif event.key == status_key:
            event.stop()
            self.open_status()
        elif event.key == contrast_key:
            event.stop()
            self.kiosk.action_toggle_contrast()
        elif event.key == "0" and self.kiosk.mode == "operator":
            event.stop()
            self.app.pop_screen()

    @on(Button.Pressed, ".lang-button")
    def _lang_pressed(self, event: Button.Pressed) -> None:
        self.choose((event.button.id or "").removeprefix("choose-"))

    @on(Button.Pressed, "#to-status")
    def open_status(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("status"))

    @on(Button.Pressed, "#toggle-contrast")
    def _contrast(self) -> None:
        self.kiosk.action_toggle_contrast()

    @on(Button.Pressed, "#to-dashboard")
    def _dashboard(self) -> None:
        self.app.pop_screen()

    def choose(self, lang: str) -> None:
        self.kiosk.lang = lang
        self.app.push_screen(self.kiosk.new_screen("services"))


class ResumeScreen(KioskModal):
    """Offers the most recent draft: continue it, or discard it and start afresh."""

    def __init__(self, draft: dict[str, Any]) -> None:
        super().__init__()
        self.draft = draft
        self.form: Any = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TrLabel(N_("An unfinished application was found."), classes="dialog-title")
            yield Static(id="resume-form", markup=False, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(N_("Continue"), prefix="1  ", id="resume", variant="primary")
                yield TrButton(N_("Start over"), prefix="2  ", id="discard", variant="error")

    async def on_mount(self) -> None:
        from kiosk.catalog import Catalog

        self.kiosk.lang = self.draft.get("lang") or self.kiosk.lang
        try:
            self.form = await self.kiosk.db.catalog(
                Catalog.get, self.draft["form_id"], self.draft["form_version"]
            )
        except Exception:  # a form gone from the catalog cannot resume
            logger.warning("draft's form not loaded", exc_info=True)
            self.form = None
        self.loaded = True
        self.apply_lang(self.lang)
        self.query_one("#resume", Button).disabled = self.form is None
        self.query_one("#resume" if self.form else "#discard", Button).focus()

    def apply_lang(self, lang: str) -> None:
        if not self.loaded:
            return
        text = (
            self.form.title(lang)
            if self.form
            else tr(lang, "This form is no longer available; the draft cannot be resumed.")
        )
        self.query_one("#resume-form", Static).update(Content(text))

    def on_key(self, event: Key) -> None:
        if event.key == "1" and self.form is not None:
            event.stop()
            self._resume_pressed()
        elif event.key == "2":
            event.stop()
            self.run_worker(self.discard())

    @on(Button.Pressed, "#resume")
    def _resume_pressed(self) -> None:
        self.kiosk.run_worker(self.resume(), group="navigation")

    async def resume(self) -> None:
        from kiosk.engine import FormSession
        from screens.visit import Visit

        kiosk = self.kiosk
        session = FormSession.from_draft(self.form, self.draft, today=kiosk.clock.now().date())
        # A resumed draft was kept on purpose (or survived a crash): keep it on idle too.
        visit = Visit(self.form, session, draft_id=self.draft["id"], keep_draft=True)
        kiosk.lang = session.lang
        await self.dismiss(None)  # runs as an app worker, so awaiting is safe
        # At the review already, the question screen opens the review itself.
        await kiosk.start_visit(visit)

    @on(Button.Pressed, "#discard")
    async def discard(self) -> None:
        from kiosk.store import Store, StoreError

        try:
            await self.kiosk.db.call(Store.delete_draft, self.draft["id"])
        except StoreError:
            return  # shown by the app; the draft stays and can still be resumed
        self.dismiss(None)

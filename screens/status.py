"""Status check: type (or scan) a tracking code, see and hear where the application is.

A scanner reading the receipt's QR code types the code and Enter, like a keyboard.
Online, the code is looked up live at the portal (`sync.lookup`, on a worker thread);
offline (or when the portal cannot answer) the local copy is shown (outbox + the
statuses the sync pulls) with how old it is.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk import tracking
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.spoken import sentences, spelled
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel
from sync.lookup import appealable, describe, freshness

if TYPE_CHECKING:
    from kiosk.outbox import CodeStatus
    from kiosk.store import StoreError
    from sync.lookup import Lookup


def look_up_in_thread(data_dir: Path, raw: str, lang: str, ask_portal: bool) -> Lookup | None:
    """On a worker thread, on its own connection (the network may take seconds: never
    the store thread, whose other calls would wait)."""
    from kiosk.store import Store
    from sync.lookup import look_up

    with Store.open(data_dir) as store:
        return look_up(store, raw, lang, ask_portal=ask_portal)


class StatusScreen(KioskScreen):
    """Look up a tracking code."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.info: CodeStatus | None = None
        self.result: Lookup | None = None  # where ``info`` came from, and how fresh
        self.looked_up = False
        self.invalid = False
        self.failure: StoreError | None = None  # of the last lookup

    def body(self) -> ComposeResult:
        with VerticalScroll(id="status"):
            yield TrLabel(N_("Check my application"), classes="screen-title")
            yield TrLabel(
                N_("Type the tracking code from your receipt, or scan its QR code."), classes="hint"
            )
            with Horizontal(id="status-entry"):
                yield TextBox(id="status-code", max_length=32, placeholder="ABC-2345-6")
                yield TrButton(N_("Check"), id="status-check", variant="primary")
            yield Static(id="status-result", markup=False)
            # Shown when the decision may be appealed (docs/appeals.md).
            yield TrButton(N_("Appeal this decision"), id="status-appeal", variant="warning")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    def on_mount(self) -> None:
        self.query_one("#status-appeal").display = False
        self.query_one("#status-code", Input).focus()
        self.kiosk.say(
            sentences(
                tr(self.lang, "Check my application"),
                tr(self.lang, "Type the tracking code from your receipt, or scan its QR code."),
            )
        )

    def apply_lang(self, lang: str) -> None:
        self._show(speak=False)

    @on(Input.Submitted, "#status-code")
    @on(Button.Pressed, "#status-check")
    async def check(self) -> None:
        raw = self.query_one("#status-code", Input).value
        code = tracking.normalize(raw)
        self.looked_up = True
        if code is None or not tracking.is_valid(code):
            self.invalid = True
            self.info = None
        else:
            from kiosk.store import StoreError

            self.invalid = False
            kiosk = self.kiosk
            ask = kiosk.online is True
            try:
                self.result = await asyncio.to_thread(
                    look_up_in_thread, kiosk.data_dir, code, self.lang, ask
                )
            except StoreError as exc:  # a damaged or unreadable store: said, never a crash
                kiosk.store_failed(exc)
                self.info, self.result, self.failure = None, None, exc
                self._show(speak=False)
                return
            self.info = self.result.info if self.result is not None else None
        self.failure = None
        self._show(speak=True)

    def _show(self, speak: bool) -> None:
        result = self.query_one("#status-result", Static)
        if not self.looked_up:
            result.update("")
            return
        lang = self.lang
        if self.invalid:
            text = tr(lang, "This is not a valid tracking code. Please check it and try again.")
        elif self.failure is not None:
            text = self.failure.message(lang)
        else:
            text = describe(self.info, lang)
            if self.info is not None:
                code = tracking.format_code(str(self.info.get("tracking_code", "")))
                text = f"{code}\n{text}"
            if self.result is not None:
                text = f"{text}\n{freshness(self.result, self.kiosk.clock.now(), lang)}"
        result.update(Content(text))
        live = self.result is not None and self.result.live
        self.query_one("#status-appeal").display = appealable(self.info, live)
        result.set_class(self.invalid or self.info is None or self.failure is not None, "-error")
        if speak:
            if self.info is not None:
                # The code spelled for the ear, not read as a word.
                code = str(self.info.get("tracking_code", ""))
                shown = tracking.format_code(code)
                text = text.replace(
                    shown, tr(lang, "Tracking code") + ": " + spelled(code, lang), 1
                )
            self.kiosk.say(sentences(*text.split("\n")), private=True)  # a citizen's code

    @on(Button.Pressed, "#status-appeal")
    def _appeal(self) -> None:
        if self.info is not None:
            code = str(self.info.get("tracking_code", ""))
            self.app.push_screen(self.kiosk.new_screen("appeal", code))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.app.pop_screen()

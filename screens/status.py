"""Status check: type (or scan) a tracking code, see and hear where the application is.

A scanner reading the receipt's QR code types the code and Enter, like a keyboard.
What is shown comes from the local store (outbox + the statuses sync pulls).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk import tracking
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.tr import TrButton, TrLabel

if TYPE_CHECKING:
    from kiosk.outbox import CodeStatus
    from kiosk.store import StoreError

# Portal statuses (docs/sync-protocol.md) as the citizen reads them.
PORTAL_STATUSES = {
    "received": N_("Received by the service"),
    "accepted": N_("Received by the service"),
    "in_review": N_("Being reviewed"),
    "in_progress": N_("Being processed"),
    "needs_info": N_("More information needed: please visit the office"),
    "approved": N_("Approved"),
    "ready": N_("Ready: you can collect it"),
    "completed": N_("Completed"),
    "rejected": N_("Refused"),
    "declined": N_("Refused"),
}


def describe(info: Mapping[str, object] | None, lang: str) -> str:
    """The sentence shown and spoken for a status record (None: unknown code)."""
    if info is None:
        return tr(lang, "No application with this code was found on this kiosk.")
    state = info.get("state")
    portal = info.get("portal_status")
    if portal:
        msgid = PORTAL_STATUSES.get(str(portal))
        text = tr(lang, msgid) if msgid else str(portal)
        line = tr(lang, "Status: {status}", status=text)
        if info.get("note"):
            line += "\n" + str(info["note"])
        return line
    if state == "queued":
        return tr(lang, "Saved on this kiosk. It will be sent when the network is available.")
    if state == "rejected":
        reason = info.get("reason") or ""
        return tr(lang, "The portal did not accept the application: {reason}", reason=reason)
    if state == "sent":
        number = info.get("application_number")
        if number:
            return tr(lang, "Delivered to the service. Application number: {number}", number=number)
        return tr(lang, "Delivered to the service. Waiting for the first update.")
    return tr(lang, "Status: {status}", status=str(state))


class StatusScreen(KioskScreen):
    """Look up a tracking code."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.info: CodeStatus | None = None
        self.looked_up = False
        self.invalid = False
        self.failure: StoreError | None = None  # of the last lookup

    def body(self) -> ComposeResult:
        with Vertical(id="status"):
            yield TrLabel(N_("Check my application"), classes="screen-title")
            yield TrLabel(
                N_("Type the tracking code from your receipt, or scan its QR code."), classes="hint"
            )
            with Horizontal(id="status-entry"):
                yield Input(id="status-code", max_length=32, placeholder="ABC-2345-6")
                yield TrButton(N_("Check"), id="status-check", variant="primary")
            yield Static(id="status-result", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    def on_mount(self) -> None:
        self.query_one("#status-code", Input).focus()

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
            from kiosk.store import Store, StoreError

            self.invalid = False
            try:
                self.info = await self.kiosk.db.call(Store.status, code)
            except StoreError as exc:  # the app spoke it; the result line keeps it
                self.info, self.failure = None, exc
                self._show(speak=False)
                return
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
        result.update(Content(text))
        result.set_class(self.invalid or self.info is None or self.failure is not None, "-error")
        if speak:
            self.kiosk.say(text, private=True)  # a citizen's code and application

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.app.pop_screen()

"""What became of a vote or signature: queued, counted, pending, or refused and why.

The item is a queued submission: offline it waits ("will be sent"); once the portal
answers, the screen says it in the citizen's language: counted (verified), pending
(it counts once confirmed with a one-time code sent to the phone on record), or the
portal's refusal (`vote.already`, `petition.already`: `kiosk.reasons.say`). A pending
one can be confirmed here when online: "Send me a code", then the code.
"""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk import participation, reasons
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel
from sync.participation import ItemState, ask_code, check_code, item_state
from sync.transport import PortalError

QUEUED = N_("Saved. It will be sent to the portal when the kiosk is online.")
COUNTED = N_("Counted. Thank you for taking part!")
PENDING = N_(
    "Received, but not counted yet: confirm it with a code sent to the phone on record "
    "for your PINFL."
)
CONFIRMED = N_("Confirmed and counted. Thank you!")
SENT = N_("A code was sent to your phone ending in {hint}. Type it here.")
POLL_SECONDS = 0.5  # how often the outbox is read while the item is on its way


class ParticipationResultScreen(KioskScreen):
    """One queued vote or signature's fate, and its confirmation by code."""

    CSS_PATH = LATER_CSS

    def __init__(self, tracking_code: str, pinfl: str) -> None:
        super().__init__()
        self.tracking_code = tracking_code
        self.pinfl = pinfl
        self.item: ItemState | None = None
        self.message: tuple[str, dict[str, object]] | None = None  # after a code request
        self.error: PortalError | None = None
        self.confirmed = False
        self._said = ""

    def body(self) -> ComposeResult:
        with VerticalScroll(id="participation-result"):
            yield TrLabel(N_("Your vote or signature"), classes="screen-title")
            yield Static(id="result-text", markup=False)
            with Horizontal(id="code-row"):
                yield TrButton(N_("Send me a code"), id="send-code")
                yield TextBox(id="otp", max_length=8, placeholder="123456")
                yield TrButton(N_("Confirm"), id="confirm-code", variant="primary")
        with Horizontal(classes="nav"):
            yield TrButton(
                N_("Done"), suffix=" ✔", id="done", classes="nav-next", variant="primary"
            )

    async def on_mount(self) -> None:
        self.query_one("#done", Button).focus()
        await self.refresh_item()
        self.set_interval(POLL_SECONDS, self.refresh_item)

    async def refresh_item(self) -> None:
        try:
            self.item = await self.kiosk.db.call(item_state, self.tracking_code)
        except Exception:  # noqa: BLE001 - the store's failure was shown by the app
            return
        self._show()

    def apply_lang(self, lang: str) -> None:
        self._said = ""
        self._show()

    def text(self, lang: str) -> str:
        item = self.item
        if self.confirmed:
            text = tr(lang, CONFIRMED)
        elif item is None or item["outcome"] is None:
            text = tr(lang, QUEUED)
        elif item["outcome"] in ("rejected", "conflict"):
            text = reasons.say(lang, item["reason_code"], item["params"])
        elif item["counted"] == participation.PENDING:
            text = tr(lang, PENDING)
        else:
            text = tr(lang, COUNTED)
        error = self.error
        if error is not None and item is not None and item["reason_code"] is not None:
            if getattr(error, "reason_code", None) == item["reason_code"]:
                error = None  # the outbox already says this refusal
        if error is not None:
            text = f"{text}\n{error.message(lang)}"
        elif self.message is not None and not self.confirmed:
            text = f"{text}\n{tr(lang, self.message[0], **self.message[1])}"
        return text

    def pending(self) -> bool:
        item = self.item
        return (
            not self.confirmed
            and item is not None
            and item["outcome"] == "accepted"
            and item["counted"] == participation.PENDING
        )

    def _show(self) -> None:
        text = self.text(self.lang)
        self.query_one("#result-text", Static).update(text)
        self.query_one("#code-row").display = self.pending() and self.kiosk.online is True
        if text != self._said:
            self._said = text
            self.kiosk.say(text)

    @on(Button.Pressed, "#send-code")
    async def send(self) -> None:
        try:
            sent = await asyncio.to_thread(
                ask_code, self.kiosk.data_dir, self.pinfl, self.lang, self.tracking_code
            )
        except PortalError as exc:
            self.error = exc
        else:
            self.error = None
            self.message = (SENT, {"hint": sent["phone_hint"]})
            self.query_one("#otp", TextBox).focus()
        self._show()

    @on(TextBox.Submitted, "#otp")
    @on(Button.Pressed, "#confirm-code")
    async def confirm(self) -> None:
        code = self.query_one("#otp", TextBox).value.strip()
        try:
            await asyncio.to_thread(
                check_code, self.kiosk.data_dir, self.pinfl, code, self.tracking_code
            )
        except PortalError as exc:
            self.error = exc
            await self.refresh_item()  # a right code that cannot count: the outbox says why
        else:
            self.error = None
            self.confirmed = True
        self._show()

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        self.app.pop_screen()

"""The receipt: tracking code in large type, its QR code, documents to bring, spoken code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key, Resize
from textual.widgets import Button, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.bigcode import BigCode
from screens.widgets.qr import QRCode
from screens.widgets.tr import TrButton, TrLabel

if TYPE_CHECKING:
    from kiosk.receipt import Receipt


class ReceiptScreen(KioskScreen):
    """Shown once the submission is durably queued.

    With the submitted ``form`` (a ``kiosk.form.Form``), the form title and the
    documents to bring follow the app's language like every other text; without it,
    the receipt's own (the submission's language) are shown.
    """

    CSS_PATH = LATER_CSS

    def __init__(self, receipt: Receipt, form: Any = None) -> None:
        super().__init__()
        self.receipt = receipt
        self.form = form

    def body(self) -> ComposeResult:
        code = self.receipt.tracking_code
        with Horizontal(id="receipt"):
            with Vertical(id="receipt-qr-box"):
                yield QRCode(code, id="receipt-qr")
            with VerticalScroll(id="receipt-info"):
                yield TrLabel(N_("Your application is saved."), classes="receipt-title")
                yield TrLabel(N_("Tracking code"), classes="receipt-caption")
                # Large and spaced out, or only spaced when narrow: shown once.
                yield BigCode(code, id="receipt-big")
                yield Static(id="receipt-form", markup=False)
                yield TrLabel(N_("Documents to bring:"), classes="receipt-caption")
                yield Static(id="receipt-docs", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Hear the code again"), prefix="♪ ", id="hear", classes="nav-mid")
            yield TrButton(
                N_("Done"), suffix=" ✔", id="done", classes="nav-next", variant="primary"
            )

    def on_mount(self) -> None:
        self.query_one("#done", Button).focus()
        self.speak_code()

    SHORT_QUIET_ZONE = 2  # modules: under 24 rows the whole code still fits (60x20)

    def on_resize(self, event: Resize) -> None:
        """Under 24 rows (the three-row top bar, the actions below) the QR code keeps a
        two-module quiet zone, so that all of it is on screen and scans."""
        short = event.size.height < 24
        self.query_one(QRCode).set_border(self.SHORT_QUIET_ZONE if short else None)

    def apply_lang(self, lang: str) -> None:
        if self.form is not None:
            title, docs = self.form.title(lang), list(self.form.documents(lang))
        else:
            title, docs = self.receipt.form_title, self.receipt.documents
        self.query_one("#receipt-form", Static).update(Content(title))
        text = "\n".join(f"• {d}" for d in docs) if docs else tr(lang, "No documents needed.")
        self.query_one("#receipt-docs", Static).update(Content(text))

    def spoken(self, lang: str) -> str:
        """Saved, the tracking code character by character, the documents to bring."""
        from screens.spoken import sentences, spelled

        if self.form is not None:
            docs = list(self.form.documents(lang))
        else:
            docs = list(self.receipt.documents)
        bring = sentences(tr(lang, "Documents to bring:"), *docs) if docs else ""
        return sentences(
            tr(lang, "Your application is saved."),
            tr(lang, "Tracking code") + ": " + spelled(self.receipt.tracking_code, lang),
            bring or tr(lang, "No documents needed."),
        )

    def speak_code(self) -> None:
        # One utterance: a second speak() would cut the first one off.
        # Private: the code opens the citizen's application (status look-up).
        self.kiosk.say(self.spoken(self.lang), private=True)

    @on(Button.Pressed, "#hear")
    def _hear(self) -> None:
        self.speak_code()

    @on(Button.Pressed, "#done")
    def done(self) -> None:
        if self.is_current:
            self.kiosk.request_home(discard=False)

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.done()

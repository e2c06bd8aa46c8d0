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
from kiosk.tracking import format_code
from screens.base import LATER_CSS, VERTICAL_BREAKPOINTS, KioskScreen
from screens.widgets.bigcode import BigCode
from screens.widgets.qr import QRCode, qr_rows
from screens.widgets.tr import TrButton, TrLabel

if TYPE_CHECKING:
    from kiosk.receipt import Receipt

SHORT_ROWS = VERTICAL_BREAKPOINTS[1][0]  # the "-tall" layout's first row count (24)


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
                # The status page's link where the portal's public address is known,
                # else the bare code (kiosk.receipt.status_link; `fit_qr`); the code
                # printed under it.
                yield QRCode(self.receipt.tracking_code, id="receipt-qr")
                yield Static(format_code(code), id="receipt-qr-code", markup=False)
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
        self.fit_qr(self.size.height)
        self.speak_code()

    SHORT_QUIET_ZONE = 2  # modules: a scanner reads two where rows are few
    # Rows that are not the QR's: the top bar (3), the actions (3), the status bar and
    # the code printed under the QR (1 each).
    CHROME_ROWS = 8

    def on_resize(self, event: Resize) -> None:
        self.fit_qr(event.size.height)

    def fit_qr(self, height: int) -> None:
        """The largest QR that fits whole above the actions: the status page's link with
        the standard quiet zone, then with a two-module one, then the bare code's alike
        (the smallest when none fits: at 60x20 the code goes beside it). A QR that the
        buttons cut off reads as nothing at all."""
        room = height - self.CHROME_ROWS
        texts = dict.fromkeys((self.receipt.qr_text, self.receipt.tracking_code))
        options = [(text, border) for text in texts for border in (None, self.SHORT_QUIET_ZONE)]
        text, border = next(((t, b) for t, b in options if qr_rows(t, b) <= room), options[-1])
        self.query_one("#receipt-qr", QRCode).show(text, border)

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

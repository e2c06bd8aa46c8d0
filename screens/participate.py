"""Take part: the way to open-budget voting and to petitions, and what they share.

One job: choose between "Vote for an initiative" (Ochiq budjet) and "Petitions"
(Mening fikrim). `queue_participation` is how every participation screen queues its
item (a sealed submission of a `kiosk.participation` form, synced at once when online),
and `VerifyBox` the PINFL entry with, in operator mode, the operator's ID check.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.widgets import Button, Checkbox

from kiosk import participation
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel

INTRO = N_("Take part: vote for your district's initiatives, or start and sign petitions.")
ID_CHECKED = N_("I checked the citizen's ID document")
PINFL_HINT = N_("Your PINFL (14 digits, on your ID card)")
BAD_PINFL = N_("A PINFL has 14 digits. Please check it.")


class VerifyBox(Vertical):
    """The PINFL, and in operator mode the operator's record that they checked the ID
    document (only then does the item count at once: docs/participation.md)."""

    def __init__(self, operator: bool) -> None:
        super().__init__(classes="verify-box")
        self.operator = operator

    def compose(self) -> ComposeResult:
        yield TrLabel(PINFL_HINT, classes="hint")
        yield TextBox(id="pinfl", max_length=20, placeholder="12345678901234")
        if self.operator:
            yield Checkbox("", id="id-checked")  # labelled by `relabel` (apply_lang)

    def relabel(self, lang: str) -> None:
        if self.operator:
            self.query_one("#id-checked", Checkbox).label = tr(lang, ID_CHECKED)

    def pinfl(self) -> str | None:
        return participation.clean_pinfl(self.query_one("#pinfl", TextBox).value)

    def focus_pinfl(self) -> None:
        """Put the keys in the PINFL box: after a digit chose what to vote for or sign,
        a keyboard-only citizen types the PINFL at once, and Enter sends (the screen
        handles the box's ``TextBox.Submitted``)."""
        self.query_one("#pinfl", TextBox).focus()

    def checked(self) -> bool:
        return self.operator and self.query_one("#id-checked", Checkbox).value


async def queue_participation(
    screen: KioskScreen, form_id: str, answers: dict[str, object]
) -> str | None:
    """Queue the item durably (the store's thread); its tracking code, or None when the
    store refused (the app has shown and said why). Synced at once when online."""
    from kiosk.store import StoreError

    kiosk = screen.kiosk
    operator_id = getattr(kiosk.operator, "id", None)
    try:
        submission = await kiosk.db.call(
            participation.submit, form_id, answers, screen.lang, operator_id
        )
    except StoreError:
        return None
    if kiosk.online is True:
        kiosk.sync_now()
    return str(submission.tracking_code)


class ParticipateScreen(KioskScreen):
    """Choose: vote (1) or petitions (2)."""

    CSS_PATH = LATER_CSS

    def body(self) -> ComposeResult:
        with Vertical(id="participate"):
            yield TrLabel(N_("Take part"), classes="screen-title")
            yield TrLabel(INTRO, classes="hint")
            yield TrButton(N_("Vote for an initiative"), prefix="1  ", id="to-vote", classes="big")
            yield TrButton(N_("Petitions"), prefix="2  ", id="to-petitions", classes="big")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    def on_mount(self) -> None:
        self.query_one("#to-vote", Button).focus()
        self.kiosk.say(tr(self.lang, INTRO))

    @on(Button.Pressed, "#to-vote")
    def open_vote(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("vote"))

    @on(Button.Pressed, "#to-petitions")
    def open_petitions(self) -> None:
        self.app.push_screen(self.kiosk.new_screen("petitions"))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "1":
            event.stop()
            self.open_vote()
        elif event.key == "2":
            event.stop()
            self.open_petitions()
        elif event.key == "escape":
            event.stop()
            self.app.pop_screen()

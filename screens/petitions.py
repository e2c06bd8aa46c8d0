"""Petitions (Mening fikrim): the district's petitions with their progress, signing one,
and starting one (`PetitionStartScreen`).

The list comes from the portal when online (kept for offline reading). Each shows its
signatures against its review threshold (10,000 by default) and whether it is under
official review. Signing and starting queue items like a vote does, and their fate
is `screens.participation_result`'s.
"""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk import participation
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.participate import BAD_PINFL, VerifyBox, queue_participation
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel
from sync.participation import district_of, load_petitions
from sync.transport import Petition

NONE_YET = N_("There are no petitions in this district yet. You can start one.")
PICK = N_("Choose a petition to read it and sign it.")
OFFLINE = N_("Offline: the petitions as last received.")
STATES = {"open": N_("collecting signatures"), "under_review": N_("under official review")}
TITLE_MIN, TITLE_MAX, TEXT_MIN, TEXT_MAX = 10, 200, 30, 5000
BAD_PETITION = N_("Write a title of 10 to 200 characters and a text of 30 to 5000.")


def progress(petition: Petition, lang: str) -> str:
    return tr(
        lang,
        "{signatures} of {threshold} signatures, {state}",
        signatures=petition["signatures"],
        threshold=petition["threshold"],
        state=tr(lang, STATES.get(petition["state"], petition["state"])),
    )


class PetitionsScreen(KioskScreen):
    """The petitions (keys 1-9), the chosen one's text and progress, Sign; Start."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.petitions: list[Petition] = []
        self.live = False
        self.chosen: Petition | None = None
        self.problem: str | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="petitions"):
            yield TrLabel(N_("Petitions"), classes="screen-title")
            yield Static(id="petitions-note", classes="hint", markup=False)
            yield Vertical(id="petition-list")
            yield Static(id="petition-text", markup=False)
            yield VerifyBox(self.kiosk.mode == "operator" and self.kiosk.operator is not None)
            yield Static(id="petition-error", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            yield TrButton(N_("Start a petition"), id="start-petition", classes="nav-mid")
            yield TrButton(
                N_("Sign"), suffix=" ✔", id="sign", classes="nav-next", variant="success"
            )

    async def on_mount(self) -> None:
        self.petitions, self.live = await asyncio.to_thread(
            load_petitions, self.kiosk.data_dir, self.kiosk.online is True
        )
        buttons = [
            Button(Content(f"{n}  {p['title']}"), id=f"petition-{n}", classes="petition")
            for n, p in enumerate(self.petitions[:9], start=1)
        ]
        await self.query_one("#petition-list", Vertical).mount_all(buttons)
        (buttons[0] if buttons else self.query_one("#start-petition", Button)).focus()
        self._show(speak=True)

    def apply_lang(self, lang: str) -> None:
        self.query_one(VerifyBox).relabel(lang)
        self._show(speak=False)

    def _show(self, speak: bool) -> None:
        lang = self.lang
        if not self.petitions:
            note = tr(lang, NONE_YET)
        else:
            note = tr(lang, PICK if self.live else OFFLINE)
        self.query_one("#petitions-note", Static).update(note)
        text = ""
        if self.chosen is not None:
            text = f"{self.chosen['title']}\n{self.chosen['body']}\n{progress(self.chosen, lang)}"
        self.query_one("#petition-text", Static).update(text)
        error = self.query_one("#petition-error", Static)
        error.update(tr(lang, self.problem) if self.problem else "")
        error.set_class(self.problem is not None, "-error")
        if speak:
            self.kiosk.say(text or note)

    @on(Button.Pressed, ".petition")
    def _pick(self, event: Button.Pressed) -> None:
        self.pick(int((event.button.id or "petition-0").removeprefix("petition-")))

    def pick(self, number: int) -> None:
        if 1 <= number <= len(self.petitions[:9]):
            self.chosen = self.petitions[number - 1]
            self.problem = None
            self._show(speak=True)
            self.query_one(VerifyBox).focus_pinfl()

    @on(TextBox.Submitted, "#pinfl")
    async def _pinfl_entered(self) -> None:
        await self.sign()

    @on(Button.Pressed, "#sign")
    async def sign(self) -> None:
        verify = self.query_one(VerifyBox)
        pinfl = verify.pinfl()
        self.problem = PICK if self.chosen is None else BAD_PINFL if pinfl is None else None
        if self.problem is not None or self.chosen is None or pinfl is None:
            self._show(speak=False)
            self.kiosk.say(tr(self.lang, self.problem or PICK))
            return
        operator = getattr(self.kiosk.operator, "id", None) if verify.checked() else None
        answers = participation.sign_answers(self.chosen["petition_id"], pinfl, operator)
        code = await queue_participation(self, participation.SIGN_FORM, answers)
        if code is not None:
            self.app.switch_screen(self.kiosk.new_screen("participation_result", code, pinfl))

    @on(Button.Pressed, "#start-petition")
    def start(self) -> None:
        self.app.switch_screen(self.kiosk.new_screen("petition_start"))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if isinstance(self.focused, Input):
            return
        if event.key.isdigit() and event.key != "0":
            event.stop()
            self.pick(int(event.key))
        elif event.key == "escape":
            event.stop()
            self.app.pop_screen()


class PetitionStartScreen(KioskScreen):
    """A new petition: title, text, the starter's PINFL. Published once it arrives."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.problem: str | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="petition-start"):
            yield TrLabel(N_("Start a petition"), classes="screen-title")
            yield TrLabel(N_("Title"), classes="hint")
            yield TextBox(id="petition-title", max_length=TITLE_MAX)
            yield TrLabel(N_("What do you ask for, and why?"), classes="hint")
            yield TextBox(id="petition-body", max_length=TEXT_MAX)
            yield VerifyBox(self.kiosk.mode == "operator" and self.kiosk.operator is not None)
            yield Static(id="petition-start-error", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            yield TrButton(
                N_("Publish"), suffix=" ✔", id="publish", classes="nav-next", variant="success"
            )

    def on_mount(self) -> None:
        self.query_one("#petition-title", TextBox).focus()
        self.kiosk.say(tr(self.lang, "Start a petition"))

    def apply_lang(self, lang: str) -> None:
        self.query_one(VerifyBox).relabel(lang)
        error = self.query_one("#petition-start-error", Static)
        error.update(tr(lang, self.problem) if self.problem else "")
        error.set_class(self.problem is not None, "-error")

    @on(Button.Pressed, "#publish")
    async def publish(self) -> None:
        title = " ".join(self.query_one("#petition-title", TextBox).value.split())
        text = self.query_one("#petition-body", TextBox).value.strip()
        verify = self.query_one(VerifyBox)
        pinfl = verify.pinfl()
        if not (TITLE_MIN <= len(title) <= TITLE_MAX and TEXT_MIN <= len(text) <= TEXT_MAX):
            self.problem = BAD_PETITION
        elif pinfl is None:
            self.problem = BAD_PINFL
        else:
            self.problem = None
        if self.problem is not None or pinfl is None:
            self.apply_lang(self.lang)
            self.kiosk.say(tr(self.lang, self.problem or BAD_PINFL))
            return
        district = await asyncio.to_thread(district_of, self.kiosk.data_dir)
        operator = getattr(self.kiosk.operator, "id", None) if verify.checked() else None
        answers = participation.start_answers(district, title, text, pinfl, operator)
        code = await queue_participation(self, participation.START_FORM, answers)
        if code is not None:
            self.app.switch_screen(self.kiosk.new_screen("participation_result", code, pinfl))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

"""Open-budget voting (Ochiq budjet): the district's initiatives, read aloud, and a vote.

The seasons come from the portal when online (and are kept, so a kiosk that goes
offline still shows them and queues votes, deduplicated at the portal on sync). The
citizen picks an initiative (its title and description are shown and spoken), types
their PINFL and votes; in operator mode the operator may record the ID check, which
makes the vote count at once. What became of it is `screens.participation_result`'s.
"""

from __future__ import annotations

import asyncio

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Static

from kiosk import participation
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.participate import BAD_PINFL, VerifyBox, queue_participation
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel
from sync.participation import live_tally, load_seasons
from sync.transport import Season

NO_SEASON = N_("There is no open vote in this district now.")
OFFLINE_COPY = N_("Offline: the initiatives as last received. Your vote will be sent later.")
CHOOSE = N_("Choose an initiative to hear about it, then vote.")
NO_TALLY = N_("Live results are shown when the kiosk is online.")


def text_in(texts: dict[str, str], lang: str) -> str:
    """A season's text in ``lang``: uz_Cyrl, uz_Latn and ru are published; others
    (kaa, en) read the Latin Uzbek one."""
    return texts.get(lang) or texts.get("uz_Latn") or next(iter(texts.values()), "")


class VoteScreen(KioskScreen):
    """The season's initiatives (keys 1-9), the chosen one's description, the vote."""

    CSS_PATH = LATER_CSS

    def __init__(self) -> None:
        super().__init__()
        self.season: Season | None = None
        self.live = False
        self.chosen: str | None = None
        self.problem: str | None = None  # a msgid shown under the form

    def body(self) -> ComposeResult:
        with VerticalScroll(id="vote"):
            yield Static(id="vote-title", classes="screen-title", markup=False)
            yield Static(id="vote-note", classes="hint", markup=False)
            yield Vertical(id="vote-initiatives")
            yield Static(id="vote-description", markup=False)
            yield VerifyBox(self.kiosk.mode == "operator" and self.kiosk.operator is not None)
            yield Static(id="vote-error", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")
            yield TrButton(N_("Results"), id="results", classes="nav-mid")
            yield TrButton(
                N_("Vote"), suffix=" ✔", id="cast", classes="nav-next", variant="success"
            )

    async def on_mount(self) -> None:
        seasons, self.live = await asyncio.to_thread(
            load_seasons, self.kiosk.data_dir, self.kiosk.online is True
        )
        self.season = seasons[0] if seasons else None
        await self._list()
        self._show(speak=True)

    async def _list(self) -> None:
        box = self.query_one("#vote-initiatives", Vertical)
        await box.remove_children()
        if self.season is None:
            return
        buttons = [
            Button(
                Content(f"{n}  {text_in(i['titles'], self.lang)}"),
                id=f"init-{n}",
                classes="initiative",
            )
            for n, i in enumerate(self.season["initiatives"][:9], start=1)
        ]
        await box.mount_all(buttons)
        if buttons:
            buttons[0].focus()

    def apply_lang(self, lang: str) -> None:
        self.query_one(VerifyBox).relabel(lang)
        if self.season is not None:
            for n, item in enumerate(self.season["initiatives"][:9], start=1):
                for button in self.query(f"#init-{n}").results(Button):
                    button.label = Content(f"{n}  {text_in(item['titles'], lang)}")
        self._show(speak=False)

    def _initiative(self) -> dict[str, object] | None:
        if self.season is None or self.chosen is None:
            return None
        for item in self.season["initiatives"]:
            if item["id"] == self.chosen:
                return dict(item)
        return None

    def _show(self, speak: bool) -> None:
        lang = self.lang
        title = self.query_one("#vote-title", Static)
        note = self.query_one("#vote-note", Static)
        if self.season is None:
            title.update(tr(lang, NO_SEASON))
            note.update("")
            if speak:
                self.kiosk.say(tr(lang, NO_SEASON))
            return
        title.update(text_in(self.season["titles"], lang))
        note.update(tr(lang, CHOOSE if self.live else OFFLINE_COPY))
        chosen = self._initiative()
        description = ""
        if chosen is not None:
            titles = chosen["titles"]
            texts = chosen["descriptions"]
            assert isinstance(titles, dict) and isinstance(texts, dict)
            description = f"{text_in(titles, lang)}\n{text_in(texts, lang)}"
        self.query_one("#vote-description", Static).update(description)
        error = self.query_one("#vote-error", Static)
        error.update(tr(lang, self.problem) if self.problem else "")
        error.set_class(self.problem is not None, "-error")
        if speak:
            spoken = description or f"{text_in(self.season['titles'], lang)}. {note.content}"
            self.kiosk.say(spoken)

    @on(Button.Pressed, ".initiative")
    def _pick(self, event: Button.Pressed) -> None:
        self.pick(int((event.button.id or "init-0").removeprefix("init-")))

    def pick(self, number: int) -> None:
        if self.season is None or not 1 <= number <= len(self.season["initiatives"][:9]):
            return
        self.chosen = self.season["initiatives"][number - 1]["id"]
        self.problem = None
        self._show(speak=True)
        self.query_one(VerifyBox).focus_pinfl()

    @on(TextBox.Submitted, "#pinfl")
    async def _pinfl_entered(self) -> None:
        await self.cast()

    @on(Button.Pressed, "#cast")
    async def cast(self) -> None:
        verify = self.query_one(VerifyBox)
        pinfl = verify.pinfl()
        if self.season is None or self.chosen is None:
            self.problem = CHOOSE
        elif pinfl is None:
            self.problem = BAD_PINFL
        else:
            self.problem = None
        if self.problem is not None:
            self._show(speak=False)
            self.kiosk.say(tr(self.lang, self.problem))
            return
        assert self.season is not None and self.chosen is not None and pinfl is not None
        operator = getattr(self.kiosk.operator, "id", None) if verify.checked() else None
        answers = participation.vote_answers(self.season["season_id"], self.chosen, pinfl, operator)
        code = await queue_participation(self, participation.VOTE_FORM, answers)
        if code is not None:
            self.app.switch_screen(self.kiosk.new_screen("participation_result", code, pinfl))

    @on(Button.Pressed, "#results")
    def results(self) -> None:
        if self.season is not None:
            self.app.push_screen(self.kiosk.new_screen("tally", self.season))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key.isdigit() and event.key != "0" and not isinstance(self.focused, VerifyBox):
            from textual.widgets import Input

            if isinstance(self.focused, Input):
                return
            event.stop()
            self.pick(int(event.key))
        elif event.key == "escape":
            event.stop()
            self.app.pop_screen()


class TallyScreen(KioskScreen):
    """A season's live results (verified votes; how many wait for confirmation)."""

    CSS_PATH = LATER_CSS

    def __init__(self, season: Season) -> None:
        super().__init__()
        self.season = season
        self.votes: dict[str, int] | None = None
        self.pending = 0

    def body(self) -> ComposeResult:
        with VerticalScroll(id="tally"):
            yield TrLabel(N_("Live results"), classes="screen-title")
            yield Static(id="tally-rows", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    async def on_mount(self) -> None:
        self.query_one("#back", Button).focus()
        if self.kiosk.online is True:
            found = await asyncio.to_thread(
                live_tally, self.kiosk.data_dir, self.season["season_id"]
            )
            if found is not None:
                self.votes, self.pending = found["votes"], found["pending"]
        self._show(speak=True)

    def apply_lang(self, lang: str) -> None:
        self._show(speak=False)

    def _show(self, speak: bool) -> None:
        lang = self.lang
        if self.votes is None:
            text = tr(lang, NO_TALLY)
        else:
            lines = [
                tr(
                    lang,
                    "{title}: {votes} votes",
                    title=text_in(i["titles"], lang),
                    votes=self.votes.get(i["id"], 0),
                )
                for i in self.season["initiatives"]
            ]
            lines.append(tr(lang, "Waiting for confirmation: {count}", count=self.pending))
            text = "\n".join(lines)
        self.query_one("#tally-rows", Static).update(text)
        if speak:
            self.kiosk.say(text)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.app.pop_screen()

"""Operator PIN login (kiosk.operators: scrypt, lock-out), and first-run creation.

Used to enter operator mode and, in citizen mode, as the only way out of the app
(``purpose="exit"``): ctrl+q / ctrl+c open this screen instead of quitting. Creating
the first operator is offered in operator mode only: in citizen mode it would let
whoever stands at the kiosk make themselves an operator and leave to the shell
(citizen mode does not start without an operator: screens/commands.py).

Keys come here in order (``KeysInOrder``): Enter moves the focus to the next box at
once, so a name, Enter and a PIN typed in one burst each land in their own box.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KeysInOrder, KioskScreen
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel

Purpose = Literal["login", "exit"]

NO_OPERATOR = N_(
    "There is no operator yet. Add one from the machine's shell: kiosk operator add NAME"
)


@dataclass(frozen=True)
class OperatorInfo:
    """Who is logged in."""

    id: int
    name: str


class OperatorLoginScreen(KeysInOrder, KioskScreen):
    """Name + PIN; or, when no operator exists yet, name + PIN twice to create one."""

    CALL_OPERATOR = False  # the operator's own screen

    CSS_PATH = LATER_CSS

    def __init__(self, purpose: Purpose = "login") -> None:
        super().__init__()
        self.purpose: Purpose = purpose
        self.creating = False
        # Logged in with a PIN shorter than PIN_MIN: a new one is asked before going on.
        self.pending: OperatorInfo | None = None
        self.message: tuple[str, dict[str, Any]] | None = None

    def body(self) -> ComposeResult:
        with Vertical(id="login", classes="form-box"):
            yield TrLabel(N_("Operator login"), id="login-title", classes="screen-title")
            yield TrLabel(N_("Name"), classes="field-label")
            # TextBox: never selects on focus, which comes after keys already typed in a
            # burst (KeysInOrder) and would select them for the next key to replace.
            yield TextBox(id="op-name", max_length=64)
            yield TrLabel(N_("PIN"), classes="field-label")
            yield TextBox(
                id="op-pin",
                password=True,
                restrict=r"[0-9]*",
                max_length=12,
            )
            yield TrLabel(N_("PIN again"), id="pin2-label", classes="field-label")
            yield TextBox(
                id="op-pin2",
                password=True,
                restrict=r"[0-9]*",
                max_length=12,
            )
            yield Static(id="login-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield TrButton(N_("Log in"), id="login-go", variant="primary")
                if self.purpose == "exit":
                    yield TrButton(N_("Cancel"), id="login-cancel")

    async def on_mount(self) -> None:
        from kiosk.operators import has_operators
        from kiosk.store import StoreError

        try:
            none_yet = not await self.kiosk.db.call(has_operators)
        except StoreError as exc:  # shown by the app; kept on this screen too
            none_yet = False
            self._say(exc.msgid, **exc.kwargs)
        # Never in citizen mode: only an existing operator's PIN leads out of the app.
        self.creating = none_yet and self.purpose == "login"
        if none_yet and self.purpose == "exit":
            self._say(NO_OPERATOR)
        for widget_id in ("#pin2-label", "#op-pin2"):
            self.query_one(widget_id).display = self.creating
        title = self.query_one("#login-title", TrLabel)
        go = self.query_one("#login-go", TrButton)
        if self.creating:
            title.set_msg(N_("No operator yet: create the first one"))
            go.set_msg(N_("Create operator"))
        elif self.purpose == "exit":
            title.set_msg(N_("Operator PIN needed to close the kiosk"))
        self.set_focus(self.query_one("#op-name", Input))

    def apply_lang(self, lang: str) -> None:
        box = self.query_one("#login-message", Static)
        if self.message is None:
            box.update("")
        else:
            msgid, kw = self.message
            box.update(Content(tr(lang, msgid, **kw)))

    def _say(self, msgid: str, **kw: Any) -> None:
        self.message = (msgid, kw)
        self.apply_lang(self.lang)

    @on(Input.Submitted)
    async def _submitted(self, event: Input.Submitted) -> None:
        await self._enter(event.input)

    async def _enter(self, box: Input) -> None:
        """Enter in a box: on to the next one (now, before the next key), or log in."""
        order = ["op-name", "op-pin"] + (["op-pin2"] if self.creating or self.pending else [])
        current = box.id or ""
        if current in order and current != order[-1]:
            self.set_focus(self.query_one(f"#{order[order.index(current) + 1]}", Input))
        else:
            await self.submit()

    @on(Button.Pressed, "#login-go")
    async def submit(self) -> None:
        from kiosk.operators import OperatorError, add_operator, login
        from kiosk.store import StoreError

        if self.pending is not None:
            await self._change_pin(self.pending)
            return
        name = self.query_one("#op-name", Input).value.strip()
        pin = self.query_one("#op-pin", Input).value
        if not name or not pin:
            self._say(N_("Enter your name and PIN."))
            return
        if self.creating and self.purpose == "login":
            if pin != self.query_one("#op-pin2", Input).value:
                self._say(N_("The two PINs are not the same."))
                return
            try:
                await self.kiosk.db.call(add_operator, name, pin)
            except (OperatorError, StoreError) as exc:
                self._say(exc.msgid, **exc.kwargs)
                return
        now = self.kiosk.clock.now()
        try:
            result = await self.kiosk.db.call(login, name, pin, now)
        except StoreError as exc:  # a login records attempts: it needs a writable store
            self._say(exc.msgid, **exc.kwargs)
            return
        self.query_one("#op-pin", Input).value = ""
        if result.ok and result.must_change:
            assert result.operator_id is not None  # a login that succeeded names its operator
            self._ask_new_pin(OperatorInfo(result.operator_id, name))
        elif result.ok:
            assert result.operator_id is not None  # a login that succeeded names its operator
            await self._logged_in(OperatorInfo(result.operator_id, name))
        elif result.reason == "locked":
            self._say(
                N_("Too many wrong PINs. Try again in {minutes} min."),
                minutes=_minutes_left(result.locked_until, now),
            )
        elif result.reason == "wrong_pin" and result.attempts_left is not None:
            self._say(N_("Wrong PIN. Attempts left: {n}."), n=result.attempts_left)
        else:
            self._say(N_("Wrong name or PIN."))

    def _ask_new_pin(self, operator: OperatorInfo) -> None:
        """The PIN was right but too short (set before PINs had 6 digits): ask a new one."""
        from kiosk.operators import PIN_MAX, PIN_MIN

        self.pending = operator
        self.query_one("#op-name", Input).disabled = True
        for widget_id in ("#pin2-label", "#op-pin2"):
            self.query_one(widget_id).display = True
        self.query_one("#login-title", TrLabel).set_msg(N_("Choose a new PIN"))
        self.query_one("#login-go", TrButton).set_msg(N_("Change PIN"))
        self._say(
            N_("Your PIN is too short. Choose a new one of {min} to {max} digits."),
            min=PIN_MIN,
            max=PIN_MAX,
        )
        self.set_focus(self.query_one("#op-pin", Input))

    async def _change_pin(self, operator: OperatorInfo) -> None:
        from kiosk.operators import OperatorError, change_pin
        from kiosk.store import StoreError

        pin = self.query_one("#op-pin", Input).value
        again = self.query_one("#op-pin2", Input).value
        if pin != again:
            self._say(N_("The two PINs are not the same."))
            return
        try:
            await self.kiosk.db.call(change_pin, operator.id, operator.name, pin)
        except (OperatorError, StoreError) as exc:
            self._say(exc.msgid, **exc.kwargs)
            return
        await self._logged_in(operator)

    async def _logged_in(self, operator: OperatorInfo) -> None:
        kiosk = self.kiosk
        if self.purpose == "exit":
            kiosk.exit(0)
            return
        kiosk.operator = operator
        kiosk.operator_name = operator.name
        kiosk.switch_screen(kiosk.new_screen("dashboard"))  # not awaited: replaces this screen

    @on(Button.Pressed, "#login-cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    async def handle_key(self, event: Key) -> bool:
        focused = self.focused
        if event.key == "escape" and self.purpose == "exit":
            self.app.pop_screen()
            return True
        if event.key != "enter":
            return False
        if isinstance(focused, Input):
            await self._enter(focused)
            return True
        if isinstance(focused, Button) and focused.id == "login-go":
            await self.submit()
            return True
        return False  # Cancel: its own binding presses it


def _minutes_left(until: datetime | None, now: datetime) -> int:
    if until is None:
        return 1
    return max(1, int((until - now).total_seconds() + 59) // 60)

"""Appeal a decision (issue 16, docs/appeals.md): the citizen types the tracking code
of a refused application (or one left without a decision past its deadline), sees and
hears the decision and its reason explained, gives their PINFL (only the applicant may
appeal: the portal compares it with the application's; in operator mode the operator
may record that they checked the ID document, `VerifyBox`), writes the grounds, and
gets a receipt with the appeal's own tracking code.

The appeal is an ordinary queued, sealed submission of the bundled form
``decision_appeal`` (kind ``appeal``): it goes through the same outbox and sync, and
the portal links it to the application or refuses it with a reason the kiosk says
like any other. Whether an application may be appealed is the portal's to judge
(the live look-up's ``appealable``); offline, a refusal pulled earlier is enough to
write the appeal, and the portal judges it when it arrives.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Input, Static

from kiosk import decisions, tracking
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.participate import BAD_PINFL, VerifyBox
from screens.status import look_up_in_thread
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel
from sync.lookup import appealable, describe

if TYPE_CHECKING:
    from kiosk.outbox import CodeStatus

APPEAL_FORM = decisions.APPEAL_FORM
ASK_PINFL = N_("Only the applicant may appeal. Type your PINFL: the one given in the application.")
ASK_CODE = N_("Type the tracking code of the application you want to appeal.")
ASK_GROUNDS = N_("Why do you think the decision is wrong? Write it in your own words.")
NOT_APPEALABLE = N_(
    "This application cannot be appealed: it was not refused and is not past its deadline."
)
ALREADY = N_("This decision has already been appealed.")
CANNOT_CHECK = N_(
    "The portal cannot be reached to check this application. Try again later, or ask the operator."
)
INVALID = N_("This is not a valid tracking code. Please check it and try again.")


class AppealScreen(KioskScreen):
    """Find the application, see its decision, write the grounds, send."""

    CSS_PATH = LATER_CSS

    def __init__(self, code: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.info: CodeStatus | None = None
        self.live = False
        self.message: str | None = None  # a msgid shown instead of the decision
        self.sending = False
        self.problem: str | None = None  # the grounds' error, in the current language

    def body(self) -> ComposeResult:
        with VerticalScroll(id="appeal"):
            yield TrLabel(N_("Appeal a decision"), classes="screen-title")
            yield TrLabel(ASK_CODE, classes="hint")
            with Horizontal(id="appeal-entry"):
                yield TextBox(id="appeal-code", max_length=32, placeholder="ABC-2345-6")
                yield TrButton(N_("Find"), id="appeal-find", variant="primary")
            yield Static(id="appeal-decision", markup=False)
            yield TrLabel(ASK_PINFL, id="appeal-ask-pinfl", classes="hint")
            yield VerifyBox(self.kiosk.mode == "operator" and self.kiosk.operator is not None)
            yield TrLabel(ASK_GROUNDS, id="appeal-ask", classes="hint")
            yield TextBox(id="appeal-grounds", max_length=2000)
            yield Static(id="appeal-problem", markup=False)
            yield TrButton(N_("Send the appeal"), id="appeal-send", variant="success")
        with Horizontal(classes="nav"):
            yield TrButton(N_("Back"), prefix="◀ ", id="back", classes="nav-back")

    async def on_mount(self) -> None:
        self._grounds_shown(False)
        box = self.query_one("#appeal-code", Input)
        if self.code:
            box.value = tracking.format_code(self.code)
            await self.find()
        else:
            box.focus()
            self.kiosk.say(tr(self.lang, ASK_CODE))

    def apply_lang(self, lang: str) -> None:
        self.query_one(VerifyBox).relabel(lang)
        self._show(speak=False)

    def _grounds_shown(self, shown: bool) -> None:
        for selector in (
            "#appeal-ask-pinfl",
            "VerifyBox",
            "#appeal-ask",
            "#appeal-grounds",
            "#appeal-problem",
            "#appeal-send",
        ):
            self.query_one(selector).display = shown

    @on(Input.Submitted, "#appeal-code")
    @on(Button.Pressed, "#appeal-find")
    async def find(self) -> None:
        raw = self.query_one("#appeal-code", Input).value
        code = tracking.normalize(raw)
        self.info, self.live, self.message = None, False, None
        if code is None or not tracking.is_valid(code):
            self.message = INVALID
        else:
            kiosk = self.kiosk
            result = await asyncio.to_thread(
                look_up_in_thread, kiosk.data_dir, code, self.lang, kiosk.online is True
            )
            self.code = code
            self.info = result.info if result is not None else None
            self.live = bool(result and result.live)
            if self.info is not None and not appealable(self.info, self.live):
                already = self.live and self.info.get("appealable") is False
                rejected = self.info.get("portal_status") == "rejected"
                if already and (rejected or self.info.get("stalled") is True):
                    self.message = ALREADY
                elif self.live or rejected:
                    self.message = NOT_APPEALABLE
                else:
                    self.message = CANNOT_CHECK
        self._show(speak=True)

    def _decision_text(self, lang: str) -> str:
        if self.info is None and self.message is None:
            return describe(None, lang)
        if self.message is not None and self.info is None:
            return tr(lang, self.message)
        text = describe(self.info, lang)
        if self.message is not None:
            text += "\n" + tr(lang, self.message)
        return text

    def _show(self, speak: bool) -> None:
        shown = self.query_one("#appeal-decision", Static)
        if self.code is None and self.message is None:
            shown.update("")
            return
        lang = self.lang
        text = self._decision_text(lang)
        ok = self.info is not None and self.message is None
        shown.update(Content(text))
        shown.set_class(not ok, "-error")
        self._grounds_shown(ok)
        problem = self.query_one("#appeal-problem", Static)
        problem.update(Content(self.problem or ""))
        if ok:
            self.query_one("#pinfl", Input).focus()
        if speak:
            spoken = f"{text}\n{tr(lang, ASK_PINFL)}\n{tr(lang, ASK_GROUNDS)}" if ok else text
            self.kiosk.say(spoken, private=True)  # a citizen's application and decision

    @on(Input.Submitted, "#pinfl")
    def _pinfl_entered(self) -> None:
        self.query_one("#appeal-grounds", Input).focus()

    @on(Input.Submitted, "#appeal-grounds")
    @on(Button.Pressed, "#appeal-send")
    async def send(self) -> None:
        """Check the grounds as the form does, queue the appeal, show its receipt."""
        from kiosk.catalog import Catalog, CatalogError
        from kiosk.engine_json import validate_answers
        from kiosk.receipt import build_receipt
        from kiosk.store import StoreError

        if self.sending or self.code is None or self.info is None:
            return
        grounds = self.query_one("#appeal-grounds", Input).value.strip()
        lang = self.lang
        verify = self.query_one(VerifyBox)
        pinfl = verify.pinfl()
        if pinfl is None:
            self._fail(tr(lang, BAD_PINFL), focus="#pinfl")
            return
        operator_id = getattr(self.kiosk.operator, "id", None)
        checked = operator_id if verify.checked() else None
        answers = decisions.appeal_answers(tracking.format_code(self.code), pinfl, grounds, checked)
        try:
            form: Any = await self.kiosk.db.catalog(Catalog.get, APPEAL_FORM)
        except (CatalogError, StoreError) as exc:  # said, never a crash
            error = exc.message(lang)
            self._fail(tr(lang, "Could not save the application: {error}", error=error))
            return
        payload, errors = validate_answers(form, answers, lang)
        if errors:
            wrong = "#pinfl" if errors[0].field == "pinfl" else "#appeal-grounds"
            self._fail(errors[0].message, focus=wrong)
            return
        self.sending = True
        try:
            submission = await self.kiosk.db.call(
                decisions.submit_appeal, form, payload, lang, operator_id
            )
        except StoreError as exc:
            self.sending = False
            self._fail(tr(lang, "Could not save the application: {error}", error=exc.message(lang)))
            return
        receipt = build_receipt(form, submission, lang, self.kiosk.config.portal_public_url)
        await self.kiosk.refresh_queue()
        self.app.switch_screen(self.kiosk.new_screen("receipt", receipt, form))
        if self.kiosk.online:
            self.kiosk.sync_now()

    def _fail(self, text: str, focus: str = "#appeal-grounds") -> None:
        self.problem = text
        problem = self.query_one("#appeal-problem", Static)
        problem.update(Content(text))
        problem.set_class(True, "-error")
        self.kiosk.say(text)
        self.query_one(focus, Input).focus()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.app.pop_screen()

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.app.pop_screen()

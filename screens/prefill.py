"""Once-only prefill, operator mode only (issue 16, docs/once-only.md).

Shown after an operator chooses a service whose form names registry fields (its
``prefill`` column), before the first question. The operator types the citizen's
PINFL, records that they checked the citizen's ID document and that the citizen
consents to the look-up of the fields listed (both audited: kiosk/prefill_records.py),
then "Fill from the registry" asks the portal in a worker (the screen stays live: the
operator may skip meanwhile). The answers found fill the matching questions, marked
"From the registry" there and on the review; anything else (offline, refused, nobody
found) starts the questions as usual, with a short notice. A citizen's self-service
visit never comes here (`wants_prefill`).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.events import Key
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from kiosk import prefill, validators
from kiosk.i18n import N_, tr
from screens.base import LATER_CSS, KioskScreen
from screens.widgets.textbox import TextBox
from screens.widgets.tr import TrButton, TrLabel

if TYPE_CHECKING:
    from screens.app import KioskApp
    from screens.visit import Visit
    from sync.prefill import Asked

# How each registry field is named to the citizen.
FIELD_NAMES: dict[str, str] = {
    "person.full_name": N_("full name"),
    "person.birth_date": N_("date of birth"),
    "person.address": N_("address"),
    "person.phone": N_("phone number"),
    "person.benefit_status": N_("benefit status"),
    "person.family": N_("family members"),
}
DOCUMENT_NAMES: dict[str, str] = {"id_card": N_("ID card"), "passport": N_("Passport")}
ASKING = N_("Asking the state registry…")


def wants_prefill(kiosk: KioskApp, visit: Visit) -> bool:
    """Operator mode, an operator logged in, a form that names registry fields, a new
    visit (not a fix of a rejected item): the only case the registry is offered."""
    return (
        kiosk.mode == "operator"
        and kiosk.operator is not None
        and visit.resubmits is None
        and bool(prefill.form_fields(visit.form.walk()))
    )


def fill(visit: Visit, pinfl: str, asked: Asked) -> list[str]:
    """Put the registry's values into the matching questions (and the PINFL typed into
    the form's PINFL question); the names of the questions filled from the registry."""
    session = visit.session
    for q in visit.form.walk():
        if q.kind == "pinfl" and not q.repeats and session.value(q.name) in (None, ""):
            session.set(q.name, pinfl)  # typed by the operator: not "from the registry"
    answer = asked.answer
    if answer is None or not answer["found"]:
        return []
    from screens.visit import Prefilled

    filled: dict[str, tuple[str, object]] = {}
    for name, field in prefill.form_fields(visit.form.walk()).items():
        if field not in answer["values"]:
            continue
        value = answer["values"][field]
        session.set(name, prefill.as_answer(field, value))
        filled[name] = (field, value)
    as_payload = session.payload()  # each answer as the submission would carry it
    for name, (field, value) in filled.items():
        visit.prefilled[name] = Prefilled(field, value, session.value(name), as_payload.get(name))
    visit.prefill_lookup_id = answer["lookup_id"]
    return list(filled)


class PrefillScreen(KioskScreen):
    """ID check, consent, PINFL; then the registry, or the questions as usual."""

    CSS_PATH = LATER_CSS

    def __init__(self, visit: Visit) -> None:
        super().__init__()
        self.visit = visit
        self.fields = list(dict.fromkeys(prefill.form_fields(visit.form.walk()).values()))
        self.lookup_id = str(uuid.uuid4())
        self.asking = False
        self.done = False
        self.problem: str | None = None  # msgid of what is missing

    def body(self) -> ComposeResult:
        with VerticalScroll(id="prefill"):
            yield TrLabel(N_("Fill from the state registry"), classes="screen-title")
            yield Static(id="prefill-form", markup=False)
            yield Static(id="prefill-fields", markup=False)
            yield TrLabel(N_("The citizen's PINFL"), classes="hint")
            yield TextBox(id="prefill-pinfl", max_length=20, placeholder="12345678901234")
            with RadioSet(id="prefill-document"):
                for code in prefill.DOCUMENTS:
                    yield RadioButton("", id=f"doc-{code}", value=code == prefill.DOCUMENTS[0])
            yield Checkbox("", id="prefill-id-checked")
            yield Checkbox("", id="prefill-consent")
            yield Static(id="prefill-status", markup=False)
        with Horizontal(classes="nav"):
            yield TrButton(N_("Ask the questions instead"), prefix="◀ ", id="prefill-skip")
            yield TrButton(
                N_("Fill from the registry"), suffix=" ▶", id="prefill-fetch", variant="primary"
            )

    def on_mount(self) -> None:
        self.query_one("#prefill-pinfl", Input).focus()
        self.kiosk.say(self._spoken(), private=False)

    def _fields_text(self, lang: str) -> str:
        names = ", ".join(tr(lang, FIELD_NAMES[f]) for f in self.fields)
        return tr(lang, "The registry can fill: {fields}.", fields=names)

    def _spoken(self) -> str:
        lang = self.lang
        return ". ".join(
            [
                tr(lang, "Fill from the state registry"),
                self._fields_text(lang),
                tr(lang, "Only after checking the ID document, and with the citizen's consent."),
            ]
        )

    def apply_lang(self, lang: str) -> None:
        self.query_one("#prefill-form", Static).update(Content(self.visit.form.title(lang)))
        self.query_one("#prefill-fields", Static).update(Content(self._fields_text(lang)))
        for code in prefill.DOCUMENTS:
            self.query_one(f"#doc-{code}", RadioButton).label = tr(lang, DOCUMENT_NAMES[code])
        self.query_one("#prefill-id-checked", Checkbox).label = tr(
            lang, "I checked the citizen's ID document (the photo and the PINFL)"
        )
        self.query_one("#prefill-consent", Checkbox).label = tr(
            lang, "The citizen agrees that the kiosk asks the state registry for these details"
        )
        status = ""
        if self.asking:
            status = tr(lang, ASKING)
        elif self.problem:
            status = tr(lang, self.problem)
        self.query_one("#prefill-status", Static).update(Content(status))

    def _document(self) -> str:
        pressed = self.query_one("#prefill-document", RadioSet).pressed_button
        return (pressed.id or "doc-id_card").removeprefix("doc-") if pressed else "id_card"

    def _missing(self, pinfl: str) -> str | None:
        if not validators.is_valid_pinfl(pinfl):
            return N_("Type the citizen's PINFL (14 digits) as on the ID document.")
        if not self.query_one("#prefill-id-checked", Checkbox).value:
            return N_("First check the citizen's ID document and tick the box.")
        if not self.query_one("#prefill-consent", Checkbox).value:
            return N_("The registry is asked only with the citizen's consent.")
        return None

    @on(Input.Submitted, "#prefill-pinfl")
    @on(Button.Pressed, "#prefill-fetch")
    async def fetch(self) -> None:
        """Record the ID check and the consent (audited), then ask in a worker."""
        from kiosk.prefill_records import record_checks

        if self.asking or self.done:
            return
        pinfl = validators.normalize_pinfl(self.query_one("#prefill-pinfl", Input).value)
        self.problem = self._missing(pinfl)
        if self.problem is not None:
            self.apply_lang(self.lang)
            self.kiosk.say(tr(self.lang, self.problem))
            return
        operator_id = getattr(self.kiosk.operator, "id", None)
        document = self._document()
        consented_at = await self.kiosk.db.call(
            record_checks,
            operator_id,
            self.lookup_id,
            self.visit.form.id,
            document,
            self.fields,
        )
        self.asking = True
        self.query_one("#prefill-fetch", Button).disabled = True
        self.apply_lang(self.lang)
        self.kiosk.say(tr(self.lang, ASKING))
        who = str(operator_id) if operator_id is not None else "operator"
        request = {
            "lookup_id": self.lookup_id,
            "pinfl": pinfl,
            "purpose": prefill.PURPOSE,
            "form_id": self.visit.form.id,
            "fields": self.fields,
            "consent": {"given": True, "at": consented_at, "operator_id": who},
            "id_check": {
                "method": prefill.ID_CHECK,
                "document": document,
                "operator_id": who,
                "at": consented_at,
            },
        }
        self.run_worker(self._ask(pinfl, request), group="prefill", exclusive=True)

    async def _ask(self, pinfl: str, request: Any) -> None:
        from sync.prefill import ask_registry

        asked = await asyncio.to_thread(ask_registry, self.kiosk.data_dir, request)
        await self.answered(pinfl, asked)

    async def answered(self, pinfl: str, asked: Asked) -> None:
        """The portal answered (or could not): fill, audit, and start the questions."""
        from kiosk.prefill_records import record_outcome

        if self.done:  # the operator skipped meanwhile: the answer is not used
            return
        self.done = True
        filled = fill(self.visit, pinfl, asked)
        if not filled and asked.notice is not None:
            params: dict[str, object] = dict(asked.params)
            if asked.refusal is not None:
                params["reason"] = asked.refusal.message(self.lang)
            self.visit.prefill_notice = (asked.notice, params)
        operator_id = getattr(self.kiosk.operator, "id", None)
        await self.kiosk.db.call(
            record_outcome, operator_id, self.lookup_id, self.visit.form.id, asked.outcome, filled
        )
        await self._start()

    @on(Button.Pressed, "#prefill-skip")
    async def skip(self) -> None:
        if self.done:
            return
        self.done = True
        await self._start()

    async def _start(self) -> None:
        kiosk = self.kiosk
        notice = self.visit.prefill_notice
        if notice is not None:
            text = tr(self.lang, notice[0], **notice[1])
            kiosk.notify(text, severity="warning", timeout=8)
        self.app.pop_screen()
        await kiosk.start_visit(self.visit)

    def on_key(self, event: Key) -> None:
        if event.key == "escape":
            event.stop()
            self.run_worker(self.skip())

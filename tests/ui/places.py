"""The screens the layout tests look at, each reached as a person would (keys only).

One place per screen type: start, a text question, a one-choice question, a
multiple-choice question, review, receipt and the operator's dashboard. Used by the
snapshot tests (tests/ui/test_snapshots.py) and the layout test (tests/ui/test_layout.py),
so both look at the same screens. Deterministic: the bundled samples, a fixed receipt,
the resume code fixed by the tests' ``_fixed_resume_code`` fixture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from kiosk.catalog import load_sample
from kiosk.operators import add_operator
from kiosk.receipt import Receipt
from kiosk.store import Store
from screens.receipt import ReceiptScreen
from tests.ui.driver import (
    answer_step,
    choose_language,
    choose_service,
    click,
    fill_form,
    ready,
    type_text,
    wait_until,
)

FORM = "criminal_record_certificate"
# Its first step is one choice (3 options), then text, then multiple choice.
CHOICES_FORM = "utility_complaint"
OPERATOR = ("Aziz", "135792")
FIXED_RECEIPT = Receipt(
    tracking_code="K7M4QXPR",
    form_title="Sudlanmaganlik haqida maʼlumotnoma",
    created_at=dt.datetime(2026, 3, 21, 9, 30, tzinfo=dt.UTC).isoformat(),
    documents=["Pasport yoki ID-karta", "Toʻlov kvitansiyasi"],
    lang="uz_Latn",
)

Go = Callable[[Pilot[Any]], Awaitable[None]]


async def answer_until(pilot: Pilot[Any], form_id: str, ref: str, *, wait: bool = True) -> None:
    """Start ``form_id`` in uz_Latn and answer its steps (keys only) up to ``ref``."""
    if wait:
        await ready(pilot)
    await choose_language(pilot, "uz_Latn", "keyboard")
    await choose_service(pilot, form_id, "keyboard")
    sample = load_sample(form_id)
    while pilot.app.visit.session.current.ref != ref:  # type: ignore[attr-defined]
        await answer_step(pilot, sample, "keyboard")
    await pilot.pause()


async def to_start(pilot: Pilot[Any]) -> None:
    await ready(pilot)


async def to_text(pilot: Pilot[Any]) -> None:
    """A typed answer with a hint, under the resume code (one answer is saved)."""
    await answer_until(pilot, FORM, "pinfl")


async def to_one_choice(pilot: Pilot[Any]) -> None:
    """Six options (the one-row-each list), under the resume code."""
    await answer_until(pilot, FORM, "purpose")


async def to_few_choices(pilot: Pilot[Any]) -> None:
    """Three big options: the form's first step."""
    await answer_until(pilot, CHOICES_FORM, "service")


async def to_multiple(pilot: Pilot[Any]) -> None:
    await answer_until(pilot, CHOICES_FORM, "problems")


async def to_review(pilot: Pilot[Any]) -> None:
    await ready(pilot)
    await choose_language(pilot, "uz_Latn", "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    await fill_form(pilot, load_sample(FORM), "keyboard")
    await pilot.pause()


async def to_receipt(pilot: Pilot[Any]) -> None:
    await ready(pilot)
    await pilot.app.push_screen(ReceiptScreen(FIXED_RECEIPT))
    await pilot.pause()


async def to_dashboard(pilot: Pilot[Any]) -> None:
    """Logged in as the operator ``add_operators`` made."""
    await ready(pilot)
    name, pin = OPERATOR
    await type_text(pilot, name)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()


async def to_services(pilot: Pilot[Any]) -> None:
    await ready(pilot)
    await choose_language(pilot, "uz_Latn", "keyboard")


async def to_status(pilot: Pilot[Any]) -> None:
    from screens.start import tool_keys

    await ready(pilot)
    await pilot.press(tool_keys()[0])
    await pilot.pause()


async def to_resume(pilot: Pilot[Any]) -> None:
    from screens.start import resume_key

    await ready(pilot)
    await pilot.press(resume_key())
    await pilot.pause()


async def to_draft_saved(pilot: Pilot[Any]) -> None:
    """One answer given, then "Save for later": the code shown large."""
    await answer_until(pilot, FORM, "pinfl")
    await click(pilot, pilot.app.screen.query_one("#keep"))
    await wait_until(pilot, lambda: pilot.app.screen.query("#draft-code"), "the saved draft")


async def to_operator_question(pilot: Pilot[Any]) -> None:
    """An operator's visit: three actions under the question (no Save for later)."""
    await to_dashboard(pilot)
    await pilot.press("1")
    await wait_until(pilot, lambda: pilot.app.screen.query("#lang-choice"), "the start screen")
    await answer_until(pilot, FORM, "pinfl", wait=False)


async def to_login(pilot: Pilot[Any]) -> None:
    await ready(pilot)


def add_operators(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, *OPERATOR)


@dataclass(frozen=True)
class Place:
    go: Go
    mode: str = "citizen"


PLACES: dict[str, Place] = {
    "start": Place(to_start),
    "text": Place(to_text),
    "one_choice": Place(to_one_choice),
    "few_choices": Place(to_few_choices),
    "multiple": Place(to_multiple),
    "review": Place(to_review),
    "receipt": Place(to_receipt),
    "dashboard": Place(to_dashboard, mode="operator"),
}

# The other screens a person meets, held to the same layout rules (no snapshots).
MORE_PLACES: dict[str, Place] = {
    "services": Place(to_services),
    "status": Place(to_status),
    "resume": Place(to_resume),
    "draft_saved": Place(to_draft_saved),
    "login": Place(to_login, mode="operator"),
    "operator_question": Place(to_operator_question, mode="operator"),
}


# Every screen a citizen meets, for the tests that hold each one to a rule.
ALL_CITIZEN_PLACES: dict[str, Go] = {
    "start": to_start,
    "services": to_services,
    "text": to_text,
    "one_choice": to_one_choice,
    "multiple": to_multiple,
    "review": to_review,
    "receipt": to_receipt,
    "status": to_status,
    "resume": to_resume,
    "draft_saved": to_draft_saved,
}

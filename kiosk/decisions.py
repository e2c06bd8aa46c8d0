"""Decisions said to citizens: each decision reason's plain-language explanation, who
decided (a person or the portal's rules), a stalled application, and whether it can be
appealed (issue 16, docs/appeals.md).

The reason codes themselves are the one registry's (`kiosk.reasons`, ``decision.*``):
its short message names the reason ("Some required documents are missing."); the
explanation here says, in words a citizen at a kiosk follows, what it means for them and
what they can do. Every ``decision.*`` code has one (tests/test_decisions.py). The
status screen shows these lines and the voice reads them (`decision_lines`); the
portal's ombudsman queue gives the explanations in every language (`explanations`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

from kiosk import languages, reasons
from kiosk.formatting import format_date
from kiosk.i18n import N_, tr

if TYPE_CHECKING:
    from kiosk.form import Form
    from kiosk.store import Store, Submission

EXPLANATIONS: dict[str, str] = {
    "decision.documents_missing": N_(
        "Some documents this service needs were not given. Bring them to the office, "
        "or apply again with them."
    ),
    "decision.info_unclear": N_(
        "Something in the application was unclear or did not match the documents. "
        "Check what was written and ask the office how to correct it."
    ),
    "decision.not_eligible": N_(
        "Under the rules of this service, the applicant does not qualify for it. If you "
        "think this is wrong, you can appeal."
    ),
    "decision.duplicate": N_(
        "The same application was already made, so this one was closed. Follow the "
        "first application instead."
    ),
    "decision.withdrawn": N_("The application was closed because the applicant withdrew it."),
    "decision.approved_as_requested": N_("Everything you asked for was approved."),
    "decision.approved_in_part": N_(
        "Only part of what you asked for was approved. The office can tell you which part and why."
    ),
    "decision.service_provided": N_("The service was provided. Nothing more is needed from you."),
    "decision.under_review": N_(
        "A specialist is checking the application. You do not need to do anything now."
    ),
    "decision.appeal_upheld": N_(
        "The ombudsman checked the appeal and found the original decision correct. It "
        "stays as it was."
    ),
    "decision.appeal_overturned": N_(
        "The ombudsman agreed with the appeal. The original decision was changed: check "
        "the status of the application."
    ),
    "decision.overturned_on_appeal": N_(
        "After an appeal, the earlier decision on this application was found wrong and was changed."
    ),
}

DECIDED_AUTOMATICALLY = N_("Decided automatically by the portal's rules.")
DECIDED_BY_PERSON = N_("Decided by a person.")
STALLED = N_("No decision yet, and the deadline has passed ({date}).")
STALLED_NO_DATE = N_("No decision yet, and the deadline has passed.")
APPEALABLE = N_("You can appeal this decision.")
APPEALABLE_STALLED = N_("You can appeal because no decision was made in time.")


def is_decision_reason(code: object) -> bool:
    """Whether ``code`` is a registered ``decision.*`` reason."""
    return isinstance(code, str) and code.startswith("decision.") and code in reasons.REGISTRY


def explain(lang: str, code: object) -> str | None:
    """The plain-language explanation of a decision reason in ``lang``; None for any
    other code (an unknown one from a newer portal: the kiosk says nothing of it)."""
    msgid = EXPLANATIONS.get(code) if isinstance(code, str) else None
    return tr(lang, msgid) if msgid is not None else None


def reason_text(lang: str, code: object) -> str | None:
    """The decision reason's short message in ``lang`` (None: not a decision reason)."""
    if not is_decision_reason(code):
        return None
    return tr(lang, reasons.get(str(code)).msgid)


def explanations(code: str) -> dict[str, str]:
    """A decision reason's explanation in every language (the ombudsman's queue); {}
    for a code without one."""
    msgid = EXPLANATIONS.get(code)
    if msgid is None:
        return {}
    return {lang: tr(lang, msgid) for lang in languages.codes()}


def who_decided(lang: str, automated: object) -> str:
    """ "Decided automatically" or "Decided by a person" in ``lang``."""
    return tr(lang, DECIDED_AUTOMATICALLY if automated is True else DECIDED_BY_PERSON)


def decision_lines(info: Mapping[str, object], lang: str) -> list[str]:
    """The lines the status screen shows and speaks about a decision: the reason, its
    explanation, who decided; a stalled application and whether it may be appealed.
    ``info`` is a status record (`kiosk.outbox.CodeStatus` with the live look-up's
    ``automated``, ``stalled``, ``deadline_at``, ``appealable`` where known)."""
    lines: list[str] = []
    code = info.get("reason_code")
    said = reason_text(lang, code)
    if said is not None:
        lines.append(tr(lang, "Reason: {reason}", reason=said))
        explanation = explain(lang, code)
        if explanation:
            lines.append(explanation)
        automated = info.get("automated")
        if isinstance(automated, bool):
            lines.append(who_decided(lang, automated))
    if info.get("stalled") is True:
        deadline = info.get("deadline_at")
        day = _day(deadline)
        if day is not None:
            lines.append(tr(lang, STALLED, date=format_date(day, lang)))
        else:
            lines.append(tr(lang, STALLED_NO_DATE))
    if info.get("appealable") is True:
        lines.append(tr(lang, APPEALABLE_STALLED if info.get("stalled") else APPEALABLE))
    return lines


def _day(text: object) -> date | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


# --- the appeal the kiosk queues (docs/appeals.md) ------------------------------------

APPEAL_FORM = "decision_appeal"
# The answers' verification, as every item made after an operator's ID check carries
# it (the convention of `kiosk.participation`): the portal accepts an appeal of an
# application that gave no PINFL only with it.
OPERATOR_CHECK = "operator_id_check"
APPEAL_ID_CHECKED = "appeal_id_checked"  # the audit entry of the operator's check


def appeal_answers(
    application_code: str, pinfl: str, grounds: str, operator_id: int | str | None = None
) -> dict[str, object]:
    """An appeal's answers: the application's code, the appellant's PINFL (the portal
    accepts it only from the applicant), the grounds; ``operator_id`` only after the
    operator checked the appellant's ID document."""
    answers: dict[str, object] = {
        "application_code": application_code,
        "pinfl": pinfl,
        "grounds": grounds,
    }
    if operator_id is not None:
        answers["verified_by"] = OPERATOR_CHECK
        answers["operator_id"] = str(operator_id)
    return answers


def submit_appeal(
    store: Store, form: Form, payload: dict[str, object], lang: str, operator_id: int | None
) -> Submission:
    """Queue the appeal durably; with ``verified_by`` in the answers, the operator's ID
    check is audited in the same transaction (the operator; never the PINFL)."""
    from kiosk import audit

    actor = f"operator:{operator_id}" if operator_id is not None else "citizen"
    with store.transaction() as db:
        if payload.get("verified_by") == OPERATOR_CHECK:
            audit.append(db, actor, APPEAL_ID_CHECKED, form.id, {"method": OPERATOR_CHECK})
        return store.submit(form, payload, lang, operator_id=operator_id, consent=True, actor=actor)

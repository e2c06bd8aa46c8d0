"""Votes and petitions at the kiosk: the participation forms and the answers they carry.

A vote, a petition signature and a petition start are queued, sealed and synced like
any application (`kiosk.store.Store.submit`), as submissions of these three forms,
which ship with the kiosk and which the portal puts in its catalog at start. Their
settings carry ``kind`` (docs/sync-protocol.md, "Item kinds"): the portal dispatches
on it (`sync.portal.kinds`) and never stores these answers as an application.

A vote or signature counts only when verified (docs/participation.md): made in
operator mode after the operator recorded that they checked the citizen's ID document
(``verified_by`` = `OPERATOR_CHECK` and the operator's id, both in the sealed
answers), or later confirmed with a one-time code sent to the phone on record.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kiosk import audit
from kiosk.crashpoints import crash_point

if TYPE_CHECKING:
    from kiosk.store import Store, Submission

VOTE_FORM = "budget_vote"
SIGN_FORM = "petition_sign"
START_FORM = "petition_start"
FORM_VERSION = "2026120101"
OPERATOR_CHECK = "operator_id_check"
PINFL_RE = re.compile(r"^[0-9]{14}$")
KINDS = {VOTE_FORM: "vote", SIGN_FORM: "petition_sign", START_FORM: "petition_start"}
# The accepted item's ``application_number`` for these kinds is the vote's or
# signature's state: a vote is not an application and gets no number.
PENDING = "pending"
VERIFIED = "verified"


def clean_pinfl(text: str) -> str | None:
    """14 digits (spaces and dashes dropped), or None."""
    digits = re.sub(r"[\s-]", "", text or "")
    return digits if PINFL_RE.fullmatch(digits) else None


def _field(name: str, uz: str, ru: str, required: bool = True) -> dict[str, object]:
    node: dict[str, object] = {
        "type": "text",
        "name": name,
        "label": {"Uzbek (uz)": uz, "Russian (ru)": ru},
    }
    if required:
        node["bind"] = {"required": "yes"}
    return node


_VERIFY = [
    _field("verified_by", "Tekshiruv", "Проверка", required=False),
    _field("operator_id", "Operator", "Оператор", required=False),
]
_PINFL = _field("pinfl", "JShShIR", "ПИНФЛ")


def _spec(form_id: str, uz: str, ru: str, fields: list[dict[str, object]]) -> dict[str, object]:
    return {
        "type": "survey",
        "name": "data",
        "id_string": form_id,
        "version": FORM_VERSION,
        "title": {"Uzbek (uz)": uz, "Russian (ru)": ru},
        "default_language": "Uzbek (uz)",
        "category": "participation",
        "kind": KINDS[form_id],
        "children": [*fields, _PINFL, *_VERIFY],
    }


FORMS: dict[str, dict[str, object]] = {
    VOTE_FORM: _spec(
        VOTE_FORM,
        "Ochiq byudjet: ovoz",
        "Открытый бюджет: голос",
        [
            _field("season", "Mavsum", "Сезон"),
            _field("initiative", "Tashabbus", "Инициатива"),
        ],
    ),
    SIGN_FORM: _spec(
        SIGN_FORM,
        "Petitsiyaga imzo",
        "Подпись под петицией",
        [_field("petition", "Petitsiya", "Петиция")],
    ),
    START_FORM: _spec(
        START_FORM,
        "Yangi petitsiya",
        "Новая петиция",
        [
            _field("district", "Tuman", "Район"),
            _field("title", "Sarlavha", "Заголовок"),
            _field("text", "Matn", "Текст"),
        ],
    ),
}


def _verification(operator_id: int | str | None) -> dict[str, object]:
    if operator_id is None:
        return {}
    return {"verified_by": OPERATOR_CHECK, "operator_id": str(operator_id)}


def vote_answers(
    season: str, initiative: str, pinfl: str, operator_id: int | str | None = None
) -> dict[str, object]:
    """A vote's answers; ``operator_id`` only after the operator checked the ID."""
    return {
        "season": season,
        "initiative": initiative,
        "pinfl": pinfl,
        **_verification(operator_id),
    }


def sign_answers(
    petition: str, pinfl: str, operator_id: int | str | None = None
) -> dict[str, object]:
    return {"petition": petition, "pinfl": pinfl, **_verification(operator_id)}


def start_answers(
    district: str, title: str, text: str, pinfl: str, operator_id: int | str | None = None
) -> dict[str, object]:
    return {
        "district": district,
        "title": title,
        "text": text,
        "pinfl": pinfl,
        **_verification(operator_id),
    }


ID_CHECKED_ACTION = "participation_id_checked"  # the audit entry of the operator's check


def submit(
    store: Store,
    form_id: str,
    answers: dict[str, object],
    lang: str,
    operator_id: int | None,
) -> Submission:
    """Queue a participation item durably. With ``verified_by`` in the answers, the
    operator's ID check is audited in the same transaction (the operator, the form;
    never the PINFL: the audit chain is anchored at the portal)."""
    actor = f"operator:{operator_id}" if operator_id is not None else "citizen"
    with store.transaction() as db:
        if answers.get("verified_by") == OPERATOR_CHECK:
            audit.append(db, actor, ID_CHECKED_ACTION, form_id, {"method": OPERATOR_CHECK})
        return store.submit(
            None,
            answers,
            lang,
            operator_id=operator_id,
            consent=True,
            actor=actor,
            form_id=form_id,
            form_version=FORM_VERSION,
        )


CONFIRMED_ACTION = "participation_confirmed"  # a one-time code counted a pending item


def outbox_item(store: Store, tracking_code: str) -> str | None:
    """The item id of the queued vote or signature ``tracking_code`` (what a one-time
    code is asked for and checked against: it confirms that item only)."""
    rows = store.db.query("SELECT id FROM outbox WHERE tracking_code = ?", (tracking_code,))
    for row in rows:
        return str(row["id"])
    return None


def mark_confirmed(store: Store, tracking_code: str) -> bool:
    """Record that the portal counted the pending item ``tracking_code`` after its code
    was right: the outbox says ``verified`` from now on (the status screen, the queue),
    audited with the item's code only. False when it was not pending."""
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE outbox SET application_number = ? WHERE tracking_code = ? "
            "AND outcome = 'accepted' AND application_number = ?",
            (VERIFIED, tracking_code, PENDING),
        )
        if cursor.rowcount != 1:
            return False
        audit.append(db, "citizen", CONFIRMED_ACTION, tracking_code, {"method": "one_time_code"})
        crash_point("participation.confirmed_before_commit")
    return True


NOT_COUNTED_ACTION = "participation_not_counted"  # a right code, but it could not count
NOT_COUNTED_CODES = ("otp.already_counted", "otp.season_closed")


def mark_not_counted(
    store: Store, tracking_code: str, reason_code: str, params: dict[str, str]
) -> bool:
    """Record that the portal will never count the pending item ``tracking_code`` (its
    code was right, but the PINFL had voted or the season closed): the outbox says so
    with the portal's reason, audited. False when it was not pending."""
    import json

    if reason_code not in NOT_COUNTED_CODES:
        raise ValueError(reason_code)
    with store.transaction() as db:
        cursor = db.execute(
            "UPDATE outbox SET outcome = 'rejected', reason_code = ?, reason_params = ?, "
            "application_number = '' WHERE tracking_code = ? AND outcome = 'accepted' "
            "AND application_number = ?",
            (reason_code, json.dumps(params, sort_keys=True), tracking_code, PENDING),
        )
        if cursor.rowcount != 1:
            return False
        audit.append(db, "citizen", NOT_COUNTED_ACTION, tracking_code, {"reason": reason_code})
    return True

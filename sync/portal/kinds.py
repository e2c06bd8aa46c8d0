"""Item kinds: what the portal does with an item whose form is not an application.

Votes, petition starts and signatures (and appeals) travel as ordinary sealed
submissions of bundled forms; the form's settings carry ``kind`` (docs/sync-protocol.md,
"Item kinds"). At ingest `sync.portal.store` opens the item as usual, then looks up
`KIND_HANDLERS` by the stored form's kind: a handler ``(conn, device, item, answers,
now) -> ItemResult | None`` runs inside the batch's transaction; a result is the item's
outcome (nothing goes to ``submissions``), None lets it be stored as an application.

The participation handlers (`vote`, `petition_sign`, `petition_start`) store no
submission: a vote's answers name the PINFL and the choice, which must never sit
together (docs/participation.md). Their answer is kept instead in
``participation_receipts`` under (device, item id, blob hash), so a resent item gets
``duplicate`` (or the same refusal) and a different blob under the same id ``conflict``,
exactly as applications do. The receipt holds no PINFL, no choice and no time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime

from kiosk import languages
from sync.portal import appeals, ballot_box, decisions, id_checks, pinfl_key, registry, sealed
from sync.portal import petitions as petitions_mod
from sync.portal import votes as votes_mod
from sync.portal.db import Conn
from sync.portal.storage import Device, refused
from sync.transport import ItemResult

DEFAULT_KIND = "application"
OPERATOR_CHECK = "operator_id_check"  # answers' verified_by after an operator's ID check
MAX_TITLE = 200
MAX_TEXT = 5000

KindHandler = Callable[
    [Conn, Device, Mapping[str, object], Mapping[str, object], str], ItemResult | None
]


def kind_of(spec_json: str) -> str:
    """The ``kind`` a stored form's settings give (`DEFAULT_KIND` when none or unknown):
    one reading of the setting, `sync.portal.decisions.form_kind`."""
    return decisions.form_kind(spec_json)


def claimed_check(answers: Mapping[str, object]) -> str | None:
    """The operator id when the kiosk says its operator checked the citizen's ID
    document, else None (the vote or signature then waits for a one-time code)."""
    operator = answers.get("operator_id")
    if answers.get("verified_by") != OPERATOR_CHECK or isinstance(operator, bool):
        return None
    if not isinstance(operator, str | int):
        return None
    text = str(operator).strip()
    return text[:64] if text and text.isprintable() else None


def checked_by(conn: Conn, device: Device, answers: Mapping[str, object], day: str) -> str | None:
    """The operator whose ID check makes this vote or signature count now: the kiosk
    claims one, and the device and operator are within their day's attested checks
    (`sync.portal.id_checks`: every claim is counted, whatever then happens to the item,
    so a device probing the registry or the voters with claimed checks is capped and
    seen). None: it waits for a one-time code (beyond the cap too: nothing is lost)."""
    operator = claimed_check(answers)
    if operator is None or not id_checks.room(conn, device.id, operator, day):
        return None
    id_checks.record(conn, device.id, operator, day)
    return operator


def _text(answers: Mapping[str, object], name: str, limit: int = MAX_TITLE) -> str | None:
    """A text answer, or None when missing, too long or holding control characters
    (NUL, which PostgreSQL refuses and which would fail the whole batch; escapes, which
    a terminal would obey): line breaks only are allowed."""
    value = answers.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        return None
    if not all(c.isprintable() or c in "\n\t" for c in value):
        return None
    return value.strip()


def _receipted(kind: str, decide: KindHandler) -> KindHandler:
    """``decide`` behind the receipt: a resent item gets its first answer again."""

    def handle(
        conn: Conn,
        device: Device,
        item: Mapping[str, object],
        answers: Mapping[str, object],
        now: str,
    ) -> ItemResult | None:
        item_id = str(item.get("id"))
        blob = sealed.blob_of(item)
        digest = blob.digest if isinstance(blob, sealed.Blob) else ""
        row = conn.execute(
            "SELECT content_hash, outcome, code, params FROM participation_receipts "
            "WHERE device_id = ? AND item_id = ?",
            (device.id, item_id),
        ).fetchone()
        if row is not None:
            if row["content_hash"] != digest:
                return refused(item_id, "conflict", "item.conflict")
            params = _params(row["params"])
            if row["outcome"] == "accepted":
                # The state it was accepted in (a lost answer's resend must not blank it).
                state = str(params.get("state", ""))
                return {"id": item_id, "outcome": "duplicate", "application_number": state}
            return refused(item_id, row["outcome"], row["code"], **params)
        result = decide(conn, device, item, answers, now)
        if result is None:
            return None
        conn.execute(
            "INSERT INTO participation_receipts (device_id, item_id, content_hash, kind, "
            "outcome, code, params) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                device.id,
                item_id,
                digest,
                kind,
                result["outcome"],
                result.get("code"),
                json.dumps(
                    {"state": result.get("application_number", "")}
                    if result["outcome"] == "accepted"
                    else result.get("params") or {}
                ),
            ),
        )
        return result

    return handle


def _params(raw: str | None) -> dict[str, object]:
    """A receipt's ``params``: a refusal's params, or ``{"state": ...}`` when accepted."""
    try:
        params = json.loads(raw or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def receipt_state(conn: Conn, device_id: str, item_id: str) -> str | None:
    """The state an accepted participation item is in (``verified``, ``pending``), as
    its receipt says; None for none."""
    row = conn.execute(
        "SELECT outcome, params FROM participation_receipts WHERE device_id = ? AND item_id = ?",
        (device_id, item_id),
    ).fetchone()
    if row is None or row["outcome"] != "accepted":
        return None
    state = _params(row["params"]).get("state")
    return state if isinstance(state, str) else None


def set_receipt_state(conn: Conn, device_id: str, item_id: str, state: str) -> None:
    """The item's receipt says ``state`` from now on (a code counted it): a resend or a
    retried confirmation is answered with it."""
    conn.execute(
        "UPDATE participation_receipts SET params = ? WHERE device_id = ? AND item_id = ?",
        (json.dumps({"state": state}), device_id, item_id),
    )


def _person(
    conn: Conn, device: Device, answers: Mapping[str, object], day: str
) -> tuple[str | None, str | None, str | None]:
    """(None, the PINFL's keyed tag, the checking operator or None) or (the reason code,
    None, None). An ID-checked item's PINFL must belong to a person the state registry
    holds (`sync.portal.registry`: no device counts a vote for a number nobody has). An
    unchecked one is not looked up: it is pending whatever the PINFL, so its answer
    tells nobody whether the PINFL exists or has voted."""
    pinfl = pinfl_key.clean_pinfl(answers.get("pinfl"))
    if pinfl is None:
        return "participation.pinfl", None, None
    operator = checked_by(conn, device, answers, day)
    if operator is not None and registry.find(conn, pinfl) is None:
        return "participation.unknown_person", None, None
    return None, pinfl_key.pinfl_tag(pinfl), operator


def _accepted(item_id: str, state: str) -> ItemResult:
    # No application number: a vote is not an application. ``pending`` tells the
    # kiosk the citizen still has to confirm (docs/participation.md).
    return {"id": item_id, "outcome": "accepted", "application_number": state}


def _vote(
    conn: Conn, device: Device, item: Mapping[str, object], answers: Mapping[str, object], now: str
) -> ItemResult:
    item_id = str(item.get("id"))
    day = now[:10]
    problem, tag, operator = _person(conn, device, answers, day)
    season, initiative = _text(answers, "season"), _text(answers, "initiative")
    if tag is None:
        return refused(item_id, "rejected", problem or "participation.pinfl")
    if season is None or initiative is None:
        return refused(item_id, "rejected", "vote.initiative_unknown", initiative="", season="")
    outcome = votes_mod.cast(
        conn,
        ballot_box.key_from(pinfl_key.bound_key()),
        season,
        initiative,
        tag,
        operator is not None,
        day,
        (device.id, item_id),
    )
    if outcome["refused"]:
        return refused(item_id, "rejected", outcome["refused"], **outcome["params"])
    return _accepted(item_id, outcome["state"])


def _sign(
    conn: Conn, device: Device, item: Mapping[str, object], answers: Mapping[str, object], now: str
) -> ItemResult:
    item_id = str(item.get("id"))
    problem, tag, operator = _person(conn, device, answers, now[:10])
    petition = _text(answers, "petition")
    if tag is None:
        return refused(item_id, "rejected", problem or "participation.pinfl")
    if petition is None:
        return refused(item_id, "rejected", "petition.unknown", petition="")
    checked = operator is not None
    code, state = petitions_mod.sign(conn, petition, tag, checked, now, (device.id, item_id))
    if code == "participation.too_many_pending":
        return refused(item_id, "rejected", code, most=votes_mod.MAX_PENDING)
    if code:
        return refused(item_id, "rejected", code, petition=petition[:40], state=state)
    return _accepted(item_id, state)


def _start(
    conn: Conn, device: Device, item: Mapping[str, object], answers: Mapping[str, object], now: str
) -> ItemResult:
    item_id = str(item.get("id"))
    title, text = _text(answers, "title"), _text(answers, "text", MAX_TEXT)
    district = _text(answers, "district", 64)
    if title is None or text is None or district is None:
        return refused(item_id, "rejected", "petition.fields", title=MAX_TITLE, text=MAX_TEXT)
    lang = str(item.get("lang"))
    if lang not in languages.codes():
        lang = "uz_Latn"
    petitions_mod.start(
        conn, item_id, district, title, text, lang, petitions_mod.DEFAULT_THRESHOLD, now[:10]
    )
    return _accepted(item_id, petitions_mod.OPEN)


def _appeal(
    conn: Conn, device: Device, item: Mapping[str, object], answers: Mapping[str, object], now: str
) -> ItemResult | None:
    """An appeal (`sync.portal.appeals`): linked to its application, or refused."""
    return appeals.on_appeal(conn, device, item, answers, datetime.fromisoformat(now))


KIND_HANDLERS: dict[str, KindHandler] = {
    "appeal": _appeal,
    "vote": _receipted("vote", _vote),
    "petition_sign": _receipted("petition_sign", _sign),
    "petition_start": _receipted("petition_start", _start),
}

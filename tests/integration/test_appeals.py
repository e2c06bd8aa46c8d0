"""Decisions with reasons and appeals against real portal processes (issue 16).

A reviewer refuses an application through the staff API; the kiosk pulls the decision
with its reason and "decided by a person"; the citizen's appeal, queued and sealed at
the kiosk like any submission, syncs and appears in the ombudsman's queue with the
original decision, its reason and explanation; the ombudsman (never a reviewer)
decides it, and the kiosk sees the appeal's status and, after an overturn, the
application's. A stalled application (its form's deadline_days is 0) is appealable, an
approved one is not, and a decision is appealed once. Only the applicant appeals: a
stranger holding the tracking code is refused (``appeal.not_applicant``) through the
kiosk's outbox and sync, and the applicant's own appeal then goes through; refused
again after an overturn, the application is appealed again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk import decisions, operators, reasons
from kiosk.catalog import BUNDLED_DIR, Catalog, load_spec_file
from kiosk.crashpoints import ENV
from kiosk.i18n import tr
from sync import wire
from sync.client import PortalClient
from sync.lookup import describe
from sync.portal.store import PortalStore
from tests.integration.conftest import start_test_portal
from tests.integration.crashkit import KILLED, marker, wait_for_exit
from tests.integration.synckit import (
    TEST_FORM_ID,
    TEST_FORM_SPEC,
    TEST_FORM_VERSION,
    Kiosk,
    moved,
    portal_http,
    queue_submissions,
)
from tests.integration.test_staff_api import staff_token, synced
from tests.integration.test_sync_engine import engine

APPEAL_SPEC = load_spec_file(BUNDLED_DIR / "decision_appeal.md")
DEADLINE_FORM = "sync_test_deadline"
PINFL_FORM = "sync_test_pinfl"  # a form that asks the applicant's PINFL, as bundled ones do
APPLICANT = "31503622261234"
STRANGER = "51003152470196"
GROUNDS = "Men barcha hujjatlarni topshirganman, pasport nusxasi ham bor edi."


def add_forms(portal_dir: Path) -> None:
    """The bundled appeal form, and the test form with a deadline of 0 days (every
    application of it is stalled as soon as it is received, on the portal's clock)."""
    store = PortalStore(portal_dir)
    try:
        version = str(APPEAL_SPEC["version"])
        store.add_form("decision_appeal", version, "appeals", APPEAL_SPEC, "bundled")
        deadline = {**TEST_FORM_SPEC, "id_string": DEADLINE_FORM, "deadline_days": "0"}
        store.add_form(DEADLINE_FORM, TEST_FORM_VERSION, "test", deadline, "admin")
        pinfl_question = {"type": "text", "name": "pinfl", "label": "PINFL"}
        asks = {
            **TEST_FORM_SPEC,
            "id_string": PINFL_FORM,
            "children": [*TEST_FORM_SPEC["children"], pinfl_question],
        }
        store.add_form(PINFL_FORM, TEST_FORM_VERSION, "test", asks, "admin")
    finally:
        store.close()


@pytest.fixture
def kiosk(kiosk: Kiosk) -> Kiosk:
    add_forms(kiosk.portal.data_dir)
    return kiosk


def appeal(
    kiosk: Kiosk,
    code: str,
    grounds: str = GROUNDS,
    pinfl: str = APPLICANT,
    checked: bool = True,
) -> str:
    """The citizen's appeal of ``code``, queued as the appeal screen queues it (by
    default after an operator's ID check: the test form's applications give no PINFL)."""
    with kiosk.store() as store:
        operator = None
        if checked:
            known = operators.list_operators(store)
            operator = (
                known[0]["id"] if known else operators.add_operator(store, "Dilnoza", "482193")
            )
        catalog = Catalog(store)
        catalog.ensure_bundled()
        form = catalog.get("decision_appeal")
        answers = decisions.appeal_answers(code, pinfl, grounds, operator)
        return decisions.submit_appeal(store, form, answers, "uz_Cyrl", operator).tracking_code


def sync(kiosk: Kiosk) -> Any:
    with kiosk.store() as store:
        return engine(store).run()


def outcome(kiosk: Kiosk, code: str) -> dict[str, Any]:
    with kiosk.store() as store:
        info = store.status(code)
        row = store.db.execute(
            "SELECT reason_code FROM outbox WHERE tracking_code = ?", [code]
        ).fetchone()
    assert info is not None
    return {**info, "outbox_reason": row[0] if row else None}


def live(kiosk: Kiosk, code: str) -> dict[str, Any]:
    with kiosk.store() as store:
        client = PortalClient.from_store(store)
        assert client is not None
        with client:
            return dict(client.lookup_status(code))


def test_a_rejected_application_appealed_from_a_kiosk_reaches_the_ombudsman(
    kiosk: Kiosk,
) -> None:
    (code,) = synced(kiosk, 1)
    reviewer = staff_token(kiosk, "aziza", "reviewer")
    ombudsman = staff_token(kiosk, "ombuds", "ombudsman")
    with portal_http(kiosk.portal, reviewer) as http:
        decided = http.post(
            f"{wire.API}/staff/applications/{code}/status",
            json={"status": "rejected", "reason_code": "decision.documents_missing"},
        )
    assert decided.status_code == 200, decided.text
    assert decided.json()["automated"] is False
    assert sync(kiosk).statuses == 1
    pulled = outcome(kiosk, code)
    assert (pulled["portal_status"], pulled["reason_code"], pulled["automated"]) == (
        "rejected",
        "decision.documents_missing",
        False,
    )
    looked = live(kiosk, code)
    assert looked["appealable"] is True and looked["automated"] is False
    said = describe({**pulled, **looked}, "ru")
    assert decisions.explain("ru", "decision.documents_missing") in said
    assert tr("ru", decisions.DECIDED_BY_PERSON) in said
    with portal_http(kiosk.portal) as http:  # the citizen's status page says it too
        page = http.get(f"/s/{code}?lang=ru").text
    assert decisions.explain("ru", "decision.documents_missing") in page
    assert tr("ru", decisions.DECIDED_BY_PERSON) in page

    own = appeal(kiosk, code)
    assert sync(kiosk).sent == 1
    assert outcome(kiosk, own)["outcome"] == "accepted"
    with portal_http(kiosk.portal, reviewer) as http:  # a reviewer neither reads nor decides
        queue = http.get(f"{wire.API}/staff/appeals")
        decide = http.post(f"{wire.API}/staff/appeals/{own}/status", json={"status": "upheld"})
    for refused in (queue, decide):
        assert (refused.status_code, refused.json()["code"]) == (403, "staff.appeals_role")
    with portal_http(kiosk.portal, ombudsman) as http:
        answer = http.get(f"{wire.API}/staff/appeals")
        assert answer.status_code == 200, answer.text
        (entry,) = [e for e in answer.json()["appeals"] if e["tracking_code"] == own]
        # The ombudsman may not decide applications through the reviewers' path.
        other = http.post(
            f"{wire.API}/staff/applications/{code}/status", json={"status": "in_review"}
        )
        assert (other.status_code, other.json()["code"]) == (403, "staff.role")
    assert entry["status"] == "received" and entry["grounds"] == GROUNDS
    original = entry["application"]
    assert original["tracking_code"] == code and original["service"] == TEST_FORM_ID
    assert (original["status_appealed"], original["reason_code"]) == (
        "rejected",
        "decision.documents_missing",
    )
    assert original["automated"] is False and original["stalled"] is False
    assert original["explanation"]["uz_Cyrl"] == decisions.explain(
        "uz_Cyrl", "decision.documents_missing"
    )
    assert original["decided_at"] and original["submitted_at"] and original["received_at"]
    assert "Aliyev Vali" not in answer.text  # the application's answers are never shown

    with portal_http(kiosk.portal, ombudsman) as http:
        for body in ({"status": "in_review"}, {"status": "overturned", "note": "Qayta"}):
            step = http.post(f"{wire.API}/staff/appeals/{own.lower()}/status", json=body)
            assert step.status_code == 200, step.text
        assert step.json()["application_status"] == "in_review"
        again = http.post(f"{wire.API}/staff/appeals/{own}/status", json={"status": "upheld"})
        assert (again.status_code, again.json()["code"]) == (409, "appeal.decided")
        history = http.get(f"{wire.API}/staff/applications/{code}/history").json()["history"]
    assert (history[-1]["status"], history[-1]["reason_code"], history[-1]["actor"]) == (
        "in_review",
        "decision.overturned_on_appeal",
        "ombuds",
    )
    assert sync(kiosk).statuses >= 3
    assert outcome(kiosk, own)["portal_status"] == "overturned"
    changed = outcome(kiosk, code)
    assert (changed["portal_status"], changed["reason_code"]) == (
        "in_review",
        "decision.overturned_on_appeal",
    )
    said = describe(outcome(kiosk, own), "uz_Cyrl")
    assert decisions.explain("uz_Cyrl", "decision.appeal_overturned") in said


def test_stalled_is_appealable_approved_is_not_and_once_only(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        (stalled,) = queue_submissions(store, 1, form_id=DEADLINE_FORM)
        assert engine(store).run().sent == 1
    (approved,) = synced(kiosk, 1)
    store = PortalStore(kiosk.portal.data_dir)
    try:
        store.set_status(approved, "approved", reason_code="decision.approved_as_requested")
    finally:
        store.close()
    looked = live(kiosk, stalled)
    assert looked["stalled"] is True and looked["appealable"] is True
    assert looked["deadline_at"] is not None
    said = describe({**outcome(kiosk, stalled), **looked}, "uz_Cyrl")
    assert tr("uz_Cyrl", decisions.APPEALABLE_STALLED) in said
    assert live(kiosk, approved)["appealable"] is False
    with portal_http(kiosk.portal) as http:  # the status page shows it stalled
        page = http.get(f"/s/{stalled}?lang=uz_Cyrl").text
        other = http.get(f"/s/{approved}?lang=uz_Cyrl").text
    stalled_said = tr("uz_Cyrl", decisions.STALLED, date="").split("(")[0]
    assert stalled_said in page and stalled_said not in other

    codes = [
        appeal(kiosk, stalled),
        appeal(kiosk, stalled),
        appeal(kiosk, approved),
        appeal(kiosk, "QQQ-2222-Z"),
    ]
    sync(kiosk)
    got = [(outcome(kiosk, c)["outcome"], outcome(kiosk, c)["outbox_reason"]) for c in codes]
    assert got == [
        ("accepted", None),
        ("rejected", "appeal.already_appealed"),
        ("rejected", "appeal.not_appealable"),
        ("rejected", "appeal.unknown_code"),
    ]
    # A refusal at ingest is the portal's rules deciding: the kiosk says so.
    said = describe(outcome(kiosk, codes[2]), "ru")
    assert tr("ru", decisions.DECIDED_AUTOMATICALLY) in said
    message = reasons.say("ru", "appeal.not_appealable", {"tracking_code": approved})
    assert approved in message and message != reasons.get("appeal.not_appealable").msgid
    assert live(kiosk, stalled)["appealable"] is False  # appealed already
    ombudsman = staff_token(kiosk, "ombuds2", "ombudsman")
    with portal_http(kiosk.portal, ombudsman) as http:
        entries = http.get(f"{wire.API}/staff/appeals").json()["appeals"]
    (entry,) = [e for e in entries if e["tracking_code"] == codes[0]]
    assert entry["application"]["stalled"] is True
    assert entry["application"]["status_appealed"] == "received"
    assert entry["application"]["decided_at"] is None


def test_a_killed_appeal_decision_leaves_nothing_and_is_made_again(
    private_kiosk: Kiosk, restarted: list[Any]
) -> None:
    kiosk = private_kiosk
    add_forms(kiosk.portal.data_dir)
    (code,) = synced(kiosk, 1)
    store = PortalStore(kiosk.portal.data_dir)
    try:
        store.set_status(code, "rejected", reason_code="decision.not_eligible")
    finally:
        store.close()
    own = appeal(kiosk, code)
    assert sync(kiosk).sent == 1
    ombudsman = staff_token(kiosk, "ombuds3", "ombudsman")
    kiosk.portal.stop()
    crashing = start_test_portal(kiosk.portal.data_dir, env={ENV: "portal.appeal_decided"})
    restarted.append(crashing)
    body = {"status": "overturned", "application_status": "approved"}
    with portal_http(crashing, ombudsman) as http:
        with pytest.raises(httpx.HTTPError):  # the portal died before it answered
            http.post(f"{wire.API}/staff/appeals/{own}/status", json=body)
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.appeal_decided") in line for line in crashing.output)
    store = PortalStore(kiosk.portal.data_dir)
    try:  # not committed: the appeal, the application, the audit as they were
        assert [h["status"] for h in store.status_history(own)] == ["received"]
        assert [h["status"] for h in store.status_history(code)] == ["received", "rejected"]
        assert not [a for a in store.staff_audit() if a["action"] == "appeal_decided"]
    finally:
        store.close()
    again = start_test_portal(kiosk.portal.data_dir)
    restarted.append(again)
    with portal_http(again, ombudsman) as http:
        done = http.post(f"{wire.API}/staff/appeals/{own}/status", json=body)
    assert done.status_code == 200, done.text
    moved(kiosk.data_dir, again.url)
    sync(kiosk)
    assert outcome(kiosk, code)["portal_status"] == "approved"
    assert outcome(kiosk, own)["portal_status"] == "overturned"


def test_only_the_applicant_appeals_and_again_after_a_new_refusal(kiosk: Kiosk) -> None:
    """End to end through the kiosk's outbox and sync: the portal compares the
    appellant's PINFL with the one the application gave (keyed tags), refuses a
    stranger holding the code without saying whose it is, then takes the applicant's."""
    with kiosk.store() as store:
        code = store.submit(
            None,
            {"full_name": "Aliyev Vali", "pinfl": APPLICANT},
            "uz_Latn",
            form_id=PINFL_FORM,
            form_version=TEST_FORM_VERSION,
        ).tracking_code
        assert engine(store).run().sent == 1
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        portal.set_status(code, "rejected", reason_code="decision.documents_missing")
    finally:
        portal.close()
    stranger = appeal(kiosk, code, pinfl=STRANGER, checked=False)
    checked_stranger = appeal(kiosk, code, pinfl=STRANGER)  # an ID check proves who, not whose
    sync(kiosk)
    for refused in (stranger, checked_stranger):
        got = outcome(kiosk, refused)
        assert (got["outcome"], got["outbox_reason"]) == ("rejected", "appeal.not_applicant")
    said = describe(outcome(kiosk, stranger), "ru")
    assert code in said and APPLICANT not in said and "Aliyev" not in said  # names no one
    message = reasons.say("ru", "appeal.not_applicant", {"tracking_code": code})
    assert code in message and message != reasons.get("appeal.not_applicant").msgid
    assert live(kiosk, code)["appealable"] is True  # nothing was stored

    own = appeal(kiosk, code, checked=False)  # the applicant, self-service
    sync(kiosk)
    assert outcome(kiosk, own)["outcome"] == "accepted"
    ombudsman = staff_token(kiosk, "ombuds4", "ombudsman")
    with portal_http(kiosk.portal, ombudsman) as http:
        answer = http.get(f"{wire.API}/staff/appeals")
        (entry,) = [
            e for e in answer.json()["appeals"] if e["application"]["tracking_code"] == code
        ]
        assert entry["tracking_code"] == own and entry["identified_by"] == "pinfl"
        assert APPLICANT not in answer.text and STRANGER not in answer.text
        done = http.post(f"{wire.API}/staff/appeals/{own}/status", json={"status": "overturned"})
        assert done.status_code == 200, done.text
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        portal.set_status(code, "rejected", reason_code="decision.info_unclear")
    finally:
        portal.close()
    second, twice = appeal(kiosk, code, checked=False), appeal(kiosk, code, checked=False)
    sync(kiosk)
    assert outcome(kiosk, second)["outcome"] == "accepted"
    assert outcome(kiosk, twice)["outbox_reason"] == "appeal.already_appealed"
    with portal_http(kiosk.portal, ombudsman) as http:
        entries = http.get(f"{wire.API}/staff/appeals").json()["appeals"]
    (entry,) = [e for e in entries if e["application"]["tracking_code"] == code]
    assert entry["tracking_code"] == second
    assert entry["application"]["reason_code"] == "decision.info_unclear"

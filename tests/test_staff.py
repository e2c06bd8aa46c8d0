"""Staff accounts and decisions in the storage, over every backend of the contract
(tests/test_portal_storage.py's BACKENDS): tokens kept hashed, staff and device tokens
apart, the decision rules, and who/when/why in the history and the staff audit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import reasons
from sync import wire
from sync.portal import staff
from sync.portal.db import SqliteDatabase
from sync.portal.staff import DecisionRefused
from sync.portal.storage import STATUSES, PortalStorage, PortalStoreError
from sync.portal.store import PortalStore
from tests import sealkit
from tests.test_portal_storage import BACKENDS, SPEC, database_for, enrolled, item


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalStorage]:
    with database_for(request.param) as database:
        sealkit.seed_portal(tmp_path / "portal")
        store = PortalStore(tmp_path / "portal", database=database)
        store.add_form("f", "1", "cat", SPEC, "admin")
        try:
            yield store
        finally:
            store.close()


def _one_application(storage: PortalStorage) -> tuple[dict[str, str], str]:
    device = enrolled(storage)
    sent = item(device["device_prefix"])
    assert storage.ingest(device["device_id"], [sent], "sync")[0]["outcome"] == "accepted"
    return device, sent["tracking_code"]


def test_staff_tokens_are_shown_once_kept_hashed_and_apart_from_device_tokens(
    storage: PortalStorage, tmp_path: Path
) -> None:
    token = storage.add_staff("aziza", "reviewer")
    assert storage.staff_for_token(token) == staff.StaffMember("aziza", "reviewer")
    device = enrolled(storage)
    # One hashing rule, two tables: neither token opens the other's door.
    assert storage.staff_for_token(device["token"]) is None
    assert storage.device_for_token(token) is None
    assert storage.staff_for_token("nope") is None
    if isinstance(storage, PortalStore) and isinstance(storage.db, SqliteDatabase):
        # the file itself: the hash, never the token
        raw = (tmp_path / "portal" / "portal.db").read_bytes()
        wal = tmp_path / "portal" / "portal.db-wal"
        raw += wal.read_bytes() if wal.exists() else b""
        assert token.encode() not in raw
        assert wire.token_hash(token).encode() in raw
    rows = storage.staff_accounts()
    assert [(r["name"], r["role"], r["disabled_at"]) for r in rows] == [("aziza", "reviewer", None)]
    assert "token" not in str(rows)
    storage.disable_staff("aziza")
    assert storage.staff_for_token(token) is None
    with pytest.raises(PortalStoreError):
        storage.disable_staff("aziza")  # already disabled
    with pytest.raises(PortalStoreError):
        storage.add_staff("aziza", "admin")  # the name stays taken
    for name, role in (("", "admin"), ("a b", "admin"), ("-x", "admin"), ("ok", "boss")):
        with pytest.raises(PortalStoreError):
            storage.add_staff(name, role)


def test_a_decision_is_recorded_with_who_when_and_why(storage: PortalStorage) -> None:
    device, code = _one_application(storage)
    changed = storage.set_status(
        code.lower(),
        "needs_info",
        "Bring your passport",
        reason_code="decision.documents_missing",
        actor="aziza",
    )
    assert changed["tracking_code"] == code and changed["actor"] == "aziza"
    assert changed["reason_code"] == "decision.documents_missing"
    storage.set_status(code, "approved", reason_code="decision.approved_as_requested")
    history = storage.status_history(code)
    assert [(h["status"], h["reason_code"], h["actor"]) for h in history] == [
        ("received", None, None),
        ("needs_info", "decision.documents_missing", "aziza"),
        ("approved", "decision.approved_as_requested", staff.LOCAL_ACTOR),
    ]
    assert history[1]["note"] == "Bring your passport" and history[1]["at"] <= history[2]["at"]
    # The kiosk's status pull carries the reason, to say it in the citizen's language.
    pulled = storage.status_changes(device["device_id"], 0, 10)["changes"]
    assert [c["reason_code"] for c in pulled] == [
        None,
        "decision.documents_missing",
        "decision.approved_as_requested",
    ]
    with pytest.raises(DecisionRefused) as unknown:
        storage.status_history("NO-SUCH-CODE")
    assert unknown.value.body["code"] == "status.not_found"


def test_the_staff_audit_records_accounts_and_decisions(
    storage: PortalStorage, tmp_path: Path
) -> None:
    _, code = _one_application(storage)
    storage.add_staff("bobur", "reviewer", actor="root")
    storage.set_status(code, "rejected", reason_code="decision.not_eligible", actor="bobur")
    storage.disable_staff("bobur", actor="root")
    lines = [(a["actor"], a["action"], a["subject"]) for a in storage.staff_audit()]
    assert sorted(lines) == sorted(
        [
            ("root", "staff_added", "bobur"),
            ("bobur", "status_set", code),
            ("root", "staff_disabled", "bobur"),
        ]
    )


@pytest.mark.parametrize(
    ("status", "reason", "refusal"),
    [
        ("lost", None, "status.unknown"),
        ("rejected", None, "status.reason_needed"),
        ("needs_info", None, "status.reason_needed"),
        ("rejected", "decision.nope", "status.reason_unknown"),
        ("approved", "decision.not_eligible", "status.reason_mismatch"),
        ("rejected", "body.invalid", "status.reason_unknown"),  # a refusal is not a decision
    ],
)
def test_decisions_are_checked(
    storage: PortalStorage, status: str, reason: str | None, refusal: str
) -> None:
    _, code = _one_application(storage)
    with pytest.raises(DecisionRefused) as refused:
        storage.set_status(code, status, reason_code=reason)
    assert refused.value.body["code"] == refusal
    assert [h["status"] for h in storage.status_history(code)] == ["received"]
    with pytest.raises(DecisionRefused) as missing:
        storage.set_status("NO-SUCH-CODE", "approved")
    assert missing.value.body["code"] == "status.not_found"


def test_every_decision_reason_is_registered_and_fits_a_status_a_reviewer_sets() -> None:
    decisions = {c for c in reasons.REGISTRY if c.startswith("decision.")}
    assert decisions == set(reasons.DECISION_STATUSES)
    for code, statuses in reasons.DECISION_STATUSES.items():
        # A reviewer's statuses, or an ombudsman's on an appeal (docs/appeals.md).
        settable = set(staff.REVIEW_STATUSES) | set(staff.APPEAL_DECISIONS)
        assert statuses and set(statuses) <= settable, code
        assert reasons.get(code).status == reasons.ITEM and not reasons.get(code).params
    assert set(reasons.STATUSES_NEEDING_REASON) <= set(STATUSES)
    for status in reasons.STATUSES_NEEDING_REASON:  # each can be given a reason
        assert any(status in fits for fits in reasons.DECISION_STATUSES.values())


def test_the_role_matrix() -> None:
    assert all(staff.may_set("reviewer", s) for s in staff.REVIEW_STATUSES)
    assert not staff.may_set("reviewer", "received")  # the portal's own
    for role in ("ombudsman", "admin", "nobody"):
        assert not any(staff.may_set(role, s) for s in STATUSES)
    # Appeals are the ombudsman's alone (issue 16, docs/appeals.md).
    assert [r for r in (*staff.ROLES, "nobody") if staff.handles_appeals(r)] == ["ombudsman"]

"""Decisions with reasons and appeals at the portal's storage (issue 16), over SQLite and
PostgreSQL: the automated flag, deadlines and stalled applications on an injected
clock, appeals linked or refused with their reason codes, the ombudsman's queue and
decisions. The kiosk-to-portal paths are tests/integration/test_appeals.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk import decisions, languages, reasons
from kiosk.catalog import BUNDLED_DIR, load_spec_file
from kiosk.i18n import tr
from sync.portal import decisions as portal_decisions
from sync.portal.staff import DecisionRefused
from sync.portal.store import PortalStore
from tests import sealkit
from tests.test_portal_storage import SPEC, backend, enrolled, item

__all__ = ["backend"]  # the fixture: each test runs on SQLite and PostgreSQL

APPEAL_SPEC = load_spec_file(BUNDLED_DIR / "decision_appeal.md")
APPLICANT = "31503622261234"  # the PINFL the applications below give
STRANGER = "51003152470196"  # another valid PINFL: someone who only holds the code


class Clock:
    """The portal's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def portal(backend: tuple[str, str | None], tmp_path: Path, clock: Clock) -> Iterator[PortalStore]:
    sealkit.seed_portal(tmp_path / "portal")
    store = PortalStore(tmp_path / "portal", database=backend[1], clock=clock)
    store.add_form("f", "1", "cat", SPEC, "admin")
    store.add_form("slow", "1", "cat", {**SPEC, "id_string": "slow", "deadline_days": "3"}, "t")
    store.add_form("decision_appeal", str(APPEAL_SPEC["version"]), "appeals", APPEAL_SPEC, "b")
    try:
        yield store
    finally:
        store.close()


def submitted(store: PortalStore, device: dict[str, str], **changes: Any) -> str:
    """An application (by default its answers give the PINFL `APPLICANT`)."""
    changes.setdefault("payload", {"a": 1, "pinfl": APPLICANT})
    one = item(device["device_prefix"], **changes)
    (result,) = store.ingest(device["device_id"], [one], "batch")
    assert result["outcome"] == "accepted", result
    return str(one["tracking_code"])


def appeal(
    store: PortalStore,
    device: dict[str, str],
    code: str,
    grounds: str = "I sent every paper.",
    pinfl: str | None = APPLICANT,
    operator: str | None = None,
) -> dict[str, Any]:
    """An appeal item as the kiosk's appeal screen makes it (`kiosk.decisions`)."""
    payload = decisions.appeal_answers(code, pinfl or "", grounds, operator)
    if pinfl is None:
        del payload["pinfl"]
    one = item(
        device["device_prefix"],
        form_id="decision_appeal",
        form_version=str(APPEAL_SPEC["version"]),
        payload=payload,
    )
    (result,) = store.ingest(device["device_id"], [one], "batch")
    return {**result, "tracking_code": one["tracking_code"]}


def looked_up(store: PortalStore, code: str) -> dict[str, Any]:
    return dict(store.lookup_status(code, "test"))


def test_every_decision_reason_is_explained_in_every_language() -> None:
    codes = [code for code in reasons.REGISTRY if code.startswith("decision.")]
    assert set(decisions.EXPLANATIONS) == set(codes)
    for code in codes:
        english = decisions.explain("en", code)
        assert english and english != reasons.get(code).msgid
        for lang in ("uz_Latn", "uz_Cyrl", "ru", "kaa"):
            said = decisions.explain(lang, code)
            assert said and said != english, (lang, code)
    assert decisions.explain("ru", "item.answers") is None
    assert set(decisions.explanations("decision.not_eligible")) == set(languages.codes())


def test_received_is_automated_a_staff_decision_is_not_and_both_travel(
    portal: PortalStore,
) -> None:
    device = enrolled(portal)
    code = submitted(portal, device)
    first = portal.status_changes(device["device_id"], 0, 10)["changes"]
    assert [(c["status"], c.get("automated")) for c in first] == [("received", True)]
    portal.set_status(code, "rejected", reason_code="decision.not_eligible", actor="aziza")
    later = portal.status_changes(device["device_id"], 0, 10)["changes"][-1]
    assert (later["status"], later["reason_code"], later.get("automated")) == (
        "rejected",
        "decision.not_eligible",
        False,
    )
    live = looked_up(portal, code)
    assert live["reason_code"] == "decision.not_eligible" and live["automated"] is False
    assert live["appealable"] is True and live["stalled"] is False
    portal.set_status(code, "in_review", reason_code="decision.under_review", automated=True)
    live = looked_up(portal, code)
    assert live["automated"] is True and live["appealable"] is False


def test_a_deadline_stalls_an_application_on_the_portals_clock(
    portal: PortalStore, clock: Clock
) -> None:
    device = enrolled(portal)
    code = submitted(portal, device, form_id="slow")
    live = looked_up(portal, code)
    assert live["stalled"] is False and live["deadline_at"] > live["updated_at"]
    clock.now += timedelta(days=3, seconds=1)
    live = looked_up(portal, code)
    assert live["stalled"] is True and live["appealable"] is True
    no_deadline = submitted(portal, device)
    assert looked_up(portal, no_deadline)["stalled"] is False  # the form sets none
    portal.set_status(code, "approved", reason_code="decision.approved_as_requested")
    assert looked_up(portal, code)["stalled"] is False  # decided: never stalled


def test_deadline_days_setting_is_read_forgivingly() -> None:
    read = portal_decisions.deadline_days
    assert read('{"deadline_days": "0"}') == 0 and read('{"deadline_days": 14}') == 14
    for bad in ('{"deadline_days": "-1"}', '{"deadline_days": "x"}', "{}", "not json", None):
        assert read(bad) is None
    assert portal_decisions.form_kind('{"kind": "appeal"}') == "appeal"
    assert portal_decisions.form_kind('{"kind": "nonsense"}') == "application"


def test_appeals_are_linked_or_refused_with_their_reasons(
    portal: PortalStore, clock: Clock
) -> None:
    device = enrolled(portal)
    approved = submitted(portal, device)
    portal.set_status(approved, "approved", reason_code="decision.approved_as_requested")
    refusals = {
        "NOPE1234": "appeal.unknown_code",
        approved: "appeal.not_appealable",
    }
    for code, reason in refusals.items():
        result = appeal(portal, device, code)
        assert (result["outcome"], result["code"]) == ("rejected", reason)
    rejected = submitted(portal, device)
    portal.set_status(rejected, "rejected", reason_code="decision.documents_missing")
    first = appeal(portal, device, rejected.lower())  # the code as a citizen types it
    assert first["outcome"] == "accepted", first
    again = appeal(portal, device, rejected)
    assert (again["outcome"], again["code"]) == ("rejected", "appeal.already_appealed")
    # An appeal cannot itself be appealed, nor decided by the application's path.
    nested = appeal(portal, device, first["tracking_code"])
    assert nested["code"] == "appeal.unknown_code"
    with pytest.raises(DecisionRefused) as refused:
        portal.set_status(first["tracking_code"], "rejected", reason_code="decision.duplicate")
    assert refused.value.body["code"] == "appeal.is_appeal"
    (entry,) = portal.appeal_queue()
    assert entry["tracking_code"] == first["tracking_code"] and entry["status"] == "received"
    assert entry["grounds"] == "I sent every paper."
    original = entry["application"]
    assert (original["tracking_code"], original["service"]) == (rejected, "f")
    assert (original["status_appealed"], original["reason_code"]) == (
        "rejected",
        "decision.documents_missing",
    )
    assert original["automated"] is False and original["decided_at"] is not None
    assert original["explanation"]["ru"] == decisions.explain("ru", "decision.documents_missing")
    assert "payload" not in str(entry) and "'a': 1" not in str(entry)  # no answers


def test_the_ombudsman_decides_and_an_overturn_changes_the_application(
    portal: PortalStore,
) -> None:
    device = enrolled(portal)
    rejected = submitted(portal, device)
    portal.set_status(rejected, "rejected", reason_code="decision.not_eligible")
    own = appeal(portal, device, rejected)["tracking_code"]
    portal.decide_appeal(own, "in_review", actor="ombuds")
    assert portal.appeal_queue("in_review")[0]["tracking_code"] == own
    done = portal.decide_appeal(own, "overturned", "You qualify.", actor="ombuds")
    assert done["application_status"] == "in_review"
    assert portal.appeal_queue() == []  # decided: out of the open queue
    history = portal.status_history(rejected)
    assert (history[-1]["status"], history[-1]["reason_code"], history[-1]["actor"]) == (
        "in_review",
        "decision.overturned_on_appeal",
        "ombuds",
    )
    assert looked_up(portal, own)["status"] == "overturned"
    audit = [line for line in portal.staff_audit() if line["subject"] == rejected]
    # The overturn's line names the appeal (lines written at one clock time have no order).
    assert any(line["action"] == "status_set" and own in (line["detail"] or "") for line in audit)
    with pytest.raises(DecisionRefused) as refused:
        portal.decide_appeal(own, "upheld", actor="ombuds")
    assert refused.value.body["code"] == "appeal.decided"
    with pytest.raises(DecisionRefused) as refused:
        portal.decide_appeal("NOPE1234", "upheld", actor="ombuds")
    assert refused.value.body["code"] == "appeal.not_found"
    with pytest.raises(DecisionRefused) as refused:
        portal.decide_appeal(own, "rejected", actor="ombuds")
    assert refused.value.body["code"] == "status.unknown"


def test_decision_lines_say_the_reason_its_explanation_and_who_decided() -> None:
    info = {"reason_code": "decision.not_eligible", "automated": False, "appealable": True}
    lines = decisions.decision_lines(info, "uz_Cyrl")
    assert lines[0] == tr(
        "uz_Cyrl",
        "Reason: {reason}",
        reason=tr("uz_Cyrl", "The applicant is not eligible for this service."),
    )
    assert lines[1] == decisions.explain("uz_Cyrl", "decision.not_eligible")
    assert lines[2] == tr("uz_Cyrl", decisions.DECIDED_BY_PERSON)
    assert lines[3] == tr("uz_Cyrl", decisions.APPEALABLE)
    stalled = decisions.decision_lines(
        {"stalled": True, "deadline_at": "2026-12-04T10:00:00+00:00", "appealable": True}, "ru"
    )
    assert "2026" in stalled[0] and stalled[1] == tr("ru", decisions.APPEALABLE_STALLED)
    assert decisions.decision_lines({"reason_code": "item.answers"}, "ru") == []


def test_the_form_checker_names_a_bad_deadline_or_kind(tmp_path: Path) -> None:
    from kiosk.xlsform_check import check_file

    source = (BUNDLED_DIR / "decision_appeal.md").read_text(encoding="utf-8")
    assert check_file(BUNDLED_DIR / "decision_appeal.md") == []
    header = "| category | kind |"
    assert header in source
    broken = source.replace(header, "| category | kind | deadline_days |").replace(
        "| appeals | appeal |", "| appeals | apeal | soon |"
    )
    path = tmp_path / "decision_appeal.md"
    path.write_text(broken, encoding="utf-8")
    issues = {(i.sheet, i.column) for i in check_file(path, lang="ru")}
    assert {("settings", "deadline_days"), ("settings", "kind")} <= issues


def test_the_voice_reads_the_reason_and_the_deadline_in_words() -> None:
    """What the speech layer makes of the decision's lines (kiosk/speech/prepare.py):
    uz_Cyrl read through Latin by the Uzbek voice, the date in words."""
    from kiosk.speech.prepare import prepare_text

    info = {
        "reason_code": "decision.not_eligible",
        "automated": True,
        "stalled": True,
        "deadline_at": "2026-12-04T10:00:00+00:00",
    }
    spoken = prepare_text("\n".join(decisions.decision_lines(info, "uz_Cyrl")), "uz_Cyrl")
    assert "xizmat qoidalariga ko'ra ariza beruvchi unga haqli emas" in spoken
    assert "avtomatik qaror qilindi" in spoken
    assert "to'rt dekabr, ikki ming yigirma olti" in spoken
    assert not any(ch.isdigit() for ch in spoken)
    russian = prepare_text("\n".join(decisions.decision_lines(info, "ru")), "ru")
    assert "четвёртое декабря две тысячи двадцать шестого года" in russian


def stored_appeals(store: PortalStore) -> list[dict[str, Any]]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM appeals").fetchall()]


def test_only_the_applicant_may_appeal_a_stranger_with_the_code_is_refused(
    portal: PortalStore,
) -> None:
    """A tracking code is on the receipt and is how relatives follow an application: it
    proves nothing. The appellant's PINFL must be the one the application gave."""
    device = enrolled(portal)
    code = submitted(portal, device)
    portal.set_status(code, "rejected", reason_code="decision.not_eligible")
    for who in (STRANGER, None, "12345678901234"):  # another's, none, not a PINFL
        stranger = appeal(portal, device, code, pinfl=who)
        assert (stranger["outcome"], stranger["code"]) == ("rejected", "appeal.not_applicant")
        assert stranger["params"] == {"tracking_code": code}  # names no one
        assert looked_up(portal, stranger["tracking_code"])["found"] is False  # not stored
    # An operator's ID check does not make a stranger the applicant.
    checked = appeal(portal, device, code, pinfl=STRANGER, operator="7")
    assert checked["code"] == "appeal.not_applicant"
    assert stored_appeals(portal) == [] and portal.appeal_queue() == []
    assert looked_up(portal, code)["appealable"] is True  # the applicant still may
    said = reasons.say("ru", "appeal.not_applicant", {"tracking_code": code})
    assert (
        code in said and APPLICANT not in said and said != reasons.get("appeal.not_applicant").msgid
    )

    own = appeal(portal, device, code)
    assert own["outcome"] == "accepted", own
    again = appeal(portal, device, code)
    assert (again["outcome"], again["code"]) == ("rejected", "appeal.already_appealed")
    late = appeal(portal, device, code, pinfl=STRANGER)  # who, before anything else
    assert late["code"] == "appeal.not_applicant"
    (row,) = stored_appeals(portal)
    assert row["identified_by"] == "pinfl" and row["operator_id"] is None
    assert APPLICANT not in str(row) and len(row["appellant_tag"]) == 64  # a keyed tag
    (entry,) = portal.appeal_queue()
    assert entry["tracking_code"] == own["tracking_code"] and entry["identified_by"] == "pinfl"
    assert APPLICANT not in str(entry)


def test_an_application_without_a_pinfl_is_appealed_after_an_operators_id_check(
    portal: PortalStore,
) -> None:
    device = enrolled(portal)
    code = submitted(portal, device, payload={"a": 1})  # its form asks no PINFL
    portal.set_status(code, "rejected", reason_code="decision.documents_missing")
    alone = appeal(portal, device, code)
    assert (alone["outcome"], alone["code"]) == ("rejected", "appeal.id_check_needed")
    assert stored_appeals(portal) == []
    checked = appeal(portal, device, code, operator="7")
    assert checked["outcome"] == "accepted", checked
    (entry,) = portal.appeal_queue()
    assert (entry["identified_by"], entry["operator_id"]) == ("operator_id_check", "7")


def test_one_appeal_per_decision_a_new_refusal_after_an_overturn_is_appealable(
    portal: PortalStore,
) -> None:
    device = enrolled(portal)
    code = submitted(portal, device)
    portal.set_status(code, "rejected", reason_code="decision.documents_missing")
    first = appeal(portal, device, code)
    assert first["outcome"] == "accepted", first
    portal.decide_appeal(first["tracking_code"], "overturned", actor="ombuds")
    assert looked_up(portal, code)["appealable"] is False  # in review again: no decision
    assert appeal(portal, device, code)["code"] == "appeal.not_appealable"
    portal.set_status(code, "rejected", reason_code="decision.info_unclear")  # refused again
    assert looked_up(portal, code)["appealable"] is True
    second = appeal(portal, device, code, grounds="The papers were clear this time.")
    assert second["outcome"] == "accepted", second
    again = appeal(portal, device, code)
    assert (again["outcome"], again["code"]) == ("rejected", "appeal.already_appealed")
    # Made alone with the PINFL, it leaves the ID-checked place open (second review: a
    # relative who knows the code and the PINFL must not take the applicant's appeal).
    assert looked_up(portal, code)["appealable"] is True
    checked = appeal(portal, device, code, grounds="Checked at the office.", operator="9")
    assert checked["outcome"] == "accepted", checked
    assert looked_up(portal, code)["appealable"] is False
    more = appeal(portal, device, code, operator="9")
    assert (more["outcome"], more["code"]) == ("rejected", "appeal.already_appealed")
    queued = {e["identified_by"]: e for e in portal.appeal_queue()}  # the first is decided
    assert set(queued) == {"pinfl", "operator_id_check"}
    entry = queued["pinfl"]
    assert queued["operator_id_check"]["tracking_code"] == checked["tracking_code"]
    assert entry["tracking_code"] == second["tracking_code"]
    assert entry["application"]["reason_code"] == "decision.info_unclear"
    assert entry["grounds"] == "The papers were clear this time."
    assert len(portal.appeal_queue("overturned")) == 1


def test_a_stalled_application_is_appealed_once_for_its_deadline(
    portal: PortalStore, clock: Clock
) -> None:
    device = enrolled(portal)
    code = submitted(portal, device, form_id="slow")
    clock.now += timedelta(days=3, seconds=1)
    own = appeal(portal, device, code)
    assert own["outcome"] == "accepted", own
    assert appeal(portal, device, code)["code"] == "appeal.already_appealed"
    portal.decide_appeal(own["tracking_code"], "overturned", actor="ombuds")
    live = looked_up(portal, code)  # looked at again: the overturn restarts the deadline
    assert live["stalled"] is False and live["appealable"] is False
    clock.now += timedelta(days=3, seconds=1)  # and it passes again, with no decision
    assert looked_up(portal, code)["appealable"] is True
    assert appeal(portal, device, code)["outcome"] == "accepted"  # a new stall
    portal.set_status(code, "rejected", reason_code="decision.not_eligible")
    assert appeal(portal, device, code)["outcome"] == "accepted"  # a decision at last


def test_an_old_database_with_an_appeal_migrates_and_keeps_it(
    backend: tuple[str, str | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step that moved "one appeal per application" to "per decision": a row made
    before keeps its decision (the application's last status when it came), so the
    same decision stays appealed and a later refusal is appealable."""
    from sync.portal import schema

    step = next(i for i, sql in enumerate(schema.MIGRATIONS) if "appeals_v2" in sql)
    folder = tmp_path / "portal"
    sealkit.seed_portal(folder)
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:step])
    old = PortalStore(folder, database=backend[1])
    try:
        old.add_form("f", "1", "cat", SPEC, "admin")
        device = enrolled(old)
        code = submitted(old, device)
        old.set_status(code, "rejected", reason_code="decision.not_eligible")
        own = submitted(old, device)  # the appeal's own submission, as stored then
        with old.transaction() as conn:
            decided = conn.execute(
                "SELECT at FROM status_log WHERE tracking_code = ? AND status = 'rejected'",
                (code,),
            ).fetchone()["at"]
            conn.execute(
                "INSERT INTO appeals (tracking_code, application_code, grounds, "
                "status_appealed, reason_code, automated, decided_at, stalled, received_at) "
                "VALUES (?, ?, 'Old grounds here.', 'rejected', 'decision.not_eligible', 0, "
                "?, 0, ?)",
                (own, code, decided, "9999-01-01T00:00:00+00:00"),
            )
    finally:
        old.close()
    monkeypatch.undo()
    store = PortalStore(folder, database=backend[1])
    try:
        (entry,) = store.appeal_queue()
        assert (entry["tracking_code"], entry["grounds"]) == (own, "Old grounds here.")
        assert entry["application"]["reason_code"] == "decision.not_eligible"
        assert entry["identified_by"] is None
        store.add_form("decision_appeal", str(APPEAL_SPEC["version"]), "appeals", APPEAL_SPEC, "b")
        assert looked_up(store, code)["appealable"] is False  # that decision: appealed
        assert appeal(store, device, code, operator="9")["code"] == "appeal.already_appealed"
        store.decide_appeal(own, "overturned", actor="ombuds")
        store.set_status(code, "rejected", reason_code="decision.info_unclear")
        assert appeal(store, device, code)["outcome"] == "accepted"
    finally:
        store.close()


def test_the_kiosk_audits_the_operators_id_check_with_the_appeal(tmp_path: Path) -> None:
    """What the appeal screen queues: the PINFL in the sealed answers, and in operator
    mode after the check, ``verified_by`` with the operator, audited (never the PINFL)."""
    from kiosk.catalog import Catalog
    from kiosk.operators import add_operator
    from kiosk.store import Store

    with Store.open(tmp_path / "kiosk") as store:
        catalog = Catalog(store)
        catalog.ensure_bundled()
        form = catalog.get("decision_appeal")
        oid = add_operator(store, "Dilnoza", "482193")
        checked = decisions.appeal_answers("K7M-4QXP-R", APPLICANT, "I sent every paper.", oid)
        plain = decisions.appeal_answers("K7M-4QXP-R", APPLICANT, "I sent every paper.")
        assert (checked["verified_by"], checked["operator_id"]) == ("operator_id_check", str(oid))
        assert "verified_by" not in plain and plain["pinfl"] == APPLICANT
        decisions.submit_appeal(store, form, checked, "uz_Cyrl", oid)
        decisions.submit_appeal(store, form, plain, "uz_Cyrl", None)
        rows = list(store.db.query("SELECT actor, action, subject, details FROM audit"))
    checks = [r for r in rows if r["action"] == decisions.APPEAL_ID_CHECKED]
    assert [(r["actor"], r["subject"]) for r in checks] == [(f"operator:{oid}", "decision_appeal")]
    assert all(APPLICANT not in str(r["details"]) for r in rows)


def test_a_note_added_to_a_refusal_is_not_a_new_decision(portal: PortalStore) -> None:
    """Second review: a reviewer setting "rejected" again (to add a note) made a new
    decision, so a second ID-checked appeal of the same refusal got in."""
    device = enrolled(portal)
    code = submitted(portal, device)
    portal.set_status(code, "rejected", reason_code="decision.documents_missing")
    first = appeal(portal, device, code, operator="9")
    assert first["outcome"] == "accepted", first
    portal.set_status(
        code, "rejected", "Bring the lease.", reason_code="decision.documents_missing"
    )
    again = appeal(portal, device, code, operator="9")
    assert (again["outcome"], again["code"]) == ("rejected", "appeal.already_appealed")
    portal.set_status(code, "rejected", reason_code="decision.info_unclear")  # another reason
    assert appeal(portal, device, code, operator="9")["outcome"] == "accepted"


def test_control_characters_in_an_appeal_never_reach_the_ombudsman(portal: PortalStore) -> None:
    """Second review: a NUL in the grounds failed the batch on PostgreSQL; escape
    sequences reached the ombudsman's terminal through `kiosk portal appeals queue`."""
    device = enrolled(portal)
    code = submitted(portal, device)
    portal.set_status(code, "rejected", reason_code="decision.documents_missing")
    hostile = "I sent\x00 every paper.\x1b[2J\x1b]0;owned\x07 Really."
    own = appeal(portal, device, code, grounds=hostile)
    assert own["outcome"] == "accepted", own
    (entry,) = portal.appeal_queue()
    assert entry["grounds"].isprintable() and "every paper." in entry["grounds"]

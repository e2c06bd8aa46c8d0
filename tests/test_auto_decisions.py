"""The portal's automated decision at ingest (issue 16): an old-age pension application
whose applicant the state registry shows below pension age is rejected at once, marked
automated, with its reason, and stays appealable; on missing data nothing is decided."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kiosk import tracking
from kiosk.wire import now_iso
from sync.portal import auto_decisions, registry, registry_synth
from sync.portal.serve import load_bundled_forms
from sync.portal.store import PortalStore
from tests import sealkit
from tests.test_portal_storage import BACKENDS, database_for

TODAY = date.today()


def _person(sex_digit: str, age: int, seed: int) -> registry.Person:
    """A synthetic person of ``age`` today whose PINFL starts with ``sex_digit``."""
    for person in registry_synth.make_people(200, seed=seed):
        if person.pinfl[0] == sex_digit:
            born = date(TODAY.year - age, 1, 1)
            return replace(person, birth_date=born.isoformat())
    raise AssertionError("no such synthetic person")


@pytest.fixture(params=BACKENDS)
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalStore]:
    with database_for(request.param) as database:
        sealkit.seed_portal(tmp_path / "portal")
        store = PortalStore(tmp_path / "portal", database=database)
        load_bundled_forms(store)
        try:
            yield store
        finally:
            store.close()


def _apply(portal: PortalStore, pinfl: str) -> str:
    dev = dict(portal.enroll(portal.create_enrolment_code("kiosk"), "kiosk"))
    [form] = [f for f in portal.forms() if f["form_id"] == "old_age_pension"]
    sent: dict[str, Any] = sealkit.seal_item(
        {
            "id": str(uuid.uuid4()),
            "tracking_code": tracking.new_code(dev["device_prefix"]),
            "form_id": "old_age_pension",
            "form_version": form["version"],
            "lang": "uz_Cyrl",
            "payload": {"full_name": "Sinov Sinovov", "pinfl": pinfl, "sex": "male"},
            "created_at": now_iso(),
        }
    )
    [result] = portal.ingest(dev["device_id"], [sent], "sync")
    assert result["outcome"] == "accepted", result
    return str(sent["tracking_code"])


def test_below_pension_age_in_the_registry_is_rejected_automatically(
    portal: PortalStore,
) -> None:
    young_man = _person("3", 45, seed=1)  # odd first digit: a man; 60 is his age
    with portal.transaction() as conn:
        registry.load(conn, [young_man])
    code = _apply(portal, young_man.pinfl)
    history = portal.status_history(code)
    assert [h["status"] for h in history] == ["received", "rejected"]
    decision = history[-1]
    assert decision["reason_code"] == "decision.not_eligible"
    assert decision["actor"] == auto_decisions.ACTOR
    looked = portal.lookup_status(code, "test")
    assert looked["status"] == "rejected" and looked.get("appealable") is True
    assert looked.get("automated") is True and looked.get("reason_code") == "decision.not_eligible"
    with portal.db.read() as conn:
        audited = conn.execute(
            "SELECT actor, detail FROM staff_audit WHERE subject = ?", (code,)
        ).fetchall()
    assert [r["actor"] for r in audited] == [auto_decisions.ACTOR]
    assert '"automated": true' in audited[0]["detail"]


def test_old_enough_or_unknown_to_the_registry_is_left_to_a_person(portal: PortalStore) -> None:
    woman = _person("4", 56, seed=2)  # even: a woman; 55 is her age
    with portal.transaction() as conn:
        registry.load(conn, [woman])
    stranger = registry_synth.make_people(1, seed=3)[0]  # not loaded
    for pinfl in (woman.pinfl, stranger.pinfl, "not a pinfl"):
        code = _apply(portal, pinfl)
        assert [h["status"] for h in portal.status_history(code)] == ["received"]


def test_the_rule_counts_birthdays_exactly() -> None:
    assert auto_decisions._age_on(date(1966, 6, 2), date(2026, 6, 1)) == 59
    assert auto_decisions._age_on(date(1966, 6, 1), date(2026, 6, 1)) == 60


def test_ages_are_counted_in_uzbekistan_and_a_leap_birthday_on_the_28th() -> None:
    """Second review: the rule counted by the UTC date (still yesterday until 05:00 in
    Tashkent) and a 29 February birthday only in leap years."""
    from datetime import UTC, datetime

    arrived = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)  # 11 March, 01:30 in Tashkent
    assert auto_decisions.local_day(arrived) == date(2026, 3, 11)
    assert auto_decisions._age_on(date(1966, 3, 11), auto_decisions.local_day(arrived)) == 60
    assert auto_decisions._age_on(date(1972, 2, 29), date(2027, 2, 28)) == 55
    assert auto_decisions._age_on(date(1972, 2, 29), date(2027, 2, 27)) == 54
    assert auto_decisions._age_on(date(1972, 2, 29), date(2028, 2, 28)) == 55

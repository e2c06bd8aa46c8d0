"""Votes, petitions and one-time codes at the portal, on SQLite and PostgreSQL: one vote
per PINFL per season whatever device sends it, pending until verified, the tally apart
from the voters, a petition's review reached once under concurrent signatures."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import participation, tracking
from kiosk.wire import now_iso
from sync.portal import registry, registry_synth, seasons
from sync.portal.otp import FakeSmsGateway
from sync.portal.participation_store import ParticipationRefused
from sync.portal.petitions import REVIEWS_COUNTER
from sync.portal.store import PortalStore
from tests import sealkit
from tests.test_portal_storage import BACKENDS, database_for

PEOPLE = registry_synth.make_people(4)


@pytest.fixture(params=BACKENDS)
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalStore]:
    with database_for(request.param) as database:
        sealkit.seed_portal(tmp_path / "portal")
        store = PortalStore(tmp_path / "portal", database=database)
        for form_id, spec in participation.FORMS.items():
            store.add_form(form_id, participation.FORM_VERSION, "participation", spec, "t")
        store.publish_season(seasons.read_file(seasons.DEMO_FILE))
        with store.transaction() as conn:
            registry.load(conn, PEOPLE)
        try:
            yield store
        finally:
            store.close()


def device(store: PortalStore) -> dict[str, str]:
    return dict(store.enroll(store.create_enrolment_code("kiosk"), "kiosk"))


def item(dev: dict[str, str], form_id: str, answers: dict[str, object]) -> dict[str, Any]:
    return sealkit.seal_item(
        {
            "id": str(uuid.uuid4()),
            "tracking_code": tracking.new_code(dev["device_prefix"]),
            "form_id": form_id,
            "form_version": participation.FORM_VERSION,
            "lang": "uz_Cyrl",
            "payload": answers,
            "created_at": now_iso(),
        }
    )


def vote(
    pinfl: str, initiative: str = "school-roof", operator: int | None = 7
) -> dict[str, object]:
    return participation.vote_answers("demo-2026", initiative, pinfl, operator)


def test_one_vote_per_pinfl_per_season_from_any_device(portal: PortalStore) -> None:
    a, b = device(portal), device(portal)
    pinfl = PEOPLE[0].pinfl
    first = item(a, participation.VOTE_FORM, vote(pinfl))
    [ok] = portal.ingest(a["device_id"], [first], "sync")
    assert ok["outcome"] == "accepted" and ok["application_number"] == "verified"
    [again] = portal.ingest(a["device_id"], [first], "sync")  # a resend: the same answer
    assert again["outcome"] == "duplicate"
    second = item(a, participation.VOTE_FORM, vote(pinfl, "street-lights"))
    other = item(b, participation.VOTE_FORM, vote(pinfl, "water-pipe"))
    [same_kiosk] = portal.ingest(a["device_id"], [second], "sync")
    [other_kiosk] = portal.ingest(b["device_id"], [other], "sync")
    for refused in (same_kiosk, other_kiosk):
        assert refused["outcome"] == "rejected" and refused.get("code") == "vote.already"
    assert portal.vote_tally("demo-2026")["votes"] == {
        "school-roof": 1,
        "street-lights": 0,
        "water-pipe": 0,
    }


def test_an_unverified_vote_is_pending_until_its_code_is_confirmed(portal: PortalStore) -> None:
    dev = device(portal)
    person = PEOPLE[1]
    [answer] = portal.ingest(
        dev["device_id"],
        [item(dev, participation.VOTE_FORM, vote(person.pinfl, operator=None))],
        "sync",
    )
    assert answer["application_number"] == "pending"
    tally = portal.vote_tally("demo-2026")
    assert tally["pending"] == 1 and sum(tally["votes"].values()) == 0
    sent = portal.send_code(person.pinfl, "uz_Cyrl")
    assert sent["phone_hint"].endswith(person.phone[-2:])
    [message] = FakeSmsGateway(portal.data_dir).messages()
    assert message["to"] == person.phone and message["gateway"] == "FAKE"
    code = re.search(r"\d{6}", message["text"])
    assert code is not None
    wrong = "000000" if code.group() != "000000" else "111111"
    with pytest.raises(ParticipationRefused) as caught:
        portal.confirm_code(person.pinfl, wrong)
    assert caught.value.code == "otp.wrong" and caught.value.body["params"]["left"] == "4"
    assert portal.confirm_code(person.pinfl, code.group()) == {
        "votes": ["demo-2026"],
        "signatures": [],
    }
    tally = portal.vote_tally("demo-2026")
    assert tally["pending"] == 0 and tally["votes"]["school-roof"] == 1
    with pytest.raises(ParticipationRefused) as used:  # a code works once
        portal.confirm_code(person.pinfl, code.group())
    assert used.value.code == "otp.expired"


def test_a_made_up_pinfl_counts_no_vote(portal: PortalStore) -> None:
    """A device sending votes for numbers in a row (no valid check digit) counts none."""
    dev = device(portal)
    sent = [item(dev, participation.VOTE_FORM, vote(f"{n:014d}")) for n in range(5)]
    results = portal.ingest(dev["device_id"], sent, "sync")
    assert {r["outcome"] for r in results} == {"rejected"}
    assert {r["code"] for r in results} == {"participation.pinfl"}
    assert sum(portal.vote_tally("demo-2026")["votes"].values()) == 0


def test_codes_are_limited_per_pinfl_and_need_a_phone_on_record(portal: PortalStore) -> None:
    dev = device(portal)
    nobody = registry_synth.make_people(1, seed=4242)[0].pinfl  # valid, not in the registry
    assert nobody not in {person.pinfl for person in PEOPLE}
    portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(nobody, operator=None))], "sync"
    )
    with pytest.raises(ParticipationRefused) as no_phone:
        portal.send_code(nobody, "ru")
    assert no_phone.value.code == "otp.no_phone"
    with pytest.raises(ParticipationRefused) as nothing:
        portal.send_code(PEOPLE[2].pinfl, "ru")
    assert nothing.value.code == "participation.nothing_pending"
    pinfl = PEOPLE[3].pinfl
    portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(pinfl, operator=None))], "sync"
    )
    for _ in range(3):
        portal.send_code(pinfl, "ru")
    with pytest.raises(ParticipationRefused) as limited:
        portal.send_code(pinfl, "ru")
    assert limited.value.code == "otp.rate_limited" and (limited.value.retry_after or 0) > 0


def test_a_verified_vote_replaces_a_pending_one_and_counts_once(portal: PortalStore) -> None:
    dev = device(portal)
    pinfl = PEOPLE[0].pinfl
    portal.ingest(
        dev["device_id"],
        [item(dev, participation.VOTE_FORM, vote(pinfl, "water-pipe", None))],
        "sync",
    )
    [ok] = portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(pinfl, "street-lights"))], "sync"
    )
    assert ok["outcome"] == "accepted"
    tally = portal.vote_tally("demo-2026")
    assert tally["votes"] == {"school-roof": 0, "street-lights": 1, "water-pipe": 0}
    assert tally["pending"] == 0


def test_the_voters_table_has_nothing_that_joins_it_to_the_tally(portal: PortalStore) -> None:
    voters = _columns_of(portal, "vote_voters")
    tally = _columns_of(portal, "vote_tally")
    # Only the season is shared (both are per season); no id, sequence or time column.
    assert voters & tally == {"season_id"}
    assert voters == {"season_id", "pinfl_tag", "state", "voted_on"}
    assert tally == {"season_id", "initiative_id", "votes"}
    dev = device(portal)
    portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(PEOPLE[0].pinfl))], "sync"
    )
    with portal.db.read() as conn:
        [row] = conn.execute("SELECT * FROM vote_voters").fetchall()
        receipts = conn.execute("SELECT * FROM participation_receipts").fetchall()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["voted_on"])  # a day, never a time
    assert PEOPLE[0].pinfl not in str(tuple(row)) and len(row["pinfl_tag"]) == 64
    assert all("school-roof" not in str(tuple(r)) for r in receipts)


def _columns_of(portal: PortalStore, table: str) -> set[str]:
    return set(_names(portal, table))


def _names(portal: PortalStore, table: str) -> list[str]:
    if portal.dialect == "sqlite":
        with portal.db.read() as conn:
            return [r["name"] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]
    with portal.db.read() as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,)
        ).fetchall()
    return [r["column_name"] for r in rows]


def _start(portal: PortalStore, dev: dict[str, str]) -> str:
    start = item(
        dev,
        participation.START_FORM,
        participation.start_answers(
            "demo",
            "Bahor koʻchasiga svetofor",
            "Bolalar maktabga xavfsiz borishi uchun svetofor kerak.",
            PEOPLE[0].pinfl,
        ),
    )
    [ok] = portal.ingest(dev["device_id"], [start], "sync")
    assert ok["outcome"] == "accepted"
    return str(start["id"])


def test_a_petition_reaches_review_at_its_threshold_once(portal: PortalStore) -> None:
    dev = device(portal)
    petition_id = _start(portal, dev)
    assert portal.petition(petition_id)["state"] == "open"
    portal.set_petition_threshold(petition_id, 2)
    signs = [
        item(dev, participation.SIGN_FORM, participation.sign_answers(petition_id, p.pinfl, 3))
        for p in PEOPLE[:3]
    ]
    portal.ingest(dev["device_id"], signs[:1], "sync")
    assert portal.petition(petition_id)["state"] == "open"
    again = item(
        dev, participation.SIGN_FORM, participation.sign_answers(petition_id, PEOPLE[0].pinfl, 3)
    )
    [refused] = portal.ingest(dev["device_id"], [again], "sync")
    assert refused.get("code") == "petition.already"
    portal.ingest(dev["device_id"], signs[1:], "sync")
    petition = portal.petition(petition_id)
    assert petition["state"] == "under_review" and petition["signatures"] == 3
    assert portal.stats() is not None
    with portal.db.read() as conn:
        row = conn.execute(
            "SELECT value FROM counters WHERE name = ?", (REVIEWS_COUNTER,)
        ).fetchone()
    assert row["value"] == 1


def test_concurrent_signatures_cross_the_threshold_once(
    portal: PortalStore, tmp_path: Path
) -> None:
    devices = [device(portal) for _ in range(4)]
    petition_id = _start(portal, devices[0])
    portal.set_petition_threshold(petition_id, 3)
    people = registry_synth.make_people(8, seed=99)
    barrier = threading.Barrier(len(devices))
    errors: list[BaseException] = []

    def sign(dev: dict[str, str], chunk: list[registry.Person]) -> None:
        try:
            barrier.wait(timeout=60)
            for person in chunk:
                answers = participation.sign_answers(petition_id, person.pinfl, 1)
                [result] = portal.ingest(
                    dev["device_id"], [item(dev, participation.SIGN_FORM, answers)], "sync"
                )
                assert result["outcome"] == "accepted", result
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=sign, args=(dev, people[i::4])) for i, dev in enumerate(devices)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    petition = portal.petition(petition_id)
    assert petition["signatures"] == 8 and petition["state"] == "under_review"
    with portal.db.read() as conn:
        row = conn.execute(
            "SELECT value FROM counters WHERE name = ?", (REVIEWS_COUNTER,)
        ).fetchone()
    assert row["value"] == 1


def test_a_season_file_is_checked(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="initiatives"):
        seasons.checked(
            {
                "season_id": "s",
                "district": "d",
                "opens_on": "2026-01-01",
                "closes_on": "2026-02-01",
                "titles": {},
                "initiatives": [],
            }
        )

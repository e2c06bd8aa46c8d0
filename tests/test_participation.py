"""Votes, petitions and one-time codes at the portal, on SQLite and PostgreSQL: one vote
per PINFL per season whatever device sends it, pending until verified, the tally apart
from the voters, a petition's review reached once under concurrent signatures."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk import participation, tracking
from kiosk.wire import now_iso
from sync.portal import ballot_box, id_checks, otp, registry, registry_synth, seasons, votes
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
        store.set_ballot_batch(1)  # counted at once; the batching has its own tests
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


def _pending(portal: PortalStore, dev: dict[str, str], pinfl: str, choice: str) -> str:
    """A self-service (unverified) vote sent by ``dev``; its item id."""
    sent = item(dev, participation.VOTE_FORM, vote(pinfl, choice, operator=None))
    [answer] = portal.ingest(dev["device_id"], [sent], "sync")
    assert answer["outcome"] == "accepted" and answer["application_number"] == "pending"
    return str(sent["id"])


def _code(portal: PortalStore, phone: str) -> str:
    texts = [m["text"] for m in FakeSmsGateway(portal.data_dir).messages() if m["to"] == phone]
    found = re.search(r"\d{6}", texts[-1])
    assert found is not None
    return found.group()


def test_an_unverified_vote_is_pending_until_its_code_is_confirmed(portal: PortalStore) -> None:
    dev = device(portal)
    person = PEOPLE[1]
    item_id = _pending(portal, dev, person.pinfl, "school-roof")
    tally = portal.vote_tally("demo-2026")
    assert tally["pending"] == 1 and sum(tally["votes"].values()) == 0
    sent = portal.send_code(person.pinfl, "uz_Cyrl", dev["device_id"], item_id)
    assert sent["phone_hint"].endswith(person.phone[-2:])
    [message] = FakeSmsGateway(portal.data_dir).messages()
    assert message["to"] == person.phone and message["gateway"] == "FAKE"
    code = _code(portal, person.phone)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ParticipationRefused) as caught:
        portal.confirm_code(person.pinfl, wrong, dev["device_id"], item_id)
    assert caught.value.code == "otp.wrong" and caught.value.body["params"]["left"] == "4"
    assert portal.confirm_code(person.pinfl, code, dev["device_id"], item_id) == {
        "votes": ["demo-2026"],
        "signatures": [],
    }
    tally = portal.vote_tally("demo-2026")
    assert tally["pending"] == 0 and tally["votes"]["school-roof"] == 1
    # A code works once: used again it counts nothing more (the item says it counted).
    assert portal.confirm_code(person.pinfl, code, dev["device_id"], item_id) == {
        "votes": [],
        "signatures": [],
    }
    assert portal.vote_tally("demo-2026")["votes"]["school-roof"] == 1


def test_a_made_up_pinfl_counts_no_vote(portal: PortalStore) -> None:
    """A device sending votes for numbers in a row (no valid check digit) counts none."""
    dev = device(portal)
    sent = [item(dev, participation.VOTE_FORM, vote(f"{n:014d}")) for n in range(5)]
    results = portal.ingest(dev["device_id"], sent, "sync")
    assert {r["outcome"] for r in results} == {"rejected"}
    assert {r["code"] for r in results} == {"participation.pinfl"}
    assert sum(portal.vote_tally("demo-2026")["votes"].values()) == 0


def test_a_pinfl_nobody_has_counts_no_vote_or_signature(portal: PortalStore) -> None:
    """Review finding: a valid-looking PINFL the registry does not hold counted as a
    verified vote on the device's word. An ID-checked item is refused; an unchecked one
    is pending like any other (its answer must not tell who exists) and can never be
    confirmed: no phone is on record."""
    dev = device(portal)
    nobody = registry_synth.make_people(3, seed=4242)
    assert not {p.pinfl for p in nobody} & {p.pinfl for p in PEOPLE}
    petition_id = _start(portal, dev)
    sign = participation.sign_answers(petition_id, nobody[2].pinfl, 4)
    sent = [
        item(dev, participation.VOTE_FORM, vote(nobody[0].pinfl)),
        item(dev, participation.SIGN_FORM, sign),
    ]
    results = portal.ingest(dev["device_id"], sent, "sync")
    assert [r.get("code") for r in results] == ["participation.unknown_person"] * 2
    item_id = _pending(portal, dev, nobody[1].pinfl, "water-pipe")
    with pytest.raises(ParticipationRefused) as no_phone:
        portal.send_code(nobody[1].pinfl, "ru", dev["device_id"], item_id)
    assert no_phone.value.code == "otp.no_phone"
    assert portal.vote_tally("demo-2026")["voters"] == 0
    assert portal.petition(petition_id)["signatures"] == 0
    attested = portal.id_checks("2000-01-01")  # every claim is counted and seen
    assert sorted((r["operator_id"], r["checks"]) for r in attested) == [("4", 1), ("7", 1)]


def test_an_unchecked_vote_does_not_tell_whether_the_pinfl_voted(portal: PortalStore) -> None:
    """Review finding: a self-service vote answered ``vote.already`` for a PINFL that had
    voted, ``pending`` otherwise. Now only the holder of the phone on record learns it,
    after the right code."""
    dev = device(portal)
    person = PEOPLE[2]
    [first] = portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(person.pinfl))], "sync"
    )
    assert first["application_number"] == "verified"
    item_id = _pending(portal, dev, person.pinfl, "water-pipe")  # not refused
    portal.send_code(person.pinfl, "ru", dev["device_id"], item_id)
    with pytest.raises(ParticipationRefused) as told:
        portal.confirm_code(person.pinfl, _code(portal, person.phone), dev["device_id"], item_id)
    assert told.value.code == "otp.already_counted"
    assert portal.vote_tally("demo-2026")["votes"]["school-roof"] == 1
    assert portal.vote_tally("demo-2026")["votes"]["water-pipe"] == 0


def test_codes_are_limited_per_pinfl_and_need_a_phone_on_record(portal: PortalStore) -> None:
    dev = device(portal)
    no_phone = registry_synth.make_people(1, seed=4242)[0]
    with portal.transaction() as conn:
        registry.load(conn, [dataclasses.replace(no_phone, phone="")])
    item_id = _pending(portal, dev, no_phone.pinfl, "water-pipe")
    with pytest.raises(ParticipationRefused) as refused:
        portal.send_code(no_phone.pinfl, "ru", dev["device_id"], item_id)
    assert refused.value.code == "otp.no_phone"
    with pytest.raises(ParticipationRefused) as nothing:  # not this PINFL's item
        portal.send_code(PEOPLE[2].pinfl, "ru", dev["device_id"], item_id)
    assert nothing.value.code == "participation.nothing_pending"
    pinfl = PEOPLE[3].pinfl
    item_id = _pending(portal, dev, pinfl, "water-pipe")
    for _ in range(3):
        portal.send_code(pinfl, "ru", dev["device_id"], item_id)
    with pytest.raises(ParticipationRefused) as limited:
        portal.send_code(pinfl, "ru", dev["device_id"], item_id)
    assert limited.value.code == "otp.rate_limited" and (limited.value.retry_after or 0) > 0


def test_codes_are_limited_per_device_and_in_all(
    portal: PortalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding: codes were limited per PINFL only, so one device could text every
    phone of a district. Now a device and the whole portal have hourly limits too."""
    monkeypatch.setattr(otp, "DEVICE_SEND_LIMIT", 2)
    monkeypatch.setattr(otp, "GLOBAL_SEND_LIMIT", 3)
    a, b = device(portal), device(portal)
    items = [(a, PEOPLE[i], _pending(portal, a, PEOPLE[i].pinfl, "water-pipe")) for i in range(3)]
    for dev, person, item_id in items[:2]:
        portal.send_code(person.pinfl, "ru", dev["device_id"], item_id)
    dev, person, item_id = items[2]
    with pytest.raises(ParticipationRefused) as per_device:
        portal.send_code(person.pinfl, "ru", dev["device_id"], item_id)
    assert per_device.value.code == "otp.rate_limited"
    other = _pending(portal, b, person.pinfl, "water-pipe")
    portal.send_code(person.pinfl, "ru", b["device_id"], other)  # another device may
    last = _pending(portal, b, PEOPLE[3].pinfl, "water-pipe")
    with pytest.raises(ParticipationRefused) as in_all:
        portal.send_code(PEOPLE[3].pinfl, "ru", b["device_id"], last)
    assert in_all.value.code == "otp.rate_limited"
    assert len(FakeSmsGateway(portal.data_dir).messages()) == 3


def test_a_planted_vote_neither_blocks_the_citizen_nor_takes_their_code(
    portal: PortalStore,
) -> None:
    """Review finding: anyone could type a victim's PINFL at a kiosk, leaving a pending
    vote that refused the victim's own vote and that the victim's code then confirmed.
    Nor may planted items fill the victim's room, or a stranger's code request void the
    victim's code (second review)."""
    attacker, kiosk = device(portal), device(portal)
    victim = PEOPLE[0]
    planted = [_pending(portal, attacker, victim.pinfl, "water-pipe") for _ in range(3)]
    own = _pending(portal, kiosk, victim.pinfl, "school-roof")  # not refused
    with pytest.raises(ParticipationRefused) as elsewhere:  # another device's item
        portal.send_code(victim.pinfl, "ru", kiosk["device_id"], planted[0])
    assert elsewhere.value.code == "participation.nothing_pending"
    portal.send_code(victim.pinfl, "ru", kiosk["device_id"], own)
    code = _code(portal, victim.phone)
    portal.send_code(victim.pinfl, "ru", attacker["device_id"], planted[1])  # a stranger's
    portal.send_code(victim.pinfl, "ru", attacker["device_id"], planted[2])
    with pytest.raises(ParticipationRefused) as other_item:  # the code is for `own` only
        portal.confirm_code(victim.pinfl, code, attacker["device_id"], planted[0])
    assert other_item.value.code == "otp.expired"
    assert portal.confirm_code(victim.pinfl, code, kiosk["device_id"], own)["votes"] == [
        "demo-2026"
    ]
    tally = portal.vote_tally("demo-2026")
    assert tally["votes"] == {"school-roof": 1, "street-lights": 0, "water-pipe": 0}
    # The planted votes stay until they expire (second review: had the citizen's vote
    # removed them, a stranger could watch them vanish and learn when the citizen voted);
    # a code for one tells only the phone's holder that the PINFL had voted.
    assert tally["pending"] == 3
    portal.send_code(victim.pinfl, "ru", attacker["device_id"], planted[0])
    with pytest.raises(ParticipationRefused) as told:
        portal.confirm_code(
            victim.pinfl, _code(portal, victim.phone), attacker["device_id"], planted[0]
        )
    assert told.value.code == "otp.already_counted"
    assert portal.vote_tally("demo-2026")["votes"]["water-pipe"] == 0


def test_a_strangers_requests_never_use_up_the_citizens_codes(portal: PortalStore) -> None:
    """Second review: ten code requests from a stranger's kiosk for items planted under
    the citizen's PINFL used up the citizen's hourly sends."""
    attacker, kiosk = device(portal), device(portal)
    victim = PEOPLE[1]
    season_items = [_pending(portal, attacker, victim.pinfl, "water-pipe") for _ in range(3)]
    for planted in season_items:
        for _ in range(otp.ITEM_SEND_LIMIT):
            portal.send_code(victim.pinfl, "ru", attacker["device_id"], planted)
    own = _pending(portal, kiosk, victim.pinfl, "school-roof")
    portal.send_code(victim.pinfl, "ru", kiosk["device_id"], own)  # not rate limited
    assert portal.confirm_code(
        victim.pinfl, _code(portal, victim.phone), kiosk["device_id"], own
    ) == {"votes": ["demo-2026"], "signatures": []}


def test_a_confirmation_whose_answer_was_lost_is_told_it_counted(portal: PortalStore) -> None:
    """Second review: the portal counted the vote, the answer was lost, and the kiosk's
    retry met a spent code, leaving the kiosk's row pending for ever."""
    dev = device(portal)
    person = PEOPLE[2]
    item_id = _pending(portal, dev, person.pinfl, "water-pipe")
    portal.send_code(person.pinfl, "ru", dev["device_id"], item_id)
    code = _code(portal, person.phone)
    assert portal.confirm_code(person.pinfl, code, dev["device_id"], item_id)["votes"]
    again = portal.confirm_code(person.pinfl, code, dev["device_id"], item_id)
    assert again == {"votes": [], "signatures": []}  # counted before: no error
    other = _pending(portal, dev, PEOPLE[3].pinfl, "water-pipe")
    with pytest.raises(ParticipationRefused) as never:  # an item never confirmed: no
        portal.confirm_code(PEOPLE[3].pinfl, code, dev["device_id"], other)
    assert never.value.code == "otp.expired"


def test_control_characters_in_answers_are_refused_not_a_failed_batch(
    portal: PortalStore,
) -> None:
    """Second review: a NUL in an answer failed the whole batch on PostgreSQL (500), so
    every item queued behind it was stuck."""
    dev = device(portal)
    bad_season = participation.vote_answers("demo-2026\x00", "water-pipe", PEOPLE[0].pinfl, 7)
    bad_operator = {**vote(PEOPLE[1].pinfl), "operator_id": "7\x00"}
    boolean = {**vote(PEOPLE[2].pinfl), "operator_id": True}
    sent = [
        item(dev, participation.VOTE_FORM, answers)
        for answers in (bad_season, bad_operator, boolean, vote(PEOPLE[3].pinfl))
    ]
    results = portal.ingest(dev["device_id"], sent, "sync")
    assert results[0].get("code") == "vote.initiative_unknown"
    assert [r["application_number"] for r in results[1:]] == ["pending", "pending", "verified"]


def test_a_closed_season_takes_no_confirmation(tmp_path: Path) -> None:
    """Review finding: a code confirmed after the season closed changed the final tally
    by one ballot, counted alone."""
    moment = [datetime(2026, 6, 1, 23, 55, tzinfo=UTC)]
    with _clocked_portal(tmp_path, moment, closes_on="2026-06-01") as store:
        dev = device(store)
        person = PEOPLE[1]
        item_id = _pending(store, dev, person.pinfl, "water-pipe")
        store.send_code(person.pinfl, "ru", dev["device_id"], item_id)
        code = _code(store, person.phone)
        moment[0] += timedelta(minutes=6)  # the next day, the code still fresh
        with pytest.raises(ParticipationRefused) as closed:
            store.confirm_code(person.pinfl, code, dev["device_id"], item_id)
        assert closed.value.code == "otp.season_closed"
        final = store.vote_tally("demo-2026")
        assert final["votes"] == {"school-roof": 0, "street-lights": 0, "water-pipe": 0}
        assert final["pending"] == 0
        with pytest.raises(ParticipationRefused) as gone:  # and no new code for it
            store.send_code(person.pinfl, "ru", dev["device_id"], item_id)
        assert gone.value.code == "participation.nothing_pending"


@contextlib.contextmanager
def _clocked_portal(
    tmp_path: Path, moment: list[datetime], closes_on: str | None = None
) -> Iterator[PortalStore]:
    sealkit.seed_portal(tmp_path / "portal")
    store = PortalStore(tmp_path / "portal", clock=lambda: moment[0])
    try:
        for form_id, spec in participation.FORMS.items():
            store.add_form(form_id, participation.FORM_VERSION, "participation", spec, "t")
        season = seasons.read_file(seasons.DEMO_FILE)
        if closes_on is not None:
            season = {**season, "closes_on": closes_on}
        store.publish_season(season)
        with store.transaction() as conn:
            registry.load(conn, PEOPLE)
        yield store
    finally:
        store.close()


def test_pending_votes_expire_and_are_capped_per_device(tmp_path: Path) -> None:
    moment = [datetime(2026, 6, 1, 9, 0, tzinfo=UTC)]
    with _clocked_portal(tmp_path, moment) as store:
        dev, other = device(store), device(store)
        person = PEOPLE[1]
        ids = [_pending(store, dev, person.pinfl, "water-pipe") for _ in range(votes.MAX_PENDING)]
        extra = item(dev, participation.VOTE_FORM, vote(person.pinfl, operator=None))
        [capped] = store.ingest(dev["device_id"], [extra], "sync")
        assert capped.get("code") == "participation.too_many_pending"
        _pending(store, other, person.pinfl, "school-roof")  # another device's room
        assert store.vote_tally("demo-2026")["pending"] == votes.MAX_PENDING + 1
        moment[0] += timedelta(days=votes.PENDING_DAYS - 1)  # the last day it lives
        store.send_code(person.pinfl, "ru", dev["device_id"], ids[0])
        moment[0] += timedelta(days=1)
        assert store.vote_tally("demo-2026")["pending"] == 0
        with pytest.raises(ParticipationRefused) as expired:
            store.send_code(person.pinfl, "ru", dev["device_id"], ids[1])
        assert expired.value.code == "participation.nothing_pending"
        _pending(store, dev, person.pinfl, "water-pipe")  # the cap counts live ones only


def test_operator_id_checks_are_counted_and_capped(
    portal: PortalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review finding: any number of votes counted on a device's word that its operator
    checked the ID. Each claimed check is now counted per device, operator and day
    (a refused item's too: claims are how a device could probe who voted), listed for
    audit, and beyond the cap the vote waits for a code."""
    monkeypatch.setattr(id_checks, "OPERATOR_DAILY", 2)
    dev = device(portal)
    sent = [item(dev, participation.VOTE_FORM, vote(p.pinfl, operator=7)) for p in PEOPLE[:3]]
    results = portal.ingest(dev["device_id"], sent, "sync")
    assert [r["application_number"] for r in results] == ["verified", "verified", "pending"]
    other = item(dev, participation.VOTE_FORM, vote(PEOPLE[3].pinfl, operator=8))
    [ok] = portal.ingest(dev["device_id"], [other], "sync")
    assert ok["application_number"] == "verified"  # another operator of the same kiosk
    rows = portal.id_checks("2000-01-01")
    assert [(r["operator_id"], r["checks"]) for r in rows] == [("7", 2), ("8", 1)]
    assert {r["device_id"] for r in rows} == {dev["device_id"]}
    assert all(PEOPLE[0].pinfl not in str(r) for r in rows)


def test_a_verified_vote_supersedes_pending_ones_and_counts_once(portal: PortalStore) -> None:
    dev = device(portal)
    pinfl = PEOPLE[0].pinfl
    _pending(portal, dev, pinfl, "water-pipe")
    [ok] = portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(pinfl, "street-lights"))], "sync"
    )
    assert ok["outcome"] == "accepted"
    tally = portal.vote_tally("demo-2026")
    assert tally["votes"] == {"school-roof": 0, "street-lights": 1, "water-pipe": 0}
    assert tally["pending"] == 0


def test_ballots_are_counted_in_batches(portal: PortalStore) -> None:
    """The tally changes only by a whole batch of ballots: no single voter's choice can
    be read off a change of the tally."""
    portal.set_ballot_batch(3)
    dev = device(portal)
    choices = ["water-pipe", "school-roof"]
    for person, choice in zip(PEOPLE[:2], choices, strict=True):
        portal.ingest(
            dev["device_id"],
            [item(dev, participation.VOTE_FORM, vote(person.pinfl, choice))],
            "sync",
        )
    tally = portal.vote_tally("demo-2026")
    assert tally["voters"] == 0 and sum(tally["votes"].values()) == 0  # how many wait: untold
    assert portal.ballots_waiting("demo-2026") == 2
    with portal.db.read() as conn:
        boxed = [str(tuple(r)) for r in conn.execute("SELECT * FROM vote_box").fetchall()]
    assert len(boxed) == 2 and not any(c in b for b in boxed for c in choices)
    portal.ingest(
        dev["device_id"],
        [item(dev, participation.VOTE_FORM, vote(PEOPLE[2].pinfl, "water-pipe"))],
        "sync",
    )
    tally = portal.vote_tally("demo-2026")
    assert tally["votes"] == {"school-roof": 1, "street-lights": 0, "water-pipe": 2}
    with portal.db.read() as conn:
        assert conn.execute("SELECT COUNT(*) AS n FROM vote_box").fetchone()["n"] == 0


def test_a_closed_season_counts_its_last_ballots(tmp_path: Path) -> None:
    moment = [datetime(2026, 6, 1, 9, 0, tzinfo=UTC)]
    with _clocked_portal(tmp_path, moment, closes_on="2026-06-30") as store:
        dev = device(store)
        store.ingest(
            dev["device_id"], [item(dev, participation.VOTE_FORM, vote(PEOPLE[0].pinfl))], "sync"
        )
        tally = store.vote_tally("demo-2026")
        assert sum(tally["votes"].values()) == 0 and tally["voters"] == 0  # waiting, untold
        assert store.ballots_waiting("demo-2026") == 1
        moment[0] = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
        assert store.vote_tally("demo-2026")["votes"]["school-roof"] == 1


def test_a_sealed_ballot_is_the_same_size_whatever_the_choice() -> None:
    """Second review: AES-GCM keeps the plaintext's length, so unpadded ballots named
    their initiative by their size."""
    key = ballot_box.key_from(b"k" * 32)
    sizes = {len(ballot_box.seal(key, "s", choice)) for choice in ("a", "water-pipe", "x" * 64)}
    assert len(sizes) == 1
    assert ballot_box.open_sealed(key, "s", ballot_box.seal(key, "s", "water-pipe")) == "water-pipe"
    assert ballot_box.open_sealed(key, "other", ballot_box.seal(key, "s", "water-pipe")) is None


def test_rows_that_do_not_open_make_no_batch(portal: PortalStore) -> None:
    """Second review: junk rows in the box let one real ballot be counted alone."""
    portal.set_ballot_batch(5)
    with portal.transaction() as conn:
        for n in range(4):
            conn.execute(
                "INSERT INTO vote_box (ballot_id, season_id, sealed) VALUES (?, ?, ?)",
                (f"junk{n}", "demo-2026", "AAAA"),
            )
    dev = device(portal)
    portal.ingest(
        dev["device_id"], [item(dev, participation.VOTE_FORM, vote(PEOPLE[0].pinfl))], "sync"
    )
    assert sum(portal.vote_tally("demo-2026")["votes"].values()) == 0


def test_no_tally_row_shares_a_transaction_with_a_voter(portal: PortalStore) -> None:
    """Review finding: on PostgreSQL the voter insert and the tally update shared a
    transaction, so the hidden ``xmin`` column joined each voter to their choice."""
    if portal.dialect != "postgres":
        pytest.skip("xmin is PostgreSQL's (SQLite keeps no writer id on a row)")
    dev = device(portal)
    for person, choice in zip(PEOPLE[:3], ["water-pipe", "school-roof", "water-pipe"], strict=True):
        portal.ingest(
            dev["device_id"],
            [item(dev, participation.VOTE_FORM, vote(person.pinfl, choice))],
            "sync",
        )
    with portal.db.read() as conn:
        voters = {
            r["x"] for r in conn.execute("SELECT xmin::text AS x FROM vote_voters").fetchall()
        }
        tally = {r["x"] for r in conn.execute("SELECT xmin::text AS x FROM vote_tally").fetchall()}
    assert len(voters) == 3 and not voters & tally
    assert portal.vote_tally("demo-2026")["votes"]["water-pipe"] == 2


def test_the_voters_table_has_nothing_that_joins_it_to_the_tally(portal: PortalStore) -> None:
    voters = _columns_of(portal, "vote_voters")
    tally = _columns_of(portal, "vote_tally")
    # Only the season is shared (both are per season); no id, sequence or time column.
    assert voters & tally == {"season_id"}
    assert voters == {"season_id", "pinfl_tag", "state", "voted_on"}
    assert set(_names(portal, "vote_box")) == {"ballot_id", "season_id", "sealed"}
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
    with portal.transaction() as conn:
        registry.load(conn, people)
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


def test_step_14_keeps_pending_votes_and_signatures_made_before_it(tmp_path: Path) -> None:
    """A portal upgraded with unconfirmed votes and signatures keeps them (under a
    legacy item id, until they expire) and its verified voters and tallies as they were."""
    import sqlite3

    from sync.portal import schema

    path = tmp_path / "portal.db"
    conn = sqlite3.connect(path)
    conn.create_function("derived_prefix", 1, tracking.prefix_from_id, deterministic=True)
    for statement in schema._statements(schema.SCHEMA):
        conn.execute(statement)
    for number, step in enumerate(schema.MIGRATIONS[:13], start=1):
        for statement in schema._statements(step):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.executescript(
        """
        INSERT INTO vote_voters VALUES ('s', 'tagA', 'verified', '2026-05-01');
        INSERT INTO vote_voters VALUES ('s', 'tagB', 'pending', '2026-05-02');
        INSERT INTO vote_pending VALUES ('s', 'tagB', 'roof');
        INSERT INTO vote_tally VALUES ('s', 'roof', 1);
        INSERT INTO petition_signers VALUES ('p', 'tagC', 'pending', '2026-05-03');
        INSERT INTO petition_signers VALUES ('p', 'tagD', 'verified', '2026-05-03');
        """
    )
    conn.commit()
    schema.migrate_sqlite(conn)
    conn.row_factory = sqlite3.Row
    assert [tuple(r) for r in conn.execute("SELECT season_id, pinfl_tag FROM vote_voters")] == [
        ("s", "tagA")
    ]
    [pending] = conn.execute("SELECT * FROM vote_pending_items").fetchall()
    assert (pending["device_id"], pending["pinfl_tag"], pending["initiative_id"]) == (
        "legacy",
        "tagB",
        "roof",
    )
    assert pending["made_on"] == "2026-05-02"
    assert conn.execute("SELECT votes FROM vote_tally").fetchone()[0] == 1
    [signer] = conn.execute("SELECT pinfl_tag FROM petition_signers").fetchall()
    assert signer[0] == "tagD"
    [waiting] = conn.execute("SELECT pinfl_tag, made_on FROM petition_pending").fetchall()
    assert tuple(waiting) == ("tagC", "2026-05-03")
    conn.close()

"""Claims on pre-enrolment codes (sync/portal/claims.py): issue 12's brute-forced prefix.

The reviewer's attack: a device id whose derived pre-enrolment prefix equals the
victim's is found in seconds; enrolled with it, the attacker sent the victim's queued
items (replayed, or edited with a recomputed hash) as its own. Here the search is run
for real, and the attacker's twin device gets nothing of the victim's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import tracking
from kiosk.wire import content_hash, now_iso
from sync import wire
from sync.portal.storage import PortalStoreError
from sync.portal.store import PortalStore
from tests import sealkit
from tests.integration.synckit import device_id_deriving, twin_of

VICTIM = "5f0c2a4e-9d1b-4c3e-8a7f-0123456789ab"


@pytest.fixture(scope="module")
def twin() -> str:
    return twin_of(VICTIM)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PortalStore]:
    sealkit.seed_portal(tmp_path / "portal")
    portal = PortalStore(tmp_path / "portal")
    portal.add_form("f", "1", "", {"fields": []}, "admin")
    yield portal
    portal.close()


def item(prefix: str, n: int = 0) -> dict[str, Any]:
    payload = {"card": "8600 1111 2222 3333", "n": n}
    return sealkit.seal_item(
        {
            "id": str(uuid.uuid4()),
            "tracking_code": tracking.new_code(prefix),
            "form_id": "f",
            "form_version": "1",
            "lang": "en",
            "payload": payload,
            "created_at": now_iso(),
        }
    )


def claim(one: dict[str, Any]) -> dict[str, object]:
    return {k: one[k] for k in ("id", "tracking_code", "content_hash")}


def enrol(store: PortalStore, device_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    code = store.create_enrolment_code(device_id[:8])
    prefix = tracking.prefix_from_id(device_id)
    return dict(store.enroll(code, "k", device_id, prefix, claims=[claim(i) for i in items]))


def edited(one: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in one.items() if k not in ("sealed", "content_hash")}
    return sealkit.seal_item({**rest, "payload": {"card": "9860 6666 6666 6666", "n": 0}})


def outcomes(results: list[Any]) -> list[tuple[str, str | None]]:
    return [(r["outcome"], r.get("code")) for r in results]


def test_a_brute_forced_twin_gets_nothing_of_the_victims(store: PortalStore, twin: str) -> None:
    assert tracking.prefix_from_id(twin) == tracking.prefix_from_id(VICTIM)
    queued = [item(tracking.prefix_from_id(VICTIM), n) for n in range(3)]
    assert enrol(store, VICTIM, queued)["refused_claims"] == []
    # The twin enrols after, registering the same pre-prefix and claiming A's codes.
    answer = enrol(store, twin, queued)
    assert [(r["tracking_code"], r["code"]) for r in answer["refused_claims"]] == [
        (i["tracking_code"], "claim.taken") for i in queued
    ]
    results = store.ingest(twin, [queued[0], edited(queued[1])], "sync")
    assert outcomes(results) == [("rejected", "item.foreign_code")] * 2
    results = store.ingest(VICTIM, queued, "sync")
    assert outcomes(results) == [("accepted", None)] * 3
    rows = store.conn.execute(
        "SELECT device_id, id, content_hash FROM submissions ORDER BY tracking_code"
    ).fetchall()
    assert sorted(tuple(r) for r in rows) == sorted(
        (VICTIM, i["id"], i["content_hash"]) for i in queued
    )


def test_a_twin_enrolled_first_without_the_payloads_cannot_take_the_codes(
    store: PortalStore, twin: str
) -> None:
    queued = [item(tracking.prefix_from_id(VICTIM), n) for n in range(2)]
    enrol(store, twin, [])  # the twin does not know A's items yet
    results = store.ingest(twin, [queued[0], edited(queued[1])], "sync")
    assert outcomes(results) == [("rejected", "item.foreign_code")] * 2
    assert enrol(store, VICTIM, queued)["refused_claims"] == []
    assert outcomes(store.ingest(VICTIM, queued, "sync")) == [("accepted", None)] * 2


def test_the_claimant_itself_cannot_send_an_edited_claimed_item(store: PortalStore) -> None:
    queued = item(tracking.prefix_from_id(VICTIM))
    enrol(store, VICTIM, [queued])
    other_id = {**queued, "id": str(uuid.uuid4())}
    results = store.ingest(VICTIM, [edited(queued), other_id], "sync")
    assert outcomes(results) == [("rejected", "item.claim_mismatch")] * 2
    assert outcomes(store.ingest(VICTIM, [queued], "sync")) == [("accepted", None)]


def test_an_assigned_prefix_overlapping_a_pre_prefix_takes_no_pre_enrolment_code(
    store: PortalStore,
) -> None:
    pre = tracking.prefix_from_id(VICTIM)
    claimed, unclaimed = item(pre, 1), item(pre, 2)
    other = enrol(store, str(uuid.uuid4()), [])
    with store.transaction() as conn:  # its 3-symbol prefix is the start of A's 4
        conn.execute("UPDATE devices SET prefix = ? WHERE id = ?", (pre[:3], other["device_id"]))
    enrol(store, VICTIM, [claimed])
    results = store.ingest(other["device_id"], [claimed, unclaimed], "sync")
    assert outcomes(results) == [("rejected", "item.foreign_code")] * 2
    assert outcomes(store.ingest(other["device_id"], [item(pre[:3])], "sync")) == [
        ("accepted", None)
    ]


def test_two_legit_kiosks_sharing_a_pre_prefix_both_get_their_items(
    store: PortalStore, twin: str
) -> None:
    pre = tracking.prefix_from_id(VICTIM)
    mine, theirs = [item(pre, 1), item(pre, 2)], [item(pre, 3)]
    assert enrol(store, VICTIM, mine)["refused_claims"] == []
    assert enrol(store, twin, theirs)["refused_claims"] == []
    assert outcomes(store.ingest(twin, [*theirs, mine[0]], "sync")) == [
        ("accepted", None),
        ("rejected", "item.foreign_code"),
    ]
    assert outcomes(store.ingest(VICTIM, [*mine, *theirs], "sync")) == [
        ("accepted", None),
        ("accepted", None),
        ("rejected", "item.foreign_code"),
    ]


def test_re_enrolment_resends_claims_idempotently(store: PortalStore) -> None:
    queued = [item(tracking.prefix_from_id(VICTIM), n) for n in range(2)]
    assert enrol(store, VICTIM, queued)["refused_claims"] == []
    code = store.create_enrolment_code("again", device_id=VICTIM)
    again = store.enroll(
        code, "k", VICTIM, tracking.prefix_from_id(VICTIM), claims=[claim(i) for i in queued]
    )
    assert again["refused_claims"] == []
    count = store.conn.execute("SELECT COUNT(*) FROM code_claims").fetchone()[0]
    assert count == 2
    assert outcomes(store.ingest(VICTIM, queued, "sync")) == [("accepted", None)] * 2


def test_malformed_and_foreign_shaped_claims_are_refused(store: PortalStore) -> None:
    pre = tracking.prefix_from_id(VICTIM)
    good = item(pre)
    bad_hash = {**claim(item(pre)), "content_hash": "nope"}
    post_shape = claim(item(pre[:3]))  # not a pre-enrolment code of this device
    answer = store.enroll(
        store.create_enrolment_code("k"),
        "k",
        VICTIM,
        pre,
        claims=[claim(good), bad_hash, post_shape, {"tracking_code": 5}],
    )
    assert [r["code"] for r in answer["refused_claims"]] == ["claim.invalid"] * 3


def test_more_claims_than_the_bound_are_refused_before_the_code_is_spent(
    store: PortalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wire, "MAX_CLAIMS", 2)
    pre = tracking.prefix_from_id(VICTIM)
    code = store.create_enrolment_code("k")
    claims = [claim(item(pre, n)) for n in range(3)]
    with pytest.raises(PortalStoreError) as refused:
        store.enroll(code, "k", VICTIM, pre, claims=claims)
    assert "2" in str(refused.value)
    assert store.enroll(code, "k", VICTIM, pre, claims=claims[:2])["refused_claims"] == []


def test_a_device_enrolled_before_claims_keeps_its_prefix_rule(store: PortalStore) -> None:
    pre = tracking.prefix_from_id(VICTIM)
    answer = enrol(store, VICTIM, [])
    with store.transaction() as conn:  # as migration 5 marks a device already enrolled
        conn.execute("UPDATE devices SET legacy = 1 WHERE id = ?", (VICTIM,))
    v1_code = tracking.sequential_code(answer["device_prefix"], 7)  # sealed with its code
    v1 = sealkit.reseal({**item(pre, 1), "tracking_code": v1_code}, {"card": "8600", "n": 1})
    results = store.ingest(VICTIM, [item(pre, 2), v1, item(answer["device_prefix"])], "sync")
    assert outcomes(results) == [("accepted", None)] * 3


def test_a_twin_of_an_assigned_prefix_cannot_claim_codes_made_after_enrolment(
    store: PortalStore,
) -> None:
    """The second review: a code made after enrolment is 3 + 6 + check = 10 symbols,
    which reads as a 4-symbol derived prefix + 5 + check. A device id whose derived
    prefix is the victim's assigned prefix plus the code's next symbol could claim a
    receipt's code with an id and hash of its own, and then take it. Claims of that
    length are refused, and the victim's item arrives."""
    victim = enrol(store, VICTIM, [])
    receipt = item(victim["device_prefix"])  # printed on a citizen's receipt
    code = receipt["tracking_code"]
    assert len(code) == 10
    target = code[: tracking.DERIVED_PREFIX_LEN]
    twin = device_id_deriving(target)
    forged = {**item(target), "tracking_code": code}  # its own id and answers
    answer = enrol(store, twin, [forged])
    assert [(r["tracking_code"], r["code"]) for r in answer["refused_claims"]] == [
        (code, "claim.invalid")
    ]
    results = store.ingest(answer["device_id"], [forged], "sync")
    assert outcomes(results) == [("rejected", "item.foreign_code")]
    mine = store.ingest(victim["device_id"], [receipt], "sync")
    assert outcomes(mine) == [("accepted", None)]


def test_a_legacy_devices_pre_enrolment_codes_cannot_be_claimed_by_a_twin(
    store: PortalStore, twin: str
) -> None:
    """The third review: a device enrolled before claims existed owns its queued
    pre-enrolment codes without claims; a twin of its pre-prefix claimed one, and the
    legacy device's real item was then refused."""
    pre = tracking.prefix_from_id(VICTIM)
    enrol(store, VICTIM, [])
    with store.transaction() as conn:  # as migration 5 marks a device already enrolled
        conn.execute("UPDATE devices SET legacy = 1 WHERE id = ?", (VICTIM,))
    queued = item(pre)  # made before enrolment, never claimed
    forged = {**item(pre), "tracking_code": queued["tracking_code"]}
    answer = enrol(store, twin, [forged])
    assert [(r["tracking_code"], r["code"]) for r in answer["refused_claims"]] == [
        (queued["tracking_code"], "claim.taken")
    ]
    assert outcomes(store.ingest(answer["device_id"], [forged], "sync")) == [
        ("rejected", "item.foreign_code")
    ]
    assert outcomes(store.ingest(VICTIM, [queued], "sync")) == [("accepted", None)]


def test_a_legacy_pre_prefix_does_not_cover_a_new_devices_codes(store: PortalStore) -> None:
    """The third review: a legacy device's pre-prefix followed by 6 symbols is 10
    symbols, the shape of a code made after enrolment by a device whose assigned prefix
    is that pre-prefix's first three symbols. It is not the legacy device's."""
    newer = enrol(store, VICTIM, [])
    receipt = item(newer["device_prefix"])
    legacy_id = device_id_deriving(receipt["tracking_code"][: tracking.DERIVED_PREFIX_LEN])
    legacy = enrol(store, legacy_id, [])
    with store.transaction() as conn:
        conn.execute("UPDATE devices SET legacy = 1 WHERE id = ?", (legacy_id,))
    squat = {**item(legacy["device_prefix"]), "tracking_code": receipt["tracking_code"]}
    assert outcomes(store.ingest(legacy_id, [squat], "sync")) == [("rejected", "item.foreign_code")]
    assert outcomes(store.ingest(VICTIM, [receipt], "sync")) == [("accepted", None)]


def test_a_claim_made_before_sealing_matches_the_sealed_item(store: PortalStore) -> None:
    """A kiosk that enrolled before sealing claimed its items with the answers' hash;
    sealed since (kiosk/seal_store.py), they carry the blob's. The portal matches the
    claim on the opened answers' hash: the item is accepted, an edited one is not."""
    queued = item(tracking.prefix_from_id(VICTIM))
    answers = {"card": "8600 1111 2222 3333", "n": 0}  # what `item` sealed
    old_claim = {**claim(queued), "content_hash": content_hash(answers)}
    code = store.create_enrolment_code(VICTIM[:8])
    prefix = tracking.prefix_from_id(VICTIM)
    assert store.enroll(code, "k", VICTIM, prefix, claims=[old_claim])["refused_claims"] == []
    results = store.ingest(VICTIM, [edited(queued), queued], "sync")
    assert outcomes(results) == [("rejected", "item.claim_mismatch"), ("accepted", None)]

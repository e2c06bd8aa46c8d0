"""The `PortalStorage` contract, over every backend (only SQLite exists today).

A new backend (PostgreSQL) adds itself to BACKENDS and must pass these unchanged:
the API layer relies on nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.wire import content_hash, now_iso
from sync.portal.storage import EnrolmentRefused, PortalStorage, PortalStoreError
from sync.portal.store import PortalStore

BACKENDS: dict[str, Callable[[Path], PortalStorage]] = {"sqlite": PortalStore}
SPEC: dict[str, Any] = {"type": "survey", "name": "data", "id_string": "f", "children": []}


@pytest.fixture(params=sorted(BACKENDS))
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalStorage]:
    store = BACKENDS[request.param](tmp_path / "portal")
    store.add_form("f", "1", "cat", SPEC, "admin")
    try:
        yield store
    finally:
        store.close()


def enrolled(storage: PortalStorage, name: str = "kiosk") -> dict[str, str]:
    return storage.enroll(storage.create_enrolment_code(name), name)


def item(**changes: Any) -> dict[str, Any]:
    payload = {"a": 1}
    base = {
        "id": str(uuid.uuid4()),
        "tracking_code": "T-" + uuid.uuid4().hex[:10].upper(),
        "form_id": "f",
        "form_version": "1",
        "lang": "en",
        "payload": payload,
        "content_hash": content_hash(payload),
        "created_at": now_iso(),
    }
    return {**base, **changes}


def test_enrolment_codes_are_one_time_and_tokens_name_devices(storage: PortalStorage) -> None:
    code = storage.create_enrolment_code("Chilonzor 12")
    assert len(code) == 17 and [len(g) for g in code.split("-")] == [4, 4, 4, 2]
    typed = code.lower().replace("-", " ").replace("a", "а")  # loosely, Cyrillic а too
    answer = storage.enroll(typed, "kiosk-7")
    assert answer["name"] == "Chilonzor 12"  # the code's name, not what the kiosk says
    for wrong in (code, "ZZZZ-ZZZZ"):
        with pytest.raises(EnrolmentRefused) as refused:
            storage.enroll(wrong, "k2")
        assert refused.value.body["code"] == "enrol.code"
    device = storage.device_for_token(answer["token"])
    assert device is not None and device.id == answer["device_id"]
    assert device.prefix == answer["device_prefix"] and device.name == "Chilonzor 12"
    assert storage.device(answer["device_id"]) == device and not device.revoked
    assert storage.device_for_token("nope") is None


def test_re_enrolment_needs_a_code_made_for_the_device_and_revoking_stops_it(
    storage: PortalStorage,
) -> None:
    first = enrolled(storage)
    unbound = storage.create_enrolment_code("thief")
    with pytest.raises(EnrolmentRefused) as refused:
        storage.enroll(unbound, "k", first["device_id"])
    assert refused.value.body["code"] == "enrol.device_bound"
    assert refused.value.body["params"] == {"device_id": first["device_id"]}
    assert storage.device_for_token(first["token"]) is not None  # the victim keeps working
    made_before = storage.create_enrolment_code("k", first["device_id"])
    storage.revoke_device(first["device_id"])
    assert storage.device_for_token(first["token"]) is None
    device = storage.device(first["device_id"])
    assert device is not None and device.revoked
    with pytest.raises(EnrolmentRefused):  # revoking voided the code made for it before
        storage.enroll(made_before, "k", first["device_id"])
    with pytest.raises(EnrolmentRefused) as refused:  # still refused after revocation
        storage.enroll(unbound, "k", first["device_id"])
    assert refused.value.body["code"] == "enrol.device_bound"
    bound = storage.create_enrolment_code("Yunusobod 4", first["device_id"])
    with pytest.raises(EnrolmentRefused) as refused:  # bound to X: never enrols another
        storage.enroll(bound, "k", str(uuid.uuid4()))
    assert refused.value.body["code"] == "enrol.other_device"
    again = storage.enroll(bound, "k", first["device_id"])  # not spent by the refusal
    assert (again["device_id"], again["device_prefix"], again["name"]) == (
        first["device_id"],
        first["device_prefix"],
        "Yunusobod 4",
    )
    assert storage.device_for_token(again["token"]) is not None
    with pytest.raises(PortalStoreError):
        storage.revoke_device("no-such-device")


def test_forms_and_the_catalog_etag(storage: PortalStorage) -> None:
    etag = storage.catalog_etag()
    assert storage.catalog_etag() == etag
    assert storage.add_form("f", "1", "cat", SPEC, "admin") is False
    assert storage.catalog_etag() == etag
    assert storage.add_form("e", "2", "", SPEC, "admin") is True
    assert storage.catalog_etag() != etag
    assert [(f["form_id"], f["version"]) for f in storage.forms()] == [("e", "2"), ("f", "1")]
    assert storage.forms()[1] == {"form_id": "f", "version": "1", "category": "cat", "spec": SPEC}


def test_ingest_outcomes_in_order(storage: PortalStorage) -> None:
    device = enrolled(storage)["device_id"]
    good, other = item(), item()
    changed = {"a": 2}
    results = storage.ingest(
        device,
        [
            good,
            good,
            {**good, "payload": changed, "content_hash": content_hash(changed)},
            item(form_version="9"),
            "not an object",
            {**other, "tracking_code": good["tracking_code"]},
        ],
        "sync",
    )
    assert [(r["index"], r["outcome"]) for r in results] == [
        (0, "accepted"),
        (1, "duplicate"),
        (2, "conflict"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
    ]
    assert results[1]["application_number"] == results[0]["application_number"]
    assert results[4]["id"] is None
    stats = storage.stats(device)
    assert (stats["submissions"], stats["duplicates"], stats["conflicts"]) == (1, 1, 1)
    assert stats["rejected"] == 3
    assert storage.stats()["devices"] == 1 and storage.stats()["forms"] == 1


def test_a_validator_may_refuse_an_item(storage: PortalStorage) -> None:
    device = enrolled(storage)["device_id"]
    seen: list[str] = []

    def validator(spec_json: str, checked: dict[str, Any]) -> str | None:
        seen.append(spec_json)
        return "n: too big" if checked["payload"]["a"] > 1 else None

    big = {"a": 5}
    results = storage.ingest(
        device, [item(), item(payload=big, content_hash=content_hash(big))], "sync", validator
    )
    assert [r["outcome"] for r in results] == ["accepted", "rejected"]
    assert (results[1]["code"], results[1]["params"]) == ("item.answers", {"detail": "n: too big"})
    assert len(seen) == 2


def test_status_changes_page_per_device(storage: PortalStorage) -> None:
    mine, theirs = enrolled(storage, "a")["device_id"], enrolled(storage, "b")["device_id"]
    sent = item()
    storage.ingest(mine, [sent], "sync")
    storage.ingest(theirs, [item()], "bundle")
    changed = storage.set_status(sent["tracking_code"].lower(), "approved", "done")
    assert changed["tracking_code"] == sent["tracking_code"]
    first = storage.status_changes(mine, 0, 1)
    assert [c["status"] for c in first["changes"]] == ["received"] and first["more"]
    rest = storage.status_changes(mine, first["cursor"], 10)
    assert [(c["status"], c["note"]) for c in rest["changes"]] == [("approved", "done")]
    assert rest["more"] is False
    assert storage.status_changes(mine, rest["cursor"], 10) == {
        "changes": [],
        "cursor": rest["cursor"],
        "more": False,
    }
    with pytest.raises(PortalStoreError):
        storage.set_status(sent["tracking_code"], "lost")
    with pytest.raises(PortalStoreError):
        storage.set_status("NO-SUCH-CODE", "approved")

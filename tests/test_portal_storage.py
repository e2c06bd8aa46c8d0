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

from kiosk import signing
from kiosk.wire import content_hash, now_iso
from sync.portal.storage import PortalStorage, PortalStoreError
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
    answer = storage.enroll(storage.create_enrolment_code(), name)
    assert answer is not None
    return answer


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
    code = storage.create_enrolment_code()
    assert len(code) == 9 and code[4] == "-"
    answer = storage.enroll(code.lower().replace("-", ""), "k1")  # typed loosely: still valid
    assert answer is not None
    assert storage.enroll(code, "k2") is None
    assert storage.enroll("ZZZZ-ZZZZ", "k3") is None
    device = storage.device_for_token(answer["token"])
    assert device is not None and device.id == answer["device_id"]
    assert device.prefix == answer["device_prefix"] and device.name == "k1"
    assert storage.device(answer["device_id"]) == device
    assert storage.device_for_token("nope") is None


def test_re_enrolment_keeps_the_device_and_revoking_stops_its_token(
    storage: PortalStorage,
) -> None:
    first = enrolled(storage)
    storage.revoke_device(first["device_id"])
    assert storage.device_for_token(first["token"]) is None
    again = storage.enroll(storage.create_enrolment_code(), "k", first["device_id"])
    assert again is not None
    assert (again["device_id"], again["device_prefix"]) == (
        first["device_id"],
        first["device_prefix"],
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
    stored = storage.forms()[1]
    assert {k: stored[k] for k in ("form_id", "version", "category", "spec")} == {
        "form_id": "f",
        "version": "1",
        "category": "cat",
        "spec": SPEC,
    }
    # Signed when added, under the portal's current key (docs/keys.md).
    pins = {k["key_id"]: k["public_key"] for k in storage.signing_keys()}
    assert stored["key_id"] in pins
    assert signing.form_signature_problem(stored, pins) is None
    assert signing.form_signature_problem({**stored, "category": "other"}, pins) == "bad_signature"


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

"""The `PortalStorage` contract, over every backend: SQLite and PostgreSQL.

Each backend is in BACKENDS and must pass these unchanged (huey's StorageTests
pattern): the API layer relies on nothing else. The PostgreSQL runs use a fresh
database in the cluster scripts/test starts (tests/pgkit.py; they fail, not skip,
under CI=true without one).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kiosk import signing, tracking
from kiosk.wire import content_hash, now_iso
from sync.portal.storage import (
    LOOKUP_SOURCE_LIMIT,
    AnswersProblem,
    EnrolmentRefused,
    LookupLimited,
    PortalStorage,
    PortalStoreError,
)
from sync.portal.store import PortalStore
from tests import pgkit, sealkit

BACKENDS = ("sqlite", "postgres")
SPEC: dict[str, Any] = {"type": "survey", "name": "data", "id_string": "f", "children": []}


@contextmanager
def database_for(backend: str) -> Iterator[str | None]:
    """``--database`` for ``backend``: None (SQLite in the data dir) or a fresh PostgreSQL."""
    if backend == "sqlite":
        yield None
        return
    with pgkit.fresh_database() as dsn:
        yield dsn


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    with database_for(request.param) as database:
        yield request.param, database


@pytest.fixture
def storage(backend: tuple[str, str | None], tmp_path: Path) -> Iterator[PortalStorage]:
    sealkit.seed_portal(tmp_path / "portal")
    store = PortalStore(tmp_path / "portal", database=backend[1])
    store.add_form("f", "1", "cat", SPEC, "admin")
    try:
        yield store
    finally:
        store.close()


def enrolled(storage: PortalStorage, name: str = "kiosk") -> dict[str, str]:
    return storage.enroll(storage.create_enrolment_code(name), name)


def item(prefix: str, **changes: Any) -> dict[str, Any]:
    """A valid item whose tracking code carries ``prefix`` (its device's)."""
    payload = {"a": 1}
    base = {
        "id": str(uuid.uuid4()),
        "tracking_code": tracking.new_code(prefix),
        "form_id": "f",
        "form_version": "1",
        "lang": "en",
        "payload": payload,
        "created_at": now_iso(),
    }
    return sealkit.seal_item({**base, **changes})


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
    answer = enrolled(storage)
    device, p = answer["device_id"], answer["device_prefix"]
    good, other = item(p), item(p)
    changed = {"a": 2}
    results = storage.ingest(
        device,
        [
            good,
            good,
            sealkit.seal_item({**good, "payload": changed}),
            item(p, form_version="9"),
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


def test_values_nothing_can_hash_reject_their_item_only(storage: PortalStorage) -> None:
    """1e999999 (inf) and a lone surrogate, in the answers or in another field: the
    item is rejected with item.value; the batch and its other items go on."""
    answer = enrolled(storage)
    device, p = answer["device_id"], answer["device_prefix"]
    good = item(p)
    bad = [
        item(p, payload={"a": float("inf")}),
        item(p, payload={"a": float("nan")}),
        item(p, payload={"a": "\ud800"}),
        item(p, payload={"\udcff": 1}),
        item(p, form_id="f\udcff"),
        item(p, created_at="\ud800"),
    ]
    results = storage.ingest(device, [*bad, good], "sync")
    assert [r["outcome"] for r in results] == ["rejected"] * len(bad) + ["accepted"]
    assert {r.get("code") for r in results[:-1]} == {"item.value"}
    assert storage.stats(device)["submissions"] == 1


def test_a_validator_may_refuse_an_item(storage: PortalStorage) -> None:
    answer = enrolled(storage)
    device, p = answer["device_id"], answer["device_prefix"]
    seen: list[str] = []

    def validator(spec_json: str, checked: dict[str, Any]) -> AnswersProblem | None:
        seen.append(spec_json)
        return {"detail": "n: too big", "fields": "n"} if checked["payload"]["a"] > 1 else None

    big = {"a": 5}
    results = storage.ingest(device, [item(p), item(p, payload=big)], "sync", validator)
    assert [r["outcome"] for r in results] == ["accepted", "rejected"]
    params = {"detail": "n: too big", "fields": "n"}
    assert (results[1]["code"], results[1]["params"]) == ("item.answers", params)
    assert len(seen) == 2


def test_status_changes_page_per_device(storage: PortalStorage) -> None:
    a, b = enrolled(storage, "a"), enrolled(storage, "b")
    mine, theirs = a["device_id"], b["device_id"]
    sent = item(a["device_prefix"])
    storage.ingest(mine, [sent], "sync")
    storage.ingest(theirs, [item(b["device_prefix"])], "bundle")
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


def test_status_history_for_the_page_and_its_limit(storage: PortalStorage) -> None:
    """The citizen page's view: the form's titles, the date, each step; no note, no
    answers; every look-up counted with the live look-ups, per source."""
    device = enrolled(storage)
    sent = item(device["device_prefix"])
    storage.ingest(device["device_id"], [sent], "sync")
    storage.set_status(sent["tracking_code"], "in_review")
    storage.set_status(sent["tracking_code"], "approved", "Aliyev Vali, call 901234567")
    view = storage.public_history(sent["tracking_code"].lower(), "10.0.0.1")
    assert view is not None
    assert view["tracking_code"] == sent["tracking_code"] and view["form_id"] == "f"
    assert view["submitted_at"] == sent["created_at"]
    assert [s["status"] for s in view["steps"]] == ["received", "in_review", "approved"]
    assert all(set(s) == {"status", "at"} for s in view["steps"])
    assert "Aliyev" not in repr(view) and "901234567" not in repr(view)
    assert storage.public_history("K7MB3AZQXF", "10.0.0.1") is None
    assert storage.public_history("<not a code>", "10.0.0.1") is None
    for _ in range(LOOKUP_SOURCE_LIMIT - 3):  # three page look-ups above
        storage.lookup_status(sent["tracking_code"], "10.0.0.1")  # the same budget
    with pytest.raises(LookupLimited):
        storage.public_history(sent["tracking_code"], "10.0.0.1")
    assert storage.public_history(sent["tracking_code"], "10.0.0.2") is not None


def test_a_v1_portal_database_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    """Schema step 1: submissions keyed by (device_id, id), pre-enrolment prefixes."""
    from sync.portal import store as sqlite_store

    folder = tmp_path / "old"
    folder.mkdir()
    sealkit.seed_portal(folder)
    device = str(uuid.uuid4())
    payload = '{"a":1}'
    conn = sqlite3.connect(folder / sqlite_store.DB_NAME)
    conn.executescript(sqlite_store.SCHEMA)  # what a v1 portal created (user_version 0)
    conn.execute(
        "INSERT INTO devices (id, name, prefix, token_hash, bundle_key, enrolled_at) "
        "VALUES (?, 'old', 'K7M', 'h', '00', '2026-01-01')",
        (device,),
    )
    conn.execute(
        "INSERT INTO submissions (id, device_id, tracking_code, form_id, form_version, lang, "
        "payload, content_hash, created_at, received_at, via, application_number, status, "
        "status_updated_at) VALUES (?, ?, 'K7M4QXPR', 'f', '1', 'en', ?, ?, 'c', 'r', 'sync', "
        "'MK-2026-0000001', 'received', 'u')",
        ("00000000-0000-4000-8000-000000000001", device, payload, content_hash({"a": 1})),
    )
    conn.commit()
    conn.close()

    migrated = PortalStore(folder)
    try:
        conn2 = migrated.conn
        assert conn2.execute("PRAGMA user_version").fetchone()[0] == len(sqlite_store.MIGRATIONS)
        pk = [r["name"] for r in conn2.execute("PRAGMA table_info(submissions)") if r["pk"]]
        assert sorted(pk) == ["device_id", "id"]
        row = conn2.execute("SELECT * FROM submissions").fetchone()
        assert (row["device_id"], row["tracking_code"], row["payload"]) == (
            device,
            "K7M4QXPR",
            payload,
        )
        found = migrated.device(device)
        assert found is not None and found.pre_prefix == tracking.prefix_from_id(device)
        # The v1 code on the citizen's receipt still works for status.
        assert migrated.set_status("k7m4qxpr", "approved")["status"] == "approved"
        migrated.add_form("f", "1", "", SPEC, "admin")
        again = item("K7M", id="00000000-0000-4000-8000-000000000001", payload={"a": 1})
        assert migrated.ingest(device, [again], "sync")[0]["outcome"] == "duplicate"
    finally:
        migrated.close()
    reopened = PortalStore(folder)  # the step is not applied twice
    reopened.close()


def test_a_pre_enrolment_prefix_not_derived_from_the_id_is_refused_unspent(
    storage: PortalStorage,
) -> None:
    code = storage.create_enrolment_code("kiosk")
    device = str(uuid.uuid4())
    with pytest.raises(PortalStoreError):
        storage.enroll(code, "k", device, tracking.prefix_from_id(str(uuid.uuid4())))
    with pytest.raises(PortalStoreError):
        storage.enroll(code, "k", None, tracking.prefix_from_id(device))
    before = item(tracking.prefix_from_id(device))  # claimed at enrolment (claims.py)
    claim = {k: before[k] for k in ("id", "tracking_code", "content_hash")}
    answer = storage.enroll(code, "k", device, tracking.prefix_from_id(device), claims=[claim])
    assert answer is not None
    found = storage.device(device)
    assert found is not None and found.pre_prefix == tracking.prefix_from_id(device)
    theirs = enrolled(storage, "other")
    results = storage.ingest(
        device,
        [before, item(theirs["device_prefix"]), item(tracking.prefix_from_id(device))],
        "sync",
    )
    assert [(r["outcome"], r.get("code")) for r in results] == [
        ("accepted", None),
        ("rejected", "item.foreign_code"),
        ("rejected", "item.foreign_code"),  # unclaimed: the derived prefix grants nothing
    ]
    assert storage.stats(theirs["device_id"])["submissions"] == 0

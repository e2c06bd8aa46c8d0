"""Protocol v2: a submission belongs to the device that made it (issue 12's first attack).

Two kiosks, A and B, enrolled at one real portal process over TLS (test CA, the
kiosks pin its certificate, as deployed). B reads A's still-queued
items from A's USB bundle and sends them through its own batch, edits one with a
recomputed hash, and tries to squat a code with A's prefix: all are refused with a
reason code and nothing is stored. Then A syncs and every application of A arrives
intact. A v1 kiosk gets a clear "upgrade" answer and keeps its items queued.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from kiosk import reasons, seal_store, tracking
from kiosk.sealing import blob_hash
from kiosk.store import Store
from kiosk.wire import canonical_json, now_iso
from sync import bundle, wire
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.portal.process import PortalProcess, create_enrolment_code
from sync.portal.store import PortalStore
from tests import sealkit
from tests.integration.synckit import (
    TEST_FORM_ID,
    Kiosk,
    device_id_deriving,
    enroll,
    outbox,
    portal_http,
    queue_submissions,
    twin_of,
)


@pytest.fixture(scope="module")
def portal_scheme() -> str:
    """Attacks run against a TLS portal, as deployed (conftest)."""
    return "tls"


@pytest.fixture
def victim(tmp_path: Path, portal: PortalProcess) -> Kiosk:
    """Kiosk A: some applications made before enrolment (derived prefix), some after."""
    data_dir = tmp_path / "a"
    with Store.open(data_dir) as store:
        queue_submissions(store, 3)
    enroll(data_dir, portal)
    kiosk = Kiosk(data_dir, portal)
    with kiosk.store() as store:
        queue_submissions(store, 4, start=3)
    return kiosk


@pytest.fixture
def attacker(tmp_path: Path, portal: PortalProcess) -> Kiosk:
    """Kiosk B, enrolled at the same portal."""
    data_dir = tmp_path / "b"
    enroll(data_dir, portal)
    return Kiosk(data_dir, portal)


def stolen_items(victim: Kiosk, tmp_path: Path) -> list[dict[str, Any]]:
    """A's queued items as the attacker reads them from A's exported bundle."""
    path = tmp_path / "usb" / "a.bundle"
    path.parent.mkdir(exist_ok=True)
    result = victim.run("export-bundle", str(path))
    assert result.returncode == 0, result.stderr
    parsed = bundle.read(path)
    assert parsed.device_id == victim.device_id
    stolen = [item for item in bundle.items(parsed) if isinstance(item, dict)]
    assert len(stolen) == parsed.count
    for item in stolen:  # sealed: the answers cannot be read, the blob's hash is public
        assert "payload" not in item
        item["content_hash"] = blob_hash(base64.b64decode(item["sealed"]))
    return stolen


def client_of(kiosk: Kiosk) -> PortalClient:
    """The kiosk's own client: its token, to its enrolled origin, checking its pins."""
    with kiosk.store() as store:
        client = PortalClient.from_store(store)
    assert client is not None
    return client


def portal_rows(portal: PortalProcess, device_id: str) -> dict[str, dict[str, Any]]:
    store = PortalStore(portal.data_dir)
    try:
        rows = store.conn.execute(
            "SELECT * FROM submissions WHERE device_id = ?", (device_id,)
        ).fetchall()
    finally:
        store.close()
    return {r["id"]: dict(r) for r in rows}


def test_replay_edit_and_squatting_are_rejected_and_a_arrives_intact(
    victim: Kiosk, attacker: Kiosk, tmp_path: Path
) -> None:
    assert victim.portal.url.startswith("https://127.0.0.1:")
    items = stolen_items(victim, tmp_path)
    assert len(items) == 7
    with victim.store() as store:
        assigned, derived = store.device_prefix, tracking.prefix_from_id(store.device_id)
    codes = [item["tracking_code"] for item in items]
    # 3 made before enrolment (derived prefix, 11 symbols), 4 after (10 symbols).
    assert [len(c) for c in codes] == [11] * 3 + [10] * 4
    assert all(c.startswith(derived) for c in codes[:3])
    assert all(c.startswith(assigned) for c in codes[3:])

    edited = sealkit.reseal(items[0], {"full_name": "Forged Name", "n": 0})
    squat = {
        **items[1],
        "id": str(uuid.uuid4()),
        "tracking_code": tracking.new_code(assigned),
        "created_at": now_iso(),
    }
    with client_of(attacker) as b:
        replayed = b.send_batch(items).results
        forged = b.send_batch([edited, squat]).results
    for result, sent in zip(replayed + forged, [*items, edited, squat], strict=True):
        assert (result["outcome"], result["code"]) == ("rejected", "item.foreign_code"), result
        assert result["params"] == {"tracking_code": sent["tracking_code"]}
    assert "another kiosk" in forged[0]["reason"]
    assert portal_rows(attacker.portal, attacker.device_id) == {}
    assert portal_rows(victim.portal, victim.device_id) == {}
    assert attacker.portal_stats()["rejected"] == 9

    # A syncs: every application arrives, accepted, with A's own answers.
    result = victim.run("sync", "--json", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    stored = portal_rows(victim.portal, victim.device_id)
    with victim.store() as store:
        rows = outbox(store)
    assert len(rows) == 7 and all(r["state"] == "sent" for r in rows)
    assert all(r["outcome"] == "accepted" for r in rows)
    sealed = {item["id"]: item["content_hash"] for item in items}
    for row in rows:
        mine = stored[row["id"]]
        assert row["payload"] == ""  # delivered: the kiosk keeps no copy (issue 13)
        assert (mine["content_hash"], mine["tracking_code"]) == (
            sealed[row["id"]],
            row["tracking_code"],
        )
        # Opened at the portal: A's own answers, never the forger's.
        assert json.loads(mine["payload"])["full_name"].startswith("Aliyev Vali")
        assert mine["application_number"] == row["application_number"]
    assert victim.portal_stats()["conflicts"] == 0 and victim.portal_stats()["rejected"] == 0


def test_an_item_relabelled_by_another_device_does_not_open(
    victim: Kiosk, attacker: Kiosk, tmp_path: Path
) -> None:
    items = stolen_items(victim, tmp_path)
    with attacker.store() as store:
        b_prefix = store.device_prefix
    # B relabels A's item with a code of its own. B cannot read the sealed answers, so
    # they are not B's to file: the seal binds the tracking code (and so the device), and
    # the blob does not open under B's code. A's item with the same id is untouched.
    relabelled = {**items[0], "tracking_code": tracking.new_code(b_prefix)}
    with client_of(attacker) as b:
        [answer] = b.send_batch([relabelled]).results
    assert (answer["outcome"], answer.get("code")) == ("rejected", "sealed.unopenable")
    assert victim.run("sync", "--json", "--max-wait", "0").returncode == 0
    with victim.store() as store:
        assert all(r["outcome"] == "accepted" for r in outbox(store))
    assert (
        portal_rows(victim.portal, victim.device_id)[items[0]["id"]]["tracking_code"]
        == (items[0]["tracking_code"])
    )
    assert set(portal_rows(attacker.portal, attacker.device_id)) == set()


def test_bundle_items_are_judged_against_the_signing_device(
    victim: Kiosk, attacker: Kiosk, tmp_path: Path
) -> None:
    items = stolen_items(victim, tmp_path)
    with attacker.store() as store:
        b_prefix = store.device_prefix
    with victim.store() as store:
        a_token = store.get_setting("portal_token")
        a_prefix = store.device_prefix
    assert a_token
    # Signed by A (the signature says whose they are): A's codes are A's whoever
    # uploads the file; a code with B's prefix inside A's bundle is not A's.
    foreign = {**items[0], "id": str(uuid.uuid4()), "tracking_code": tracking.new_code(b_prefix)}
    data = bundle.build(
        [*items, foreign],
        device_id=victim.device_id,
        device_prefix=a_prefix,
        token=a_token,
        created_at=now_iso(),
    )
    with client_of(attacker) as b:
        answer = b.upload_bundle(data)
    assert answer["device_id"] == victim.device_id
    outcomes = [(r["outcome"], r.get("code")) for r in answer["results"]]
    assert outcomes == [("accepted", None)] * 7 + [("rejected", "item.foreign_code")]
    assert set(portal_rows(victim.portal, victim.device_id)) == {i["id"] for i in items}
    assert portal_rows(attacker.portal, attacker.device_id) == {}


def test_pre_enrolment_prefix_must_be_the_devices_own(portal: PortalProcess) -> None:
    from sync.portal.process import create_enrolment_code

    url = wire.API + "/devices/enroll"
    code = create_enrolment_code(portal.data_dir)
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"code": code, "name": "k", "device_id": mine}
    with portal_http(portal) as http:
        claim = http.post(url, json={**body, "pre_prefix": tracking.prefix_from_id(theirs)})
        assert claim.status_code == 422 and claim.json()["code"] == "enrol.prefix"
        # Judged before the code is spent: the same code enrols with the right prefix.
        ok = http.post(url, json={**body, "pre_prefix": tracking.prefix_from_id(mine)})
    assert ok.status_code == 200 and ok.json()["device_id"] == mine


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
@pytest.mark.parametrize("path", ["health", "submissions/batch", "devices/enroll", "nope/x"])
def test_a_v1_request_is_told_to_upgrade(portal: PortalProcess, method: str, path: str) -> None:
    with portal_http(portal, "whatever") as http:
        response = http.request(
            method,
            f"{wire.LEGACY_API}/{path}",
            content=b'{"items": []}' if method in ("POST", "PUT", "PATCH") else None,
        )
        health = http.get(wire.API + "/health").json()
    assert response.status_code == 426
    assert response.headers["upgrade"] == "mahalla-sync/2"
    if method != "HEAD":
        body = response.json()
        assert (body["code"], body["params"]) == ("protocol.upgrade", {"old": "1", "new": "2"})
        assert "Upgrade the kiosk software" in body["detail"]
    assert health["protocol"] == 2


def test_a_v1_kiosk_shows_the_upgrade_message_and_keeps_its_items(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    with kiosk.store() as store:
        codes = queue_submissions(store, 3)
    # The kiosk as a v1 build would speak: every request under /api/v1.
    monkeypatch.setattr(wire, "API", wire.LEGACY_API)
    with kiosk.store() as store, client_of(kiosk) as client:
        report = SyncEngine(store, client, lang="ru").run()
        rows = outbox(store)
    expected = reasons.say("ru", "protocol.upgrade", {"old": "1", "new": "2"})
    assert report.error == expected
    assert "Обновите программу киоска" in expected
    assert report.rejected == [] and report.sent == 0 and not report.needs_enrolment
    assert [r["state"] for r in rows] == ["queued"] * 3
    assert {r["tracking_code"] for r in rows} == set(codes)
    assert all(r["outcome"] is None for r in rows)
    monkeypatch.undo()
    # Upgraded (v2 again): the same items go out unchanged.
    with kiosk.store() as store, client_of(kiosk) as client:
        report = SyncEngine(store, client).run(force=True)
        after = outbox(store)
    assert report.error is None and report.sent == 3
    assert [(r["id"], r["content_hash"]) for r in after] == [
        (r["id"], r["content_hash"]) for r in rows
    ]
    assert TEST_FORM_ID in {r["form_id"] for r in after}


def test_queued_v1_items_go_out_over_v2_unchanged(tmp_path: Path, portal: PortalProcess) -> None:
    """A kiosk upgraded with v1 items in its outbox: no local migration, all accepted."""
    data_dir = tmp_path / "upgraded"
    with Store.open(data_dir) as store:
        queue_submissions(store, 2)  # before enrolment
    enroll(data_dir, portal)
    kiosk = Kiosk(data_dir, portal)
    with kiosk.store() as store:
        queue_submissions(store, 2, start=2)
        derived = tracking.prefix_from_id(store.device_id)
        assigned = store.device_prefix
        # The codes a v1 kiosk made: its prefix plus a scrambled counter. The seal binds
        # the code, so each row is sealed again under its v1 code, as the upgraded kiosk
        # seals its clear-text rows (`seal_store.seal_legacy`).
        key = seal_store.stored_key(store.db)
        assert key is not None
        for seq, row in enumerate(outbox(store), start=1):
            prefix = derived if seq <= 2 else assigned
            code = tracking.sequential_code(prefix, seq)
            answers = canonical_json({"full_name": f"Aliyev Vali {seq - 1}", "n": seq - 1})
            with store.transaction() as db:
                blob = seal_store.seal_row(
                    db, key, row["id"], row["form_id"], row["form_version"], answers, code=code
                )
                db.execute(
                    "UPDATE outbox SET tracking_code = ?, payload = ?, content_hash = ?, "
                    "size_bytes = ? WHERE id = ?",
                    [code, blob, blob_hash(blob), len(blob), row["id"]],
                )
        before = outbox(store)
    assert [len(r["tracking_code"]) for r in before] == [9, 9, 8, 8]
    # Enrolled under v1: the portal's migration 5 marks such a device legacy (its v1
    # codes were never claimed; claims began with that step).
    admin = PortalStore(portal.data_dir)
    with admin.transaction() as conn:
        conn.execute("UPDATE devices SET legacy = 1 WHERE id = ?", (kiosk.device_id,))
    admin.close()
    result = kiosk.run("sync", "--json", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    stored = portal_rows(portal, kiosk.device_id)
    with kiosk.store() as store:
        after = outbox(store)
    assert [r["outcome"] for r in after] == ["accepted"] * 4
    for row in before:
        assert (stored[row["id"]]["tracking_code"], stored[row["id"]]["content_hash"]) == (
            row["tracking_code"],
            row["content_hash"],
        )


def test_a_twin_device_id_cannot_take_applications_made_before_enrolment(
    victim: Kiosk, portal: PortalProcess, tmp_path: Path
) -> None:
    """The review's attack: the attacker searches a device id whose derived prefix is A's
    (a few seconds: 31**4 values), enrols it over TLS with a code of its own, claims A's
    pre-enrolment codes and sends A's items, one edited. A claimed them at its enrolment
    (first come), so the twin gets nothing and A's applications arrive intact."""
    items = stolen_items(victim, tmp_path)
    before = [item for item in items if len(item["tracking_code"]) == 11]
    assert len(before) == 3
    twin = twin_of(victim.device_id)
    derived = tracking.prefix_from_id(twin)
    assert derived == tracking.prefix_from_id(victim.device_id)
    claims = [{k: item[k] for k in ("id", "tracking_code", "content_hash")} for item in before]
    request = {
        "code": create_enrolment_code(portal.data_dir, "twin"),
        "name": "twin",
        "device_id": twin,
        "pre_prefix": derived,
        "claims": claims,
    }
    with portal_http(portal) as http:
        enrolled = http.post(f"{wire.API}/devices/enroll", json=request)
    assert enrolled.status_code == 200, enrolled.text
    answer = enrolled.json()
    refused = {c["tracking_code"]: c["code"] for c in answer["refused_claims"]}
    assert refused == {item["tracking_code"]: "claim.taken" for item in before}

    edited = sealkit.reseal(before[1], {"full_name": "Forged Name", "n": 1})
    with portal_http(portal, answer["token"]) as twin_http:
        sent = twin_http.post(f"{wire.API}/submissions/batch", json={"items": [before[0], edited]})
    assert sent.status_code == 200, sent.text
    outcomes = [(r["outcome"], r.get("code")) for r in sent.json()["results"]]
    assert outcomes == [("rejected", "item.foreign_code")] * 2
    assert portal_rows(portal, answer["device_id"]) == {}

    result = victim.run("sync", "--json", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    stored = portal_rows(portal, victim.device_id)
    with victim.store() as store:
        rows = outbox(store)
    assert len(rows) == 7 and all(r["outcome"] == "accepted" for r in rows)
    for row in rows:
        assert stored[row["id"]]["content_hash"] == row["content_hash"]


def test_a_receipt_code_made_after_enrolment_cannot_be_claimed_by_a_twin(
    victim: Kiosk, portal: PortalProcess
) -> None:
    """The second review: a code made after enrolment (3 + 6 + check) reads as a
    4-symbol derived prefix + 5 + check. From one printed receipt the attacker searches
    a device id deriving the code's first 4 symbols, enrols it and claims the code with
    answers of its own. The claim is refused and the receipt's application arrives."""
    with victim.store() as store:
        after = [r for r in outbox(store) if len(r["tracking_code"]) == 10]
    receipt = after[0]["tracking_code"]
    target = receipt[: tracking.DERIVED_PREFIX_LEN]
    twin = device_id_deriving(target)
    payload = {"full_name": "Forged Name", "n": 0}
    forged = sealkit.seal_item(
        {
            "id": str(uuid.uuid4()),
            "tracking_code": receipt,
            "form_id": TEST_FORM_ID,
            "form_version": after[0]["form_version"],
            "lang": "uz_Latn",
            "payload": payload,
            "created_at": now_iso(),
        }
    )
    request = {
        "code": create_enrolment_code(portal.data_dir, "receipt twin"),
        "name": "receipt twin",
        "device_id": twin,
        "pre_prefix": target,
        "claims": [{k: forged[k] for k in ("id", "tracking_code", "content_hash")}],
    }
    with portal_http(portal) as http:
        enrolled = http.post(f"{wire.API}/devices/enroll", json=request)
    assert enrolled.status_code == 200, enrolled.text
    answer = enrolled.json()
    assert [(c["tracking_code"], c["code"]) for c in answer["refused_claims"]] == [
        (receipt, "claim.invalid")
    ]
    with portal_http(portal, answer["token"]) as twin_http:
        sent = twin_http.post(f"{wire.API}/submissions/batch", json={"items": [forged]})
    assert [(r["outcome"], r.get("code")) for r in sent.json()["results"]] == [
        ("rejected", "item.foreign_code")
    ]
    result = victim.run("sync", "--json", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    stored = portal_rows(portal, victim.device_id)
    with victim.store() as store:
        rows = {r["tracking_code"]: r for r in outbox(store)}
    assert rows[receipt]["outcome"] == "accepted"
    assert stored[rows[receipt]["id"]]["content_hash"] == rows[receipt]["content_hash"]

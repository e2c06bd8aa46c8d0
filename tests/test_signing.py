"""The signed catalog in one process: key files, rotation, and what the kiosk activates.

The engine runs over the in-process transport against the portal's real storage; the
same checks over real portal processes are in tests/integration/test_signed_catalog.py.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk import audit, signing
from kiosk.catalog import Catalog
from kiosk.store import Store
from sync.engine import SyncEngine
from sync.portal.keys import KeyFileError, PortalKeys
from sync.portal.local import LocalTransport
from sync.portal.store import DB_NAME, PortalStore
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_SPEC, add_test_form

PIN_SPEC = copy.deepcopy(TEST_FORM_SPEC)
PIN_SPEC["version"] = "2"
PIN_SPEC["children"].append({"type": "text", "name": "card_pin", "label": "Bank card PIN"})


def _raw(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# --- key files -------------------------------------------------------------------------


def test_keys_are_created_private_with_an_id_from_the_public_key(tmp_path: Path) -> None:
    keys = PortalKeys(tmp_path)
    current = keys.current()
    raw = signing.unb64(current["public_key"])
    assert raw is not None and signing.key_id(raw) == current["key_id"]
    assert len(current["key_id"]) == 16
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    key_file = tmp_path / "keys" / f"{current['key_id']}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert PortalKeys(tmp_path).current() == current  # loaded again, not made again


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    kid = PortalKeys(tmp_path).current()["key_id"]
    key_file = tmp_path / "keys" / f"{kid}.key"
    os.chmod(key_file, 0o640)
    with pytest.raises(KeyFileError) as caught:
        PortalStore(tmp_path)
    text = caught.value.message("en")
    assert str(key_file) in text and "chmod 600" in text
    os.chmod(key_file, 0o600)
    os.chmod(tmp_path / "keys", 0o755)
    with pytest.raises(KeyFileError, match="chmod"):
        PortalKeys(tmp_path)


def test_rotation_is_vouched_for_by_the_previous_key(tmp_path: Path) -> None:
    keys = PortalKeys(tmp_path)
    first = keys.current()
    second = keys.rotate()
    third = keys.rotate()
    assert keys.current()["key_id"] == third["key_id"]
    assert [s["signed_by"] for s in keys.chain()] == [None, first["key_id"], second["key_id"]]
    pins = {first["key_id"]: first["public_key"]}
    extended = signing.extend_pins(pins, keys.chain())
    assert set(extended) == {first["key_id"], second["key_id"], third["key_id"]}
    # Newest first or shuffled: the walk still follows the links.
    assert signing.extend_pins(pins, list(reversed(keys.chain()))) == extended


def test_a_chain_not_rooted_in_a_pinned_key_adds_nothing(tmp_path: Path) -> None:
    ours = PortalKeys(tmp_path / "ours").current()
    rogue = PortalKeys(tmp_path / "rogue")
    rogue.rotate()
    pins = {ours["key_id"]: ours["public_key"]}
    assert signing.extend_pins(pins, rogue.chain()) == pins
    # A statement claiming our key signed the rogue's: the signature does not verify.
    forged = dict(rogue.chain()[1], signed_by=ours["key_id"])
    assert signing.extend_pins(pins, [forged]) == pins
    # A key id that is not its key's hash is refused too.
    real = PortalKeys(tmp_path / "ours")
    statement = real.rotate()
    swapped = dict(statement, public_key=rogue.current()["public_key"])
    assert signing.extend_pins(pins, [swapped]) == pins


def test_form_signatures_cover_every_field(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    raw = _raw(private)
    pins = {signing.key_id(raw): signing.b64(raw)}
    message = signing.form_message("f", "1", "cat", {"a": [1, 2]})
    entry = {
        "form_id": "f",
        "version": "1",
        "category": "cat",
        "spec": {"a": [1, 2]},
        "key_id": signing.key_id(raw),
        "signature": signing.b64(private.sign(message)),
    }
    assert signing.form_signature_problem(entry, pins) is None
    for field, value in (("form_id", "g"), ("version", "2"), ("category", "x"), ("spec", {})):
        assert signing.form_signature_problem({**entry, field: value}, pins) == "bad_signature"
    assert signing.form_signature_problem({**entry, "signature": None}, pins) == "unsigned"
    assert signing.form_signature_problem({**entry, "key_id": "00" * 8}, pins) == "unknown_key"
    assert signing.form_signature_problem({**entry, "signature": "!!"}, pins) == "bad_signature"


# --- the kiosk over the in-process transport --------------------------------------------


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalStore]:
    add_test_form(tmp_path / "portal")
    store = PortalStore(tmp_path / "portal")
    yield store
    store.close()


def _enrolled(portal: PortalStore, kiosk_dir: Path, *, pin: bool = True) -> LocalTransport:
    answer = LocalTransport(portal).enroll(portal.create_enrolment_code("kiosk"), "kiosk")
    with Store.open(kiosk_dir) as store:
        store.set_setting("device_prefix", answer["device_prefix"])
        if pin:
            keys = answer.get("signing_keys", [])
            store.state.signing_keys = {k["key_id"]: k["public_key"] for k in keys}
    return LocalTransport(portal, answer["token"])


def _active(store: Store, form_id: str = TEST_FORM_ID) -> str:
    return Catalog(store).get(form_id).version


def _tamper(portal: PortalStore, version: str, spec: dict[str, object]) -> None:
    """Change a stored version's spec behind the portal's back (its signature stays)."""
    conn = sqlite3.connect(portal.data_dir / DB_NAME)
    with conn:
        conn.execute(
            "UPDATE forms SET spec = ? WHERE form_id = ? AND version = ?",
            (json.dumps(spec), TEST_FORM_ID, version),
        )
    conn.close()


def test_a_tampered_version_is_not_activated_and_is_audited(
    portal: PortalStore, tmp_path: Path
) -> None:
    transport = _enrolled(portal, tmp_path / "kiosk")
    with Store.open(tmp_path / "kiosk") as store:
        assert SyncEngine(store, transport).run().error is None
        assert _active(store) == "1"
        honest = copy.deepcopy(PIN_SPEC)
        honest["children"].pop()  # the portal signs a harmless version 2...
        portal.add_form(TEST_FORM_ID, "2", "test", honest, "admin")
        _tamper(portal, "2", PIN_SPEC)  # ...and the PIN question is slipped in afterwards
        report = SyncEngine(store, transport, lang="ru").run()
        assert report.forms_refused == 1 and report.forms_updated == 0
        assert report.error is not None and TEST_FORM_ID in report.error
        assert "2" in report.error and "not activated" not in report.error  # said in Russian
        assert _active(store) == "1"
        assert Catalog(store).versions(TEST_FORM_ID) == ["1"]
        refused = store.db.execute(
            "SELECT subject, details FROM audit WHERE action = 'form_refused'"
        ).fetchall()
        assert refused and refused[-1][0] == f"{TEST_FORM_ID} 2"
        assert json.loads(refused[-1][1])["reason"] == "bad_signature"
        assert audit.verify(store.db).ok


def test_a_version_signed_by_another_key_is_not_activated(
    portal: PortalStore, tmp_path: Path
) -> None:
    transport = _enrolled(portal, tmp_path / "kiosk")
    rogue = PortalStore(tmp_path / "rogue")  # its own keys
    try:
        rogue.add_form(TEST_FORM_ID, "2", "test", PIN_SPEC, "admin")
        forged = rogue.forms()[0]
    finally:
        rogue.close()
    conn = sqlite3.connect(portal.data_dir / DB_NAME)
    with conn:
        conn.execute(
            "INSERT INTO forms (form_id, version, category, spec, source, added_at, key_id,"
            " signature) VALUES (?, '2', 'test', ?, 'admin', '2026-01-01', ?, ?)",
            (TEST_FORM_ID, json.dumps(PIN_SPEC), forged["key_id"], forged["signature"]),
        )
    conn.close()
    with Store.open(tmp_path / "kiosk") as store:
        report = SyncEngine(store, transport).run()
        assert report.forms_refused == 1
        assert "does not trust" in (report.error or "")
        assert _active(store) == "1"


def test_a_rotated_key_is_pinned_and_its_forms_activated(
    portal: PortalStore, tmp_path: Path
) -> None:
    transport = _enrolled(portal, tmp_path / "kiosk")
    first = portal.keys.current()["key_id"]
    portal.keys.rotate()
    second = portal.keys.rotate()
    portal.add_form(TEST_FORM_ID, "2", "test", PIN_SPEC, "admin")
    with Store.open(tmp_path / "kiosk") as store:
        report = SyncEngine(store, transport).run()
        assert (report.error, report.forms_updated, report.forms_refused) == (None, 2, 0)
        assert _active(store) == "2"
        assert first in store.state.signing_keys and second["key_id"] in store.state.signing_keys
        pinned = store.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'signing_key_pinned'")
        assert pinned.fetchone()[0] == 1


def test_a_kiosk_without_pinned_keys_takes_no_catalog_update(
    portal: PortalStore, tmp_path: Path
) -> None:
    transport = _enrolled(portal, tmp_path / "kiosk", pin=False)
    with Store.open(tmp_path / "kiosk") as store:
        report = SyncEngine(store, transport).run()
        assert report.forms_updated == 0
        assert "enrolled again" in (report.error or "")
        assert Catalog(store).versions(TEST_FORM_ID) == []
        assert store.state.catalog_etag is None  # asks again after re-enrolment


def test_bundled_forms_are_trusted_as_shipped(tmp_path: Path) -> None:
    with Store.open(tmp_path / "kiosk") as store:
        catalog = Catalog(store)
        assert catalog.ensure_bundled() == []
        assert catalog.list()  # no key pinned, no portal: the shipped forms are offered

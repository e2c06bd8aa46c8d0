"""Enrolment brings the portal's sealing key, and only one its signing key vouches for.

A rogue server (here: the reference portal's real answer, rewritten in flight) that
offers a sealing key of its own, signed by a key the answer does not pin, is refused:
otherwise every later submission would be sealed to the rogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk import seal_store
from kiosk.store import Store
from sync import enrolment
from sync.portal.local import LocalTransport
from sync.portal.store import PortalStore
from sync.transport import Enrolled
from tests import sealkit


class _Relay:
    """Stands in for `PortalClient` in `sync.enrolment`: the real portal in this process,
    its enrolment answer passed through ``rewrite``."""

    portal: PortalStore
    rewrite = staticmethod(lambda answer: answer)

    def __init__(self, url: str, pins: object = ()) -> None:
        self.local = LocalTransport(self.portal)

    def __enter__(self) -> _Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.local.close()

    def enroll(self, *args: object) -> Enrolled:
        return self.rewrite(self.local.enroll(*args))  # type: ignore[arg-type]


@pytest.fixture
def relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type[_Relay]:
    portal = PortalStore(tmp_path / "portal")
    monkeypatch.setattr(_Relay, "portal", portal, raising=False)
    monkeypatch.setattr(enrolment, "PortalClient", _Relay)
    yield _Relay
    portal.close()


def test_enrolment_stores_the_portals_sealing_key(relay: type[_Relay], data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        answer = enrolment.enroll(
            store, "http://127.0.0.1:9", relay.portal.create_enrolment_code("k")
        )
        with store.transaction() as db:
            stored = seal_store.stored_key(db)
    assert stored == answer["sealing_key"] == relay.portal.sealing_key()


def test_a_sealing_key_the_pinned_signing_key_did_not_sign_is_refused(
    relay: type[_Relay], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def swap(answer: Enrolled) -> Enrolled:
        return {**answer, "sealing_key": sealkit.KEY}  # signed by another Ed25519 key

    monkeypatch.setattr(_Relay, "rewrite", staticmethod(swap))
    with Store.open(data_dir) as store:
        code = relay.portal.create_enrolment_code("k")
        with pytest.raises(seal_store.KeyFileRefused) as refused:
            enrolment.enroll(store, "http://127.0.0.1:9", code)
        assert "not signed by its catalog signing key" in refused.value.message("en")
        assert store.state.portal_token is None  # nothing of the answer was kept
        assert store.get_setting(seal_store.SEALING_KEY) is None
    unsigned = {**relay.portal.sealing_key(), "signature": None}
    monkeypatch.setattr(_Relay, "rewrite", staticmethod(lambda a: {**a, "sealing_key": unsigned}))
    with Store.open(data_dir) as store, pytest.raises(seal_store.KeyFileRefused):
        code = relay.portal.create_enrolment_code("k", store.device_id)
        enrolment.enroll(store, "http://127.0.0.1:9", code)


def test_sealing_keys_others_may_read_stop_the_portal_and_old_keys_still_open(
    tmp_path: Path,
) -> None:
    from kiosk import seal_dict, sealing
    from sync.portal.keys import KeyFileError

    portal = PortalStore(tmp_path / "portal")
    old = portal.sealing_key()
    blob = sealing.seal_payload(
        old, '{"a":1}', "i", "f", "1", seal_dict.COMMON_DICTIONARY, code="C"
    )
    new = portal.sealing.rotate()
    assert new["key_id"] != old["key_id"] and portal.sealing_key() == new
    (private,) = portal.sealing.for_prefix(old["key_id"][:8])  # kept: old blobs open
    assert sealing.open_payload(
        private, blob, "i", "f", "1", (seal_dict.COMMON_DICTIONARY,), code="C"
    )
    portal.close()
    key_file = tmp_path / "portal" / "keys" / "sealing" / f"{old['key_id']}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError) as refused:
        PortalStore(tmp_path / "portal")
    assert "chmod 600" in refused.value.message("en")
    assert "sealing key" in refused.value.message("en")  # not the signing key
    assert "Ключ запечатывания" in refused.value.message("ru")


def test_a_rotated_sealing_key_reaches_the_kiosk_at_its_next_sync(tmp_path: Path) -> None:
    """`kiosk portal rotate-sealing-key`: the catalog carries the new key, signed; the
    kiosk seals to it from its next sync on; items sealed to the old key still open.
    A catalog key no pinned signing key vouches for is ignored."""
    from sync.engine import SyncEngine
    from tests.integration.synckit import add_test_form, queue_submissions

    add_test_form(tmp_path / "portal")
    portal = PortalStore(tmp_path / "portal")
    try:
        local = LocalTransport(portal)
        answer = local.enroll(portal.create_enrolment_code("k"), "k")
        with Store.open(tmp_path / "kiosk") as store:
            store.set_setting("device_prefix", answer["device_prefix"])
            store.state.signing_keys = {
                k["key_id"]: k["public_key"] for k in answer.get("signing_keys", [])
            }
            with store.transaction() as db:
                seal_store.put_key(db, answer["sealing_key"])
            queue_submissions(store, 2)  # sealed to the first key
            transport = LocalTransport(portal, answer["token"])
            assert SyncEngine(store, transport).run(pull=False).sent == 2
            old = answer["sealing_key"]
            new = portal.sealing.rotate()
            queue_submissions(store, 1, start=2)  # still the old key: not synced yet
            report = SyncEngine(store, transport).run()
            assert (report.sent, report.error) == (1, None)
            with store.transaction() as db:
                assert seal_store.stored_key(db) == new != old
            queue_submissions(store, 1, start=3)
            (row,) = store.queue(state="queued", include_payload=True)
            assert bytes(row["payload"])[1:5].hex() == new["key_id"][:8]
            assert SyncEngine(store, transport).run().sent == 1
            pinned = store.db.execute(
                "SELECT COUNT(*) FROM audit WHERE action = 'sealing_key_pinned'"
            ).fetchone()[0]
            assert pinned == 1
            # A rogue catalog's key (signed by a key the kiosk does not pin) is ignored.
            engine = SyncEngine(store, transport)
            engine._take_sealing_key(store.state.signing_keys, sealkit.KEY)
            with store.transaction() as db:
                assert seal_store.stored_key(db) == new
        assert portal.stats(answer["device_id"])["submissions"] == 4
    finally:
        portal.close()


def test_the_rotate_and_export_commands(run_kiosk, tmp_path: Path) -> None:
    portal_dir = tmp_path / "portal"
    PortalStore(portal_dir).close()
    before = (portal_dir / "keys" / "sealing" / "current").read_text().strip()
    rotated = run_kiosk("portal", "rotate-sealing-key", "--portal-dir", str(portal_dir))
    assert rotated.returncode == 0, rotated.stderr
    after = (portal_dir / "keys" / "sealing" / "current").read_text().strip()
    assert after != before and after in rotated.stdout
    out = tmp_path / "key.json"
    exported = run_kiosk("portal", "export-sealing-key", "--portal-dir", str(portal_dir), out)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_text())["sealing_key"]["key_id"] == after
    assert "PRIVATE" not in out.read_text()  # public only

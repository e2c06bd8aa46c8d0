"""Audit anchoring in one process: the kiosk sends its audit hashes, the portal holds them
and flags a chain that was rewritten, forked or went backwards. Over real portal
processes: tests/integration/test_audit_anchor.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import audit, seal_store
from kiosk.store import Store
from kiosk.wire import canonical_json
from sync import wire
from sync.engine import SyncEngine
from sync.portal.anchors import parse_entries
from sync.portal.local import LocalTransport
from sync.portal.store import PortalStore
from sync.transport import RequestRejected
from tests.auditkit import rewrite_chain
from tests.integration.synckit import add_test_form, queue_submissions


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalStore]:
    add_test_form(tmp_path / "portal")
    store = PortalStore(tmp_path / "portal")
    yield store
    store.close()


@pytest.fixture
def kiosk(portal: PortalStore, tmp_path: Path) -> Iterator[tuple[Store, LocalTransport, str]]:
    answer = LocalTransport(portal).enroll(portal.create_enrolment_code("kiosk"), "kiosk")
    with Store.open(tmp_path / "kiosk") as store:
        store.set_setting("device_prefix", answer["device_prefix"])
        keys = answer.get("signing_keys", [])
        store.state.signing_keys = {k["key_id"]: k["public_key"] for k in keys}
        # and the sealing key, as enrolment stores it (pinned: the env's key file is not
        # vouched for by this portal's signing keys, so it is not sealed to)
        store.set_setting(seal_store.SEALING_KEY, canonical_json(answer["sealing_key"]))
        yield store, LocalTransport(portal, answer["token"]), answer["device_id"]


def _flag(portal: PortalStore, device_id: str) -> str | None:
    return next(d["audit_flag"] for d in portal.devices() if d["device_id"] == device_id)


def test_an_honest_kiosk_is_never_flagged(
    portal: PortalStore, kiosk: tuple[Store, LocalTransport, str]
) -> None:
    store, transport, device = kiosk
    for round_ in range(15):
        queue_submissions(store, 2, start=2 * round_)
        report = SyncEngine(store, transport, batch_items=1).run()
        assert report.error is None and report.audit_flag is None
        head = audit.head_seq(store.db)
        assert report.audit_anchored == head == store.state.audit_anchor_seq
    row = next(d for d in portal.devices() if d["device_id"] == device)
    assert row["audit_flag"] is None and row["anchored_seq"] == audit.head_seq(store.db)
    assert portal.stats()["audit_flagged"] == 0


def test_a_long_log_goes_in_bounded_batches(
    portal: PortalStore, kiosk: tuple[Store, LocalTransport, str]
) -> None:
    store, transport, device = kiosk
    with store.transaction() as db:
        for i in range(2 * wire.ANCHOR_BATCH + 7):
            audit.append(db, "system", "test", str(i))
    sizes: list[int] = []
    original = transport.anchor_audit

    def counting(head_seq: int, entries: list[audit.AnchorEntry]) -> object:
        sizes.append(len(entries))
        return original(head_seq, entries)

    transport.anchor_audit = counting  # type: ignore[method-assign,assignment]
    report = SyncEngine(store, transport).run()
    assert report.audit_flag is None and report.audit_anchored == audit.head_seq(store.db)
    assert len(sizes) == 3 and max(sizes) == wire.ANCHOR_BATCH
    assert _flag(portal, device) is None


@pytest.mark.parametrize(
    ("rewrite", "flag"),
    [
        ({"edit_seq": 1}, "rewritten"),  # an old entry edited, the chain rebuilt
        ({"edit_seq": 0, "drop_from": 3}, "backwards"),  # the tail deleted
    ],
)
def test_a_rewritten_chain_is_flagged_at_the_next_sync(
    portal: PortalStore,
    kiosk: tuple[Store, LocalTransport, str],
    rewrite: dict[str, int],
    flag: str,
) -> None:
    store, transport, device = kiosk
    queue_submissions(store, 3)
    assert SyncEngine(store, transport).run().audit_flag is None
    rewrite_chain(store.db, **rewrite)
    if flag == "backwards":
        store.state.audit_anchor_seq = 2  # the attacker covers the tracks too
    report = SyncEngine(store, transport).run()
    assert report.audit_flag == flag
    assert _flag(portal, device) == flag
    assert portal.stats(device)["audit_flagged"] == 1
    # Sticky: later syncs do not clear it.
    assert SyncEngine(store, transport).run().audit_flag == flag


def test_a_rewrite_of_unsent_entries_after_the_anchor_forks(
    portal: PortalStore, kiosk: tuple[Store, LocalTransport, str]
) -> None:
    store, transport, device = kiosk
    queue_submissions(store, 2)
    SyncEngine(store, transport).run()
    anchored = store.state.audit_anchor_seq
    with store.transaction() as db:
        audit.append(db, "system", "later")
    # The attacker rebuilds everything and moves the anchor past the rebuilt part.
    rewrite_chain(store.db, edit_seq=1)
    store.state.audit_anchor_seq = anchored + 1
    assert SyncEngine(store, transport).run().audit_flag == "forked"
    assert _flag(portal, device) == "forked"


def test_resending_what_the_portal_holds_is_harmless(
    portal: PortalStore, kiosk: tuple[Store, LocalTransport, str]
) -> None:
    store, transport, device = kiosk
    queue_submissions(store, 2)
    SyncEngine(store, transport).run()
    head = audit.head_seq(store.db)
    entries = audit.anchor_entries(store.db, 1, 100)
    for _ in range(3):  # as after a kill before the kiosk recorded its anchor
        assert transport.anchor_audit(head, entries) == {"anchored_seq": head, "flag": None}
    store.state.audit_anchor_seq = 0
    assert SyncEngine(store, transport).run().audit_flag is None
    assert _flag(portal, device) is None


def test_a_portal_missing_rows_asks_for_them_again(
    portal: PortalStore, kiosk: tuple[Store, LocalTransport, str]
) -> None:
    store, transport, device = kiosk
    queue_submissions(store, 2)
    SyncEngine(store, transport).run()
    with portal.transaction() as conn:  # the portal restored from an older backup
        conn.execute("DELETE FROM audit_anchors WHERE device_id = ?", (device,))
        conn.execute("DELETE FROM audit_heads WHERE device_id = ?", (device,))
    report = SyncEngine(store, transport).run()
    assert report.audit_flag is None
    assert report.audit_anchored == audit.head_seq(store.db)
    assert _flag(portal, device) is None


def test_malformed_anchor_requests_are_refused(kiosk: tuple[Store, LocalTransport, str]) -> None:
    _, transport, _ = kiosk
    good = {"seq": 1, "hash": "a" * 64, "prev_hash": "0" * 64}
    for head, entries in (
        (-1, []),
        (1, [dict(good, hash="xyz")]),
        (2, [good, dict(good, seq=3)]),  # not consecutive
        (0, [good]),  # past the head
    ):
        with pytest.raises(RequestRejected) as caught:
            transport.anchor_audit(head, entries)  # type: ignore[arg-type]
        assert caught.value.http_status == 422
    assert isinstance(parse_entries(True, []), str)

"""The sync engine and `kiosk sync` against a real portal process on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import pytest

from kiosk import enrolment_code, participation
from kiosk.catalog import BUNDLED_DIR, Catalog, load_sample
from sync.client import PortalClient
from sync.engine import SyncEngine, SyncProgress
from sync.portal.process import create_enrolment_code, start_portal
from tests.integration.synckit import Kiosk, enroll, outbox, queue_submissions


def engine(store, **kw) -> SyncEngine:
    client = PortalClient.from_store(store)
    assert client is not None
    return SyncEngine(store, client, **kw)


def sync_json(kiosk: Kiosk, *extra: str) -> tuple[int, dict]:
    result = kiosk.run("sync", "--json", "--max-wait", "0", *extra)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


OVER_HTTP_AND_TLS = pytest.mark.parametrize("portal", ["http", "tls"], indirect=True)


@pytest.mark.slow
@OVER_HTTP_AND_TLS
def test_thousand_submissions_synced_exactly_once(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        codes = queue_submissions(store, 1000)
    code, summary = sync_json(kiosk)
    assert code == 0, summary
    assert summary["sent"] == 1000 and summary["duplicates"] == 0
    assert summary["rejected"] == [] and summary["waiting"] == 0
    assert summary["statuses"] == 1000  # each accepted item's "received" status
    with kiosk.store() as store:
        rows = outbox(store)
        assert {r["tracking_code"] for r in rows} == set(codes)
        assert all(r["state"] == "sent" and r["outcome"] == "accepted" for r in rows)
        numbers = {r["application_number"] for r in rows}
        assert len(numbers) == 1000 and None not in numbers
        # One audit entry per batch at least (500 items per batch by default).
        batches = store.db.execute(
            "SELECT COUNT(*) FROM audit WHERE action = 'sync_batch'"
        ).fetchone()[0]
        assert batches >= 2
        assert store.get_setting("last_sync_at") and store.get_setting("last_sync_error") is None
    # A second sync has nothing to send and the portal still holds each once.
    code, summary = sync_json(kiosk)
    assert code == 0 and summary["sent"] == 0 and summary["duplicates"] == 0
    stats = kiosk.portal_stats_cli()
    assert stats["submissions"] == 1000
    assert stats["duplicates"] == 0 and stats["conflicts"] == 0 and stats["rejected"] == 0


@pytest.mark.parametrize("private_portal", ["http", "tls"], indirect=True)
def test_portal_stats_match_what_the_kiosk_sent(private_kiosk: Kiosk) -> None:
    kiosk = private_kiosk  # alone at its portal: the global figures are this kiosk's
    with kiosk.store() as store:
        queue_submissions(store, 40)
        queue_submissions(store, 2, start=100, form_id="no_such_form")
    code, summary = sync_json(kiosk, "--batch-items", "7")
    assert code == 0
    result = kiosk.run("portal", "stats", "--json", "--portal-dir", str(kiosk.portal.data_dir))
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["devices"] == 1 and stats["conflicts"] == 0 and stats["duplicates"] == 0
    assert stats["submissions"] == summary["sent"] == 40
    assert stats["rejected"] == len(summary["rejected"]) == 2
    with kiosk.store() as store:
        counts = store.queue_counts()
    assert counts == {"queued": 0, "sent": 40, "rejected": 2}


@OVER_HTTP_AND_TLS
def test_bad_items_quarantined_others_go_through(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        good = queue_submissions(store, 10)
        (unknown,) = queue_submissions(store, 1, start=50, form_id="no_such_form")
        (tampered,) = queue_submissions(store, 1, start=60)
        # The sealed answers changed on disk (one byte): the portal cannot open them.
        (blob,) = store.db.execute(
            "SELECT payload FROM outbox WHERE tracking_code = ?", [tampered]
        ).fetchone()
        store.db.execute(
            "UPDATE outbox SET payload = ? WHERE tracking_code = ?",
            [blob[:-1] + bytes([blob[-1] ^ 1]), tampered],
        )
        store.db.conn.commit()
    code, summary = sync_json(kiosk, "--batch-items", "4")
    assert code == 0  # nothing left waiting: the bad ones are quarantined
    assert summary["sent"] == 10
    reasons = {r["tracking_code"]: r["reason"] for r in summary["rejected"]}
    assert "does not know form no_such_form" in reasons[unknown]
    assert "cannot open the sealed answers" in reasons[tampered]
    with kiosk.store() as store:
        by_code = {r["tracking_code"]: r for r in outbox(store)}
    assert all(by_code[c]["state"] == "sent" for c in good)
    for c in (unknown, tampered):
        assert by_code[c]["state"] == "rejected" and by_code[c]["reason"] == reasons[c]
    # Quarantined items are never sent again.
    code, summary = sync_json(kiosk)
    assert code == 0 and summary["sent"] == 0 and summary["rejected"] == []
    assert kiosk.portal_stats()["rejected"] == 2


@OVER_HTTP_AND_TLS
def test_conflict_same_id_other_content(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        (code_,) = queue_submissions(store, 1)
        assert engine(store).run().sent == 1
        other = {"full_name": "Someone else", "n": 1}
        body = json.dumps(other, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        store.db.execute(
            "UPDATE outbox SET payload = ?, content_hash = ?, state = 'queued' "
            "WHERE tracking_code = ?",
            [body, hashlib.sha256(body.encode()).hexdigest(), code_],
        )
        store.db.conn.commit()
        report = engine(store).run()
        assert report.sent == 0 and report.waiting == 0
        assert [c for c, _ in report.rejected] == [code_]
        (row,) = outbox(store)
        assert row["state"] == "rejected" and row["outcome"] == "conflict"
        assert "different submission" in row["reason"]
    stats = kiosk.portal_stats()
    assert stats["conflicts"] == 1 and stats["submissions"] == 1


def test_reenrolment_after_401(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 3)
        device_id, prefix = store.device_id, store.device_prefix
    devices = kiosk.portal_stats()["devices"]
    revoked = kiosk.run(
        "portal", "revoke-device", device_id, "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert revoked.returncode == 0, revoked.stderr
    result = kiosk.run("sync", "--max-wait", "0")
    assert result.returncode == 2
    assert "Enrol it again" in result.stderr and "kiosk enroll" in result.stderr
    with kiosk.store() as store:
        rows = outbox(store)
        # Not the items' fault: nothing is quarantined and no back-off is charged.
        assert all(r["state"] == "queued" and r["attempts"] == 0 for r in rows)
        assert "Enrol" in store.get_setting("last_sync_error")
    # Re-enrolling a known device takes a code made for it (an unbound one is refused).
    code = create_enrolment_code(kiosk.portal.data_dir, "test kiosk", device_id)
    result = kiosk.run("enroll", "--portal", kiosk.portal.url, "--code", code)
    assert result.returncode == 0, result.stderr
    assert prefix in result.stdout
    # The same code cannot be spent twice.
    again = kiosk.run("enroll", "--portal", kiosk.portal.url, "--code", code)
    assert again.returncode == 2 and "enrolment code" in again.stderr
    result = kiosk.run("sync", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    with kiosk.store() as store:
        assert store.device_id == device_id and store.device_prefix == prefix
    stats = kiosk.portal_stats()
    # Re-enrolment kept the device: no new one at the portal.
    assert stats["devices"] == devices and stats["submissions"] == 3


def test_not_enrolled_and_bad_arguments(tmp_path: Path, run_kiosk) -> None:
    result = run_kiosk("sync")
    assert result.returncode == 2 and "not enrolled" in result.stderr
    result = run_kiosk("sync", "--batch-items", "0")
    assert result.returncode == 2
    result = run_kiosk("enroll", "--portal", "ftp://x", "--code", "A")
    assert result.returncode == 2 and "http://" in result.stderr
    # A mistyped code is said before any connection; a well-formed one reaches out.
    result = run_kiosk("enroll", "--portal", "http://127.0.0.1:9", "--code", "AAAA-BBBB")
    assert result.returncode == 2 and "mistyped" in result.stderr
    code = enrolment_code.format_code(enrolment_code.new_code())
    result = run_kiosk("enroll", "--portal", "http://127.0.0.1:9", "--code", code)
    assert result.returncode == 1 and "Cannot reach the portal" in result.stderr


def test_damaged_database_is_a_message(data_dir: Path, run_kiosk) -> None:
    (data_dir / "kiosk.db").write_bytes(b"not a database " * 100)
    for command in (["sync"], ["export-bundle", str(data_dir / "x.bundle")]):
        result = run_kiosk(*command)
        assert result.returncode == 1
        assert "damaged" in result.stderr and "Traceback" not in result.stderr


def test_status_pull_with_cursor(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        codes = queue_submissions(store, 3)
        first = engine(store).run()
        assert first.sent == 3 and first.statuses == 3
        assert store.status(codes[0])["portal_status"] == "received"
        cursor = int(store.get_setting("status_cursor"))
    # Through the running portal's staff API, with a reviewer's token (issue 15).
    made = kiosk.run(
        "portal",
        "staff",
        "add",
        "nodira",
        "--role",
        "reviewer",
        "--portal-dir",
        str(kiosk.portal.data_dir),
    )
    assert made.returncode == 0, made.stderr
    token_file = kiosk.data_dir / "staff.token"
    token_file.write_text(made.stdout)
    api = ("--url", kiosk.portal.url, "--token-file", str(token_file))
    result = kiosk.run(
        "portal", "set-status", codes[1], "approved", "--note", "Come on Monday", *api
    )
    assert result.returncode == 0, result.stderr
    bad = kiosk.run("portal", "set-status", "NOPE1234", "approved", *api)
    assert bad.returncode == 2 and "NOPE1234" in bad.stderr
    with kiosk.store() as store:
        report = engine(store).run()
        assert report.statuses == 1
        status = store.status(codes[1])
        assert status["portal_status"] == "approved" and status["note"] == "Come on Monday"
        assert status["application_number"].startswith("MK-")
        assert int(store.get_setting("status_cursor")) > cursor
        assert engine(store).run().statuses == 0  # the cursor moved past it


def test_status_pull_pages(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 1200)  # more than one 500-change page
        report = engine(store).run()
        assert report.sent == 1200 and report.statuses == 1200
        assert store.db.execute("SELECT COUNT(*) FROM status").fetchone()[0] == 1200


def test_progress_reports_items_and_bytes(kiosk: Kiosk) -> None:
    seen: list[SyncProgress] = []
    with kiosk.store() as store:
        queue_submissions(store, 25)
        total_bytes = store.db.execute("SELECT SUM(size_bytes) FROM outbox").fetchone()[0]
        report = engine(store, batch_items=10).run(progress=seen.append)
    assert report.sent == 25 and report.bytes_sent > 0
    assert [p.items_done for p in seen] == [0, 10, 20, 25]
    assert all(p.items_total == 25 and p.bytes_total == total_bytes for p in seen)
    assert seen[-1].bytes_done == total_bytes


@pytest.mark.slow
def test_catalog_pull_and_revalidation(tmp_path: Path) -> None:
    # With the bundled forms, re-checking answers with the form engine.
    portal = start_portal(tmp_path / "portal", "127.0.0.1", 0, "--revalidate")
    try:
        data_dir = tmp_path / "kiosk"
        enroll(data_dir, portal)
        with Kiosk(data_dir, portal).store() as store:
            Catalog(store).ensure_bundled()
            report = engine(store).run()
            # Same as bundled, but for the participation forms (votes, petitions): the
            # portal lists them in its catalog; the kiosk builds them from
            # kiosk.participation and keeps the portal's copies, signed, on first pull.
            assert report.error is None
            assert report.forms_updated == len(participation.FORMS)
            again = engine(store).run()
            assert again.error is None and again.forms_updated == 0  # then nothing new
            etag = store.get_setting("catalog_etag")
            assert etag
            # Unchanged: If-None-Match gets 304.
            with PortalClient.from_store(store) as client:
                assert client.catalog(etag) is None
                assert client.catalog("other") is not None
            old = Catalog(store).get("birth_certificate_copy")
        # An administrator adds a newer version of a form.
        source = (BUNDLED_DIR / "birth_certificate_copy.md").read_text(encoding="utf-8")
        newer = tmp_path / "birth_certificate_copy.md"
        newer.write_text(source.replace(old.version, "2099010101"), encoding="utf-8")
        for csv in BUNDLED_DIR.glob("*.csv"):
            shutil.copy(csv, tmp_path / csv.name)
        kiosk = Kiosk(data_dir, portal)
        added = kiosk.run("portal", "add-form", str(newer), "--portal-dir", str(portal.data_dir))
        assert added.returncode == 0, added.stderr
        with kiosk.store() as store:
            report = engine(store).run()
            assert report.error is None and report.forms_updated == 1
            assert store.get_setting("catalog_etag") != etag
            catalog = Catalog(store)
            assert catalog.get("birth_certificate_copy").version == "2099010101"
            # A form being filled keeps its version.
            assert catalog.get("birth_certificate_copy", old.version).version == old.version
            assert engine(store).run().forms_updated == 0
            # The portal re-validates answers against the form it knows.
            form = catalog.get("birth_certificate_copy", old.version)
            good = store.submit(form, load_sample(form.id), "uz_Latn")
            bad = store.submit(form, {"full_name": "X"}, "uz_Latn")
            report = engine(store).run()
            assert report.sent == 1
            assert [code for code, _ in report.rejected] == [bad.tracking_code]
            assert "pinfl" in report.rejected[0][1]  # the refused fields, named (not English)
            assert store.status(good.tracking_code)["state"] == "sent"
    finally:
        portal.stop()


def test_runs_in_a_worker_thread_and_cancels(kiosk: Kiosk) -> None:
    """As the app does: a Store opened in the worker thread, cancel from outside."""
    with kiosk.store() as store:
        queue_submissions(store, 50)
    reports: list = []
    started = threading.Event()

    def worker() -> None:
        with kiosk.store() as store:
            engine_ = engine(store, batch_items=5)

            def progress(p: SyncProgress) -> None:
                if p.items_done:  # after the first batch: the UI asks to stop
                    started.set()
                    engine_.cancel()

            reports.append(engine_.run(progress=progress))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(60)
    assert started.is_set() and not thread.is_alive()
    (report,) = reports
    assert report.sent == 5 and report.waiting == 45 and report.error == "Sync cancelled."

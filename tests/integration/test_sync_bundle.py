"""Offline bundles: export on a field laptop, import through a connected office kiosk."""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from kiosk.wire import canonical_json
from tests import sealkit
from tests.integration.synckit import Kiosk, enroll, outbox, queue_submissions


@pytest.fixture
def office(tmp_path: Path, kiosk: Kiosk) -> Kiosk:
    """A second kiosk, enrolled with the same portal, that delivers bundles."""
    data_dir = tmp_path / "office"
    enroll(data_dir, kiosk.portal)
    return Kiosk(data_dir, kiosk.portal)


@pytest.fixture
def exported(tmp_path: Path, kiosk: Kiosk) -> Path:
    with kiosk.store() as store:
        queue_submissions(store, 30)
    path = tmp_path / "usb" / "field.bundle"
    path.parent.mkdir()
    result = kiosk.run("export-bundle", str(path))
    assert result.returncode == 0, result.stderr
    assert "30" in result.stdout
    return path


def test_same_bundle_imported_twice_adds_nothing(
    kiosk: Kiosk, office: Kiosk, exported: Path
) -> None:
    first = office.run("import-bundle", str(exported))
    assert first.returncode == 0, first.stderr
    assert "30 new, 0 already at the portal, 0 refused" in first.stdout
    second = office.run("import-bundle", str(exported))
    assert second.returncode == 0, second.stderr
    assert "0 new, 30 already at the portal, 0 refused" in second.stdout
    stats = kiosk.portal_stats()
    assert stats["submissions"] == 30 and stats["duplicates"] == 30
    # The field laptop comes back online: its own sync finds them all delivered.
    result = kiosk.run("sync", "--json", "--max-wait", "0")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["sent"] == 0 and summary["duplicates"] == 30
    assert summary["statuses"] == 30  # statuses belong to the laptop that made them
    with kiosk.store() as store:
        assert all(r["state"] == "sent" for r in outbox(store))
    assert kiosk.portal_stats()["submissions"] == 30


def test_corrupted_bundle_refused(office: Kiosk, exported: Path) -> None:
    data = bytearray(exported.read_bytes())
    data[len(data) // 2] ^= 0xFF
    exported.write_bytes(bytes(data))
    result = office.run("import-bundle", str(exported))
    assert result.returncode == 2
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert office.portal_stats()["submissions"] == 0


def _edit(path: Path, recompute_checksum: bool) -> None:
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    # The answers are sealed: a forger can only seal answers of their own in their place.
    item = sealkit.reseal(json.loads(lines[1]), {"full_name": "Forged Name", "n": 0})
    lines[1] = canonical_json(item).encode() + b"\n"
    if recompute_checksum:
        trailer = json.loads(lines[-1])
        trailer["sha256"] = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
        lines[-1] = canonical_json(trailer).encode() + b"\n"
    path.write_bytes(gzip.compress(b"".join(lines)))


def test_hand_edited_bundle_refused_locally(office: Kiosk, exported: Path) -> None:
    _edit(exported, recompute_checksum=False)
    result = office.run("import-bundle", str(exported))
    assert result.returncode == 2 and "checksum" in result.stderr
    assert office.portal_stats()["submissions"] == 0


def test_hand_edited_bundle_with_new_checksum_refused_by_portal(
    office: Kiosk, exported: Path
) -> None:
    _edit(exported, recompute_checksum=True)
    result = office.run("import-bundle", str(exported))
    assert result.returncode == 2 and "signature" in result.stderr
    assert office.portal_stats()["submissions"] == 0


def test_not_a_bundle_and_missing_file(office: Kiosk, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bundle"
    junk.write_text("hello")
    result = office.run("import-bundle", str(junk))
    assert result.returncode == 2 and "not a kiosk bundle" in result.stderr
    result = office.run("import-bundle", str(tmp_path / "missing.bundle"))
    assert result.returncode == 2 and "Cannot read the file" in result.stderr


def test_export_needs_enrolment_and_a_folder(run_kiosk, tmp_path: Path, kiosk: Kiosk) -> None:
    result = run_kiosk("export-bundle", str(tmp_path / "x.bundle"))
    assert result.returncode == 2 and "not enrolled" in result.stderr
    result = kiosk.run("export-bundle", str(tmp_path / "nowhere" / "x.bundle"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    result = kiosk.run("export-bundle", str(tmp_path / "empty.bundle"))
    assert result.returncode == 0 and "Nothing to export" in result.stdout


def test_damaged_row_left_out_of_export(kiosk: Kiosk, office: Kiosk, tmp_path: Path) -> None:
    with kiosk.store() as store:
        codes = queue_submissions(store, 5)
        store.db.execute("UPDATE outbox SET payload = '{' WHERE tracking_code = ?", [codes[2]])
        store.db.conn.commit()
    path = tmp_path / "partial.bundle"
    result = kiosk.run("export-bundle", str(path))
    assert result.returncode == 0, result.stderr
    assert "Exported 4 submissions" in result.stdout and codes[2] in result.stderr
    delivered = office.run("import-bundle", str(path))
    assert "4 new" in delivered.stdout


def test_a_bundle_carries_the_items_sealed_and_the_portal_opens_them(
    kiosk: Kiosk, office: Kiosk, exported: Path
) -> None:
    """zcat shows no answer (format 3: every item sealed); the portal opens each one and
    stores the answers the kiosk queued, exactly once."""
    text = gzip.decompress(exported.read_bytes())
    assert b'"version":3' in text.splitlines()[0]
    assert b"Aliyev Vali" not in text and b'"payload"' not in text
    assert text.count(b'"sealed":') == 30
    delivered = office.run("import-bundle", str(exported))
    assert "30 new, 0 already at the portal, 0 refused" in delivered.stdout, delivered.stderr
    conn = sqlite3.connect(kiosk.portal.data_dir / "portal.db")
    rows = conn.execute("SELECT payload FROM submissions WHERE device_id = ?", (kiosk.device_id,))
    stored = [json.loads(r[0]) for r in rows]
    conn.close()
    assert sorted(p["n"] for p in stored) == list(range(30))
    assert {p["full_name"] for p in stored} == {f"Aliyev Vali {n}" for n in range(30)}

"""The cleartext scanner (tests/cleartext.py) finds a marker however it was stored, and
nothing in clean files: the "no clear text on disk" tests can fail."""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import sqlite3
import zlib
from pathlib import Path

import pytest

from tests.cleartext import Finding, find_markers

NAME = "Qodirova Markerxon Тестовна"  # Latin and Cyrillic
PINFL = "31507995310017"
MARKERS = [NAME, PINFL]


def one(found: list[Finding], marker: str = NAME) -> Finding:
    assert found, "the marker was not found"
    hits = [f for f in found if f.marker == marker]
    assert hits, found
    return hits[0]


def test_clean_files_give_no_finding(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Qodirova Boshqa Тестовна 31507995310018\n")
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"nothing to see" * 100))
    db = sqlite3.connect(tmp_path / "k.db")
    db.execute("CREATE TABLE t (v)")
    db.execute("INSERT INTO t VALUES (?)", (zlib.compress(b"other text"),))
    db.commit()
    db.close()
    assert find_markers(tmp_path, MARKERS) == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be"])
def test_a_plain_or_utf16_file(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "log.txt").write_bytes(b"x" * 7 + f"name={NAME}".encode(encoding))
    hit = one(find_markers(tmp_path, MARKERS))
    assert (hit.file, hit.encoding) == ("sub/log.txt", encoding)
    assert hit.where.startswith("offset ")


def test_json_escaped_non_ascii(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"full_name": NAME}))  # ensure_ascii
    assert one(find_markers(tmp_path, MARKERS)).encoding == "json-escape"


def test_a_gzip_file_and_a_gzip_member_inside_a_file(tmp_path: Path) -> None:
    (tmp_path / "bundle.gz").write_bytes(gzip.compress(json.dumps({"p": PINFL}).encode()))
    packed = gzip.compress(NAME.encode("utf-16-le"))
    (tmp_path / "blob.bin").write_bytes(b"header" * 50 + packed + b"trailer")
    found = find_markers(tmp_path, MARKERS)
    assert one(found, PINFL).file == "bundle.gz"
    inner = one(found, NAME)
    assert inner.file == "blob.bin" and inner.via == "gzip@300"
    assert inner.encoding == "utf-16-le"


def test_a_zlib_blob_in_an_sqlite_table(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "kiosk.db")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, payload BLOB)")
    db.execute("INSERT INTO outbox VALUES (7, ?)", (zlib.compress(NAME.encode()),))
    db.commit()
    db.close()
    found = find_markers(tmp_path, MARKERS)
    assert any(f.where == "outbox.payload rowid 7" and f.via == "zlib" for f in found), found


def test_a_raw_deflate_blob(tmp_path: Path) -> None:
    engine = zlib.compressobj(wbits=-15)
    raw = engine.compress(PINFL.encode() * 3) + engine.flush()
    db = sqlite3.connect(tmp_path / "kiosk.db")
    db.execute("CREATE TABLE drafts (answers BLOB)")
    db.execute("INSERT INTO drafts VALUES (?)", (raw,))
    db.commit()
    db.close()
    (tmp_path / "loose.bin").write_bytes(raw)
    found = find_markers(tmp_path, MARKERS)
    assert {(f.file, f.via) for f in found if f.marker == PINFL} >= {
        ("kiosk.db", "deflate"),
        ("loose.bin", "deflate"),
    }


def test_a_base64_of_gzip_text_value(tmp_path: Path) -> None:
    text = base64.b64encode(gzip.compress(NAME.encode())).decode()
    db = sqlite3.connect(tmp_path / "kiosk.db")
    db.execute("CREATE TABLE settings (key TEXT, value TEXT)")
    db.execute("INSERT INTO settings VALUES ('x', ?)", (text,))
    db.commit()
    db.close()
    hit = one(find_markers(tmp_path, MARKERS))
    assert hit.where == "settings.value rowid 1" and hit.via == "base64 > gzip"


def test_a_real_wal_before_checkpoint(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    db = sqlite3.connect(live / "kiosk.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE outbox (payload TEXT)")
    db.commit()
    db.execute("INSERT INTO outbox VALUES (?)", (json.dumps({"pinfl": PINFL}),))
    db.commit()
    wal = live / "kiosk.db-wal"
    assert wal.stat().st_size > 0
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copyfile(wal, copied / "kiosk.db-wal")
    db.close()
    hit = one(find_markers(copied, MARKERS), PINFL)
    assert hit.file == "kiosk.db-wal" and hit.encoding == "utf-8"


def test_a_row_only_in_the_wal_is_read_as_a_value(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "kiosk.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE outbox (payload BLOB)")
    db.commit()
    db.execute("INSERT INTO outbox VALUES (?)", (gzip.compress(NAME.encode()),))
    db.commit()
    try:
        found = find_markers(tmp_path, MARKERS)
    finally:
        db.close()
    assert any(f.file == "kiosk.db" and f.where == "outbox.payload rowid 1" for f in found), found


def test_a_blob_deflated_with_a_sealing_dictionary(tmp_path: Path) -> None:
    """Sealing compresses with a per-form preset dictionary (kiosk/seal_dict.py): a
    stream made with one does not inflate without it, so the scanner tries each."""
    from kiosk.catalog import bundled_form_files, load_spec_file
    from kiosk.seal_dict import form_dictionary

    zdict = form_dictionary(load_spec_file(bundled_form_files()[-1]))
    engine = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=zdict)
    raw = engine.compress(f'{{"full_name":"{NAME}","pinfl":"{PINFL}"}}'.encode()) + engine.flush()
    with pytest.raises(zlib.error):
        zlib.decompress(raw, -15)  # needs its dictionary
    (tmp_path / "blob.bin").write_bytes(raw)
    found = find_markers(tmp_path, MARKERS)
    assert {f.marker for f in found if f.via.startswith("deflate+dictionary")} == {NAME, PINFL}

"""Rejected items an operator settles (kiosk/rejected.py, issue 14 finding 5): the
reason said from its code, discard audited and crash-safe, resubmission linked, and the
outbox of an older kiosk migrated (schema step 5)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import outbox, rejected
from kiosk.config import db_path
from kiosk.schema import MIGRATIONS
from kiosk.store import Store

FORM = "criminal_record_certificate"


def _reject(store: Store, code: str = "item.unknown_form") -> str:
    sub = store.submit(None, {"x": 1}, "uz_Latn", form_id=FORM, form_version="1")
    [batch] = list(outbox.iter_batches(store.db, None, 10, 10**6))
    result = {
        "id": sub.id,
        "outcome": "rejected",
        "code": code,
        "params": {"form_id": FORM, "form_version": "1"},
        "reason": "The portal does not know form x.",
    }
    outbox.apply_results(store, batch, [result], 0, lambda n: 1.0, lang="en")
    return sub.tracking_code


def test_the_reason_is_said_from_its_code_in_any_language(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        code = _reject(store)
        [row] = store.rejected_open()
    assert row["tracking_code"] == code and row["reason_code"] == "item.unknown_form"
    assert rejected.reason_text(row, "en").startswith("The portal does not know form " + FORM)
    assert rejected.reason_text(row, "ru").startswith("Портал не знает форму")
    # An unknown code (a newer portal) is named in a translated sentence, never in the
    # English a portal may have sent with it (kiosk/reasons.py).
    row["reason_code"] = "newer.code"
    said = rejected.reason_text(row, "ru")
    assert "newer.code" in said and said.startswith("Портал") and "portal" not in said


def test_discard_needs_a_reason_is_audited_and_empties_the_blob(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        code = _reject(store)
        with pytest.raises(ValueError):
            store.discard_rejected(code, "   ", 7)
        store.discard_rejected(code, "  filed again\non paper ", 7)
        assert store.rejected_open() == [] and store.rejected_open_count() == 0
        row = store.db.execute(
            "SELECT state, settled, settled_note, settled_by, payload FROM outbox"
        ).fetchone()
        assert row == ("rejected", "discarded", "filed again on paper", 7, "")
        actor, details = store.db.execute(
            "SELECT actor, details FROM audit WHERE action = 'rejected_discarded'"
        ).fetchone()
        assert actor == "operator:7" and json.loads(details)["note"] == "filed again on paper"
        with pytest.raises(rejected.NotOpen):  # settled once only
            store.discard_rejected(code, "again", 7)


def test_resubmission_names_the_old_code_and_settles_it(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        old = _reject(store)
        new = store.submit(
            None,
            {"x": 2},
            "uz_Latn",
            form_id=FORM,
            form_version="1",
            operator_id=None,
            resubmits=old,
        )
        rows = {r["tracking_code"]: r for r in store.queue()}
        assert rows[new.tracking_code]["resubmits"] == old
        assert rows[old]["settled"] == "resubmitted"
        assert rows[old]["settled_note"] == new.tracking_code
        subject, details = store.db.execute(
            "SELECT subject, details FROM audit WHERE action = 'rejected_resubmitted'"
        ).fetchone()
        assert subject == old and json.loads(details)["new"] == new.tracking_code
        with pytest.raises(rejected.NotOpen):  # not twice: nothing written
            store.submit(None, {"x": 3}, "uz_Latn", form_id=FORM, form_version="1", resubmits=old)
        assert len(store.queue()) == 2


DISCARD_CHILD = """
import sys
from kiosk.store import Store
with Store.open(sys.argv[1]) as store:
    store.discard_rejected(sys.argv[2], "a reason", 1)
print("returned", flush=True)
"""


def test_a_discard_killed_before_its_commit_leaves_the_item_open(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        code = _reject(store)
        head = store.db.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    child = subprocess.run(
        [sys.executable, "-c", DISCARD_CHILD, str(data_dir), code],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CRASH_AT="rejected.discard_before_commit"),
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "crash point rejected.discard_before_commit" in child.stderr
    with Store.open(data_dir) as store:
        [row] = store.rejected_open()  # still open, with its blob: all or nothing
        assert row["tracking_code"] == code and row["settled"] is None
        assert store.db.execute("SELECT MAX(seq) FROM audit").fetchone()[0] == head
        store.discard_rejected(code, "a reason", 1)  # and it can be discarded after
        assert store.rejected_open() == []


def test_an_older_outbox_is_migrated(data_dir: Path) -> None:
    """A database made before step 5: its rejected row keeps its reason and is open."""
    conn = sqlite3.connect(db_path(data_dir))
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for number, sql in enumerate(MIGRATIONS[:4], start=1):
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_version VALUES (?, 'x')", [number])
    conn.execute(
        "INSERT INTO outbox (id, tracking_code, form_id, form_version, lang, payload,"
        " content_hash, size_bytes, created_at, state, next_attempt_at, outcome, reason)"
        " VALUES ('i', 'CODE', 'f', '1', 'uz_Latn', x'00', 'h', 1, 't', 'rejected', 't',"
        " 'rejected', 'old words')"
    )
    conn.commit()
    conn.close()
    with Store.open(data_dir) as store:
        [row] = store.rejected_open()
        assert row["reason_code"] is None and row["settled"] is None
        assert rejected.reason_text(row, "ru") == "old words"
        assert store.rejected_open_count() == 1

"""kill -9 at random moments while submitting: nothing acknowledged is lost, nothing torn."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import random
import shutil
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

from kiosk import audit
from kiosk.config import db_path
from kiosk.store import Store

TRIALS = 50

# Children are forked from a forkserver that has already imported the store, so a
# trial costs milliseconds rather than an interpreter start; each child is still its
# own process, killed with SIGKILL like a power cut kills the kiosk.
_CTX = mp.get_context("forkserver")
_CTX.set_forkserver_preload(["kiosk.store", "tests.test_power_loss"])

Ack = tuple[int, str, str, str]


def submit_forever(data_dir: str, conn: Connection) -> None:
    """Save a draft, submit it, and acknowledge only after submit() returned (committed)."""
    store = Store.open(data_dir)
    conn.send_bytes(b"ready")
    for i in range(1_000_000):
        answers = {"i": i, "name": "Ўзбек " * (i % 7), "note": "x" * (i % 500)}
        draft = store.save_draft(None, "birth", "2", "uz_Cyrl", answers, "name")
        sub = store.submit(
            None, answers, "uz_Cyrl", form_id="birth", form_version="2", draft_id=draft
        )
        conn.send_bytes(f"{i} {sub.id} {sub.tracking_code} {sub.content_hash}".encode())


def run_trial(data_dir: Path, seed: int) -> list[Ack]:
    """Start a submitting child, SIGKILL it at a random moment; return its acks."""
    rng = random.Random(seed)
    reader, writer = _CTX.Pipe(duplex=False)
    child = _CTX.Process(target=submit_forever, args=(str(data_dir), writer))
    child.start()
    writer.close()  # so the reader sees EOF once the child is dead
    assert reader.recv_bytes() == b"ready"
    time.sleep(rng.uniform(0.0, 0.15))
    os.kill(child.pid, signal.SIGKILL)
    acks: list[Ack] = []
    while True:
        try:
            parts = reader.recv_bytes().decode().split()
        except (EOFError, OSError):  # a message torn by the kill is no ack
            break
        acks.append((int(parts[0]), parts[1], parts[2], parts[3]))
    child.join()
    reader.close()
    assert child.exitcode == -signal.SIGKILL
    return acks


def check_after_kill(data_dir: Path, acks: list[Ack], one_run: bool = True) -> None:
    with Store.open(data_dir) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {r["id"]: r for r in store.queue(include_payload=True)}
        for _i, sub_id, code, content_hash in acks:
            row = rows[sub_id]  # every acknowledged submission is there
            assert row["tracking_code"] == code
            assert row["content_hash"] == content_hash
        indexes = set()
        for row in rows.values():  # and no row is half-written
            body = row["payload"].encode("utf-8")
            assert hashlib.sha256(body).hexdigest() == row["content_hash"]
            assert len(body) == row["size_bytes"]
            indexes.add(json.loads(body)["i"])
        if one_run:  # each loop index committed once, in order, none skipped
            assert indexes == set(range(len(rows)))
        report = audit.verify(store.db)
        assert report.ok, report
        assert report.checked == len(rows)
        assert store.get_setting("tracking_seq", "0") == str(len(rows))
        # A draft left behind is the one whose submit never committed.
        drafts = store.list_drafts()
        assert len(drafts) <= (1 if one_run else 2)
        if one_run:
            for draft in drafts:
                assert draft["answers"]["i"] not in indexes


def test_kill_during_submits_loses_and_tears_nothing(tmp_path: Path) -> None:
    # Trials start from a copy of a migrated database: the kill tests submits, and
    # this keeps the schema's fsyncs out of every trial.
    Store.open(tmp_path / "template").close()
    acked_counts = []
    for n in range(TRIALS):
        data_dir = tmp_path / f"trial{n}"
        data_dir.mkdir()
        shutil.copyfile(db_path(tmp_path / "template"), db_path(data_dir))
        acks = run_trial(data_dir, seed=n)
        check_after_kill(data_dir, acks)
        acked_counts.append(len(acks))
    # Kills landed at different points, not all before the first submit.
    assert len(set(acked_counts)) > 5


def test_restart_after_kill_continues_the_sequence(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = run_trial(data_dir, seed=1000)
    second = run_trial(data_dir, seed=1001)
    check_after_kill(data_dir, first + second, one_run=False)
    codes = [code for _, _, code, _ in first + second]
    assert len(set(codes)) == len(codes)

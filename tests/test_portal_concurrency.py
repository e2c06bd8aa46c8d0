"""The portal's storage when several processes share one database (PostgreSQL), and its
migrations on both backends.

Two `PortalStore`s over one database stand for two portal processes: each has its own
connection pool, so nothing in this process orders them; only the database does.
Waiting is on events and on what PostgreSQL reports (a backend waiting for a lock),
with a generous deadline, never on time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from kiosk import tracking
from kiosk.wire import now_iso
from sync.portal import schema
from sync.portal.storage import EnrolmentRefused
from sync.portal.store import PortalStore, append_status
from tests import pgkit, sealkit
from tests.test_portal_storage import SPEC, database_for, item

DEADLINE = 60.0


def wait_until(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def two(tmp_path: Path, pg_database: str) -> Iterator[tuple[PortalStore, PortalStore, str]]:
    """Two portal "processes" (stores with their own pools) over one PostgreSQL database."""
    folder = tmp_path / "portal"
    sealkit.seed_portal(folder)
    first = PortalStore(folder, database=pg_database)
    second = PortalStore(folder, database=pg_database)
    first.add_form("f", "1", "cat", SPEC, "admin")
    try:
        yield first, second, pg_database
    finally:
        first.close()
        second.close()


def lock_waiters(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_late_commit_of_an_earlier_seq_is_never_skipped_by_a_paging_kiosk(
    two: tuple[PortalStore, PortalStore, str],
) -> None:
    """A status row that commits after a later one of the same device would be skipped
    by a kiosk whose cursor passed it: the device's row lock makes the later writer wait
    before it draws its ``seq``."""
    first, second, dsn = two
    answer = first.enroll(first.create_enrolment_code("k"), "k")
    device = answer["device_id"]
    sent = item(answer["device_prefix"])
    assert first.ingest(device, [sent], "sync")[0]["outcome"] == "accepted"
    page = first.status_changes(device, 0, 100)
    cursor = page["cursor"]
    assert [c["status"] for c in page["changes"]] == ["received"]

    held = first.db.transaction()
    conn = held.__enter__()  # process 1: a status change written, not yet committed
    append_status(conn, device, sent["tracking_code"], "in_review", "x", None, now_iso())
    done = threading.Event()

    def later() -> None:  # process 2: another change of the same device
        second.set_status(sent["tracking_code"], "approved", "ok")
        done.set()

    thread = threading.Thread(target=later)
    thread.start()
    try:
        wait_until(lambda: lock_waiters(dsn) >= 1 or done.is_set(), "the second writer")
        assert not done.is_set(), "the later change committed before the earlier one"
        seen = first.status_changes(device, cursor, 100)  # a kiosk pages meanwhile
        assert seen["changes"] == [] and seen["cursor"] == cursor
    finally:
        held.__exit__(None, None, None)
        thread.join(DEADLINE)
    assert done.is_set()
    rest = first.status_changes(device, cursor, 100)
    assert [c["status"] for c in rest["changes"]] == ["in_review", "approved"]


def test_the_same_batch_through_two_processes_at_once_is_stored_once(
    two: tuple[PortalStore, PortalStore, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Process 1 has applied a batch, not committed; process 2 gets the same batch (a
    kiosk's retry): it waits, then answers duplicate for every item, never an error."""
    first, second, dsn = two
    answer = first.enroll(first.create_enrolment_code("k"), "k")
    device = answer["device_id"]
    batch = [item(answer["device_prefix"]) for _ in range(20)]
    parsed, release = threading.Event(), threading.Event()
    holder = threading.current_thread()

    def hold(name: str) -> None:
        if name == "portal.batch_parsed" and threading.current_thread() is not holder:
            if not parsed.is_set():
                parsed.set()
                release.wait(DEADLINE)

    monkeypatch.setattr("sync.portal.store.crash_point", hold)
    results: dict[str, list[str]] = {}
    errors: list[str] = []

    def send(name: str, store: PortalStore) -> None:
        try:
            results[name] = [r["outcome"] for r in store.ingest(device, batch, "sync")]
        except Exception as exc:  # noqa: BLE001 - an error is the failure looked for
            errors.append(repr(exc))

    a = threading.Thread(target=send, args=("a", first))
    a.start()
    assert parsed.wait(DEADLINE)
    b = threading.Thread(target=send, args=("b", second))
    b.start()
    try:
        wait_until(lambda: lock_waiters(dsn) >= 1 or not b.is_alive(), "the retry to wait")
    finally:
        release.set()
        a.join(DEADLINE)
        b.join(DEADLINE)
    assert not errors
    assert results == {"a": ["accepted"] * 20, "b": ["duplicate"] * 20}
    assert first.stats(device)["submissions"] == 20


def test_an_insert_racing_a_committed_row_answers_duplicate_or_conflict(
    two: tuple[PortalStore, PortalStore, str],
) -> None:
    """The ON CONFLICT path itself: the row appears between the check and the insert."""
    first, _, _ = two
    answer = first.enroll(first.create_enrolment_code("k"), "k")
    device = answer["device_id"]
    sent = item(answer["device_prefix"])
    assert first.ingest(device, [sent], "sync")[0]["outcome"] == "accepted"
    with first.transaction() as conn:
        again = first._after_conflict(conn, device, sent["id"], sent["content_hash"], "")
        other = first._after_conflict(conn, device, sent["id"], "0" * 64, "")
        taken = first._after_conflict(conn, device, str(uuid.uuid4()), "0" * 64, "")
    assert again["outcome"] == "duplicate"
    assert (other["outcome"], other["code"]) == ("conflict", "item.conflict")
    assert (taken["outcome"], taken["code"]) == ("rejected", "item.code_taken")


def test_an_enrolment_code_is_spent_once_across_processes(
    two: tuple[PortalStore, PortalStore, str],
) -> None:
    first, second, _ = two
    code = first.create_enrolment_code("k")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def spend(store: PortalStore) -> None:
        start.wait()
        try:
            store.enroll(code, "k")
            outcomes.append("enrolled")
        except EnrolmentRefused as refused:
            outcomes.append(refused.body["code"])

    threads = [threading.Thread(target=spend, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert sorted(outcomes) == ["enrol.code", "enrolled"]
    assert first.stats()["devices"] == 1


def test_the_guessing_limit_holds_across_processes(
    two: tuple[PortalStore, PortalStore, str],
) -> None:
    from sync.portal.storage import ENROL_SOURCE_LIMIT

    first, second, _ = two
    codes: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def guess(store: PortalStore) -> None:
        for _ in range(ENROL_SOURCE_LIMIT):
            try:
                store.enroll("AAAA-BBBB-CCCC-DD", "k", source="203.0.113.9")
            except EnrolmentRefused as refused:
                with lock:
                    codes.append(refused.body["code"])
            except Exception as exc:  # noqa: BLE001 - any other error fails the test
                errors.append(repr(exc))

    threads = [threading.Thread(target=guess, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert not errors
    assert codes.count("enrol.code") == ENROL_SOURCE_LIMIT  # wrong codes counted, no more
    assert codes.count("enrol.rate_limited") == ENROL_SOURCE_LIMIT


def test_two_processes_starting_at_once_migrate_once(tmp_path: Path, pg_database: str) -> None:
    folder = tmp_path / "portal"
    sealkit.seed_portal(folder)
    PortalStore(folder).close()  # the keys first: key creation is not what is tested
    stores: list[PortalStore] = []
    errors: list[str] = []
    start = threading.Barrier(3)

    def open_one() -> None:
        start.wait()
        try:
            stores.append(PortalStore(folder, database=pg_database))
        except Exception as exc:  # noqa: BLE001 - any error fails the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    for store in stores:
        store.close()
    assert not errors and len(stores) == 3
    with psycopg.connect(pg_database) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    expected = list(range(schema.PG_BASELINE_STEPS, len(schema.MIGRATIONS) + 1))
    assert versions == expected


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_step_appended_to_migrations_runs_on_both_backends(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = """
    CREATE TABLE appended_probe (id TEXT PRIMARY KEY, n INTEGER NOT NULL, big BIGINT);
    INSERT INTO appended_probe (id, n) VALUES ('x', 1)
    """
    folder = tmp_path / "portal"
    sealkit.seed_portal(folder)
    with database_for(backend) as database:
        PortalStore(folder, database=database).close()  # today's schema
        monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, step))
        for _ in range(2):  # applied once; opening again changes nothing
            store = PortalStore(folder, database=database)
            with store.transaction() as conn:
                rows = conn.execute("SELECT id, n FROM appended_probe").fetchall()
                assert [(r["id"], r["n"]) for r in rows] == [("x", 1)]
                if backend == "sqlite":
                    version = conn.execute("PRAGMA user_version").fetchone()
                else:
                    version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                assert version is not None and version[0] == len(schema.MIGRATIONS)
            store.close()


def test_lookups_are_rate_limited_across_processes(
    two: tuple[PortalStore, PortalStore, str],
) -> None:
    from sync.portal.storage import LOOKUP_SOURCE_LIMIT, LookupLimited

    first, second, _ = two
    limited = 0
    for n in range(LOOKUP_SOURCE_LIMIT + 2):
        store = first if n % 2 else second
        try:
            store.lookup_status(tracking.new_code("ABC"), "198.51.100.7")
        except LookupLimited:
            limited += 1
    assert limited == 2


def test_pgkit_fails_rather_than_skips_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pgkit.ENV, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        pgkit.admin_dsn()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        pgkit.admin_dsn()

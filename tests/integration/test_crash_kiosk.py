"""The kiosk killed by SIGKILL at each named crash point, then restarted.

Each test arms one point (`KIOSK_CRASH_AT=point:nth`), proves the process died there,
checks the exact state the kill must leave, then restarts and checks the four things:
every acknowledged submission reaches the portal exactly once, `integrity_check`,
`kiosk audit verify`, and a consistent outbox (`crashkit.check_recovered`).
"""

from __future__ import annotations

import copy

import pytest

from kiosk.store import Store
from sync.portal.store import PortalStore
from tests.integration.crashkit import (
    check_kiosk,
    check_recovered,
    kiosk_crashing,
    submit_cleanly,
    submit_until_killed,
)
from tests.integration.synckit import TEST_FORM_SPEC, Kiosk, enroll, queue_submissions

SYNC = ("sync", "--batch-items", "5", "--max-wait", "0", "--json")
ITEMS = 12  # three batches of 5, 5 and 2


def sent_count(kiosk: Kiosk) -> int:
    with kiosk.store() as store:
        return store.queue_counts()["sent"]


def drafts(kiosk: Kiosk) -> list[dict[str, object]]:
    with kiosk.store() as store:
        return store.list_drafts()


# --- submit and draft -----------------------------------------------------------------


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_killed_before_submit_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"submit.before_commit:{nth}", 8)
    assert len(acked) == nth - 1
    rows = check_kiosk(kiosk, acked)
    assert len(rows) == nth - 1  # the nth submit left nothing behind...
    (left,) = drafts(kiosk)  # ...but its draft, with the answers, for a retry
    assert left["answers"] == {"full_name": f"Aliyev Vali {nth - 1}", "n": nth - 1}
    acked += submit_cleanly(kiosk, 2)  # the kiosk goes on: codes continue, none reused
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_killed_after_submit_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"submit.after_commit:{nth}", 8)
    assert len(acked) == nth - 1
    rows = check_kiosk(kiosk, acked)
    assert len(rows) == nth  # committed though never acknowledged: it is sent like the rest
    assert drafts(kiosk) == []  # its draft went in the same transaction
    acked += submit_cleanly(kiosk, 2)
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 3])
def test_killed_before_a_draft_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"draft.before_commit:{nth}", 8)
    assert len(acked) == nth - 1
    assert len(check_kiosk(kiosk, acked)) == nth - 1
    assert drafts(kiosk) == []
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 3])
def test_killed_after_a_draft_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"draft.after_commit:{nth}", 8)
    assert len(acked) == nth - 1
    assert len(check_kiosk(kiosk, acked)) == nth - 1
    (left,) = drafts(kiosk)  # saved: a power cut here resumes with the answers
    assert left["answers"] == {"full_name": f"Aliyev Vali {nth - 1}", "n": nth - 1}
    check_recovered(kiosk, acked)


# --- sending --------------------------------------------------------------------------

# point -> (items the kiosk has marked sent, items at the portal) after a kill at batch n
SEND_POINTS = {
    "sync.batch_built": lambda n: (5 * (n - 1), 5 * (n - 1)),
    "sync.request_sent": lambda n: (5 * (n - 1), min(5 * n, ITEMS)),
    "sync.answer_read": lambda n: (5 * (n - 1), min(5 * n, ITEMS)),
    "sync.outcomes_committed": lambda n: (min(5 * n, ITEMS), min(5 * n, ITEMS)),
}


@pytest.mark.parametrize("nth", [1, 2, 3])
@pytest.mark.parametrize("point", sorted(SEND_POINTS))
def test_sync_killed_while_sending(kiosk: Kiosk, point: str, nth: int) -> None:
    with kiosk.store() as store:
        queue_submissions(store, ITEMS)
    kiosk_crashing(kiosk, f"{point}:{nth}", *SYNC)
    kiosk_sent, portal_has = SEND_POINTS[point](nth)
    assert sent_count(kiosk) == kiosk_sent
    assert kiosk.portal_stats()["submissions"] == portal_has
    check_kiosk(kiosk)
    stats = check_recovered(kiosk)
    # The items the portal stored but the kiosk never heard of come back as duplicates.
    assert stats["duplicates"] == portal_has - kiosk_sent


# --- pulls ----------------------------------------------------------------------------

STATUS_CHANGES = 501  # the kiosk pulls 500 a page: two pages


def _with_status_changes(kiosk: Kiosk) -> list[str]:
    with kiosk.store() as store:
        codes = queue_submissions(store, STATUS_CHANGES)
    assert kiosk.run("sync", "--max-wait", "0", "--json").returncode == 0
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        for code in codes:
            portal.set_status(code, "approved", "ok")
    finally:
        portal.close()
    return codes


def _statuses(kiosk: Kiosk) -> tuple[int, int]:
    with kiosk.store() as store:
        approved = store.db.execute("SELECT COUNT(*) FROM status WHERE status = 'approved'")
        return approved.fetchone()[0], int(store.get_setting("status_cursor") or 0)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "stored"),
    [
        ("sync.status_fetched:1", 0),
        ("sync.status_fetched:2", 500),
        ("sync.status_applied:1", 500),
        ("sync.status_applied:2", STATUS_CHANGES),
    ],
)
def test_sync_killed_while_pulling_statuses(kiosk: Kiosk, spec: str, stored: int) -> None:
    codes = _with_status_changes(kiosk)
    _, cursor_before = _statuses(kiosk)
    kiosk_crashing(kiosk, spec, *SYNC)
    approved, cursor = _statuses(kiosk)
    assert approved == stored  # statuses and the cursor commit together, page by page
    assert (cursor > cursor_before) == (stored > 0)
    check_recovered(kiosk)
    assert _statuses(kiosk)[0] == len(codes)
    assert kiosk.run("sync", "--max-wait", "0", "--json").returncode == 0
    assert _statuses(kiosk)[0] == len(codes)  # nothing pulled twice, nothing missed


def _add_forms(portal_dir: object, names: list[str]) -> None:
    portal = PortalStore(portal_dir)  # type: ignore[arg-type]
    try:
        for name in names:
            spec = copy.deepcopy(TEST_FORM_SPEC)
            spec["id_string"] = name
            spec["title"] = name
            portal.add_form(name, "1", "test", spec, "admin")
    finally:
        portal.close()


def _kiosk_forms(kiosk: Kiosk) -> set[str]:
    with kiosk.store() as store:
        return {r[0] for r in store.db.execute("SELECT form_id FROM forms WHERE source = 'portal'")}


@pytest.mark.parametrize("spec", ["sync.catalog_fetched:1", "sync.catalog_form_saved:1"])
def test_sync_killed_while_pulling_the_catalog(private_kiosk: Kiosk, spec: str) -> None:
    kiosk = private_kiosk
    assert kiosk.run("sync", "--max-wait", "0", "--json").returncode == 0
    known = _kiosk_forms(kiosk)
    with kiosk.store() as store:
        etag = store.get_setting("catalog_etag")
    _add_forms(kiosk.portal.data_dir, ["crash_form_a", "crash_form_b"])
    kiosk_crashing(kiosk, spec, *SYNC)
    saved = 1 if spec.startswith("sync.catalog_form_saved") else 0
    assert len(_kiosk_forms(kiosk) - known) == saved
    with kiosk.store() as store:
        assert store.get_setting("catalog_etag") == etag  # the ETag waits for every form
    check_recovered(kiosk)
    assert _kiosk_forms(kiosk) - known == {"crash_form_a", "crash_form_b"}


# --- bundles --------------------------------------------------------------------------


def test_export_killed_before_the_rename(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "stick" / "queue.bundle"
    target.parent.mkdir()
    kiosk_crashing(kiosk, "bundle.export_written", "export-bundle", str(target))
    assert not target.exists()  # never half a bundle
    leftovers = list(target.parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".queue.bundle.")
    result = kiosk.run("export-bundle", str(target))
    assert result.returncode == 0, result.stderr
    # The next export cleans up: no copy of citizens' answers is left on the stick.
    assert list(target.parent.iterdir()) == [target]
    check_kiosk(kiosk)
    check_recovered(kiosk)


def test_export_killed_after_the_rename(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "queue.bundle"
    kiosk_crashing(kiosk, "bundle.export_renamed", "export-bundle", str(target))
    from sync import bundle

    parsed, _ = bundle.read(target)  # whole and valid, though its audit entry is missing
    assert len(parsed.items) == 4
    result = kiosk.run("import-bundle", str(target))
    assert result.returncode == 0, result.stderr
    stats = check_recovered(kiosk)
    assert stats["duplicates"] == 4  # delivered by the bundle, then resent by sync


@pytest.mark.parametrize("importer_is_exporter", [True, False])
def test_import_killed_after_the_portal_answered(kiosk: Kiosk, importer_is_exporter: bool) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "queue.bundle"
    assert kiosk.run("export-bundle", str(target)).returncode == 0
    importer = kiosk
    if not importer_is_exporter:  # the stick carried to another, connected kiosk
        other = kiosk.data_dir.parent / "k2"
        other.mkdir()
        enroll(other, kiosk.portal)
        importer = Kiosk(other, kiosk.portal)
    kiosk_crashing(importer, "bundle.import_answered", "import-bundle", str(target))
    assert kiosk.portal_stats()["submissions"] == 4
    again = importer.run("import-bundle", str(target))  # the operator tries again
    assert again.returncode == 0, again.stderr
    check_kiosk(importer)
    stats = check_recovered(kiosk)
    assert stats["duplicates"] == 4 + 4  # the second import and the sync: all no-ops


def test_kiosk_store_reopens_after_every_kill(kiosk: Kiosk) -> None:
    """A database left by kills at several points opens and migrates as usual."""
    for spec in ("submit.after_commit:2", "draft.after_commit:1", "submit.before_commit:1"):
        submit_until_killed(kiosk, spec, 3)
    with Store.open(kiosk.data_dir) as store:
        assert store.schema_version() >= 1
    check_recovered(kiosk)

"""`kiosk sync` killed by SIGKILL inside the status and catalog pulls, then restarted.

Statuses commit with their cursor page by page, and the catalog's ETag only after
every new form is stored, so a kill anywhere makes the next sync fetch again what was
not kept: nothing missed, nothing twice.
"""

from __future__ import annotations

import copy

import pytest

from sync.portal.store import PortalStore
from tests.integration.crashkit import (
    SYNC,
    check_recovered,
    kiosk_crashing,
)
from tests.integration.synckit import TEST_FORM_SPEC, Kiosk, queue_submissions

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

"""sync/lookup.py (issue 14, finding 6) over the in-process portal: the live answer
over the local copy, and when the portal limits look-ups, the local copy with the
reason in the asker's language (from the reason code), never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.store import Store
from sync.engine import SyncEngine
from sync.lookup import freshness, look_up
from sync.portal.local import LocalTransport
from sync.portal.storage import LOOKUP_SOURCE_LIMIT
from sync.portal.store import PortalStore
from tests.integration.synckit import add_test_form, queue_submissions


def test_live_then_limited_then_the_local_copy(tmp_path: Path, data_dir: Path) -> None:
    add_test_form(tmp_path / "portal")
    portal = PortalStore(tmp_path / "portal")
    try:
        with Store.open(data_dir) as store:
            enrolled = LocalTransport(portal).enroll(
                portal.create_enrolment_code("kiosk"), "kiosk", store.device_id
            )
            store.state.portal_device_id = enrolled["device_id"]
            store.state.device_prefix = enrolled["device_prefix"]
            transport = LocalTransport(portal, enrolled["token"])
            [code] = queue_submissions(store, 1)
            SyncEngine(store, transport).run()
            portal.set_status(code, "approved")
            live = look_up(store, code.lower(), "en", ask_portal=True, transport=transport)
            assert live is not None and live.live
            assert live.info is not None and live.info["portal_status"] == "approved"
            assert store.status(code)["portal_status"] == "received"  # shown, not stored
            for _ in range(LOOKUP_SOURCE_LIMIT - 1):  # the live look-up above counted
                transport.lookup_status(code)
            limited = look_up(store, code, "ru", ask_portal=True, transport=transport)
            assert limited is not None and not limited.live
            assert limited.problem is not None and "Слишком много" in limited.problem
            assert limited.info is not None and limited.info["portal_status"] == "received"
            now = datetime.fromisoformat(limited.as_of) + timedelta(hours=2)
            said = freshness(limited, now.astimezone(UTC), "ru")
            assert "2 часа назад" in said and "Слишком много" in said
            assert look_up(store, "not a code", "ru", ask_portal=True, transport=transport) is None
    finally:
        portal.close()

"""`kiosk status CODE` (issue 14, finding 6) against a real portal process: the live
answer for any code, the local copy with its age offline, never English under uz/ru."""

from __future__ import annotations

from sync.portal.store import PortalStore
from tests.integration.synckit import Kiosk, queue_submissions


def test_kiosk_status_is_live_online_and_aged_offline(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        [code] = queue_submissions(store, 1)
    assert kiosk.run("sync").returncode == 0
    admin = PortalStore(kiosk.portal.data_dir)
    try:
        admin.set_status(code, "approved", note="Bring your passport")
    finally:
        admin.close()
    live = kiosk.run("status", code.lower())
    assert live.returncode == 0, live.stderr
    assert "Approved" in live.stdout and "Checked with the portal just now" in live.stdout
    offline = kiosk.run("status", code, "--offline", "--lang", "ru")
    assert offline.returncode == 0, offline.stderr
    assert "Получено" in offline.stdout or "Статус" in offline.stdout  # the pulled "received"
    assert "назад" in offline.stdout or "только что" in offline.stdout  # how old, in Russian
    assert not any(word in offline.stdout for word in ("ago", "Saved", "Status"))
    unknown = kiosk.run("status", code[:-1] + ("2" if code[-1] != "2" else "3"))
    assert unknown.returncode == 2  # a wrong check symbol: not a tracking code

"""The sync engine over the in-process transport: a whole sync without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import seal_store
from kiosk.store import Store
from kiosk.wire import canonical_json
from sync.engine import SyncEngine
from sync.portal.local import LocalTransport
from sync.portal.store import PortalStore
from tests.integration.synckit import add_test_form, queue_submissions


def test_a_sync_over_local_transport_sends_pulls_statuses_and_forms(tmp_path: Path) -> None:
    add_test_form(tmp_path / "portal")
    portal = PortalStore(tmp_path / "portal")
    try:
        answer = LocalTransport(portal).enroll(
            portal.create_enrolment_code("local kiosk"), "local kiosk"
        )
        with Store.open(tmp_path / "kiosk") as store:
            store.set_setting("device_prefix", answer["device_prefix"])
            keys = answer.get("signing_keys", [])
            store.state.signing_keys = {k["key_id"]: k["public_key"] for k in keys}
            # and the sealing key, as enrolment stores it (pinned: the env's key file is not
            # vouched for by this portal's signing keys, so it is not sealed to)
            store.set_setting(seal_store.SEALING_KEY, canonical_json(answer["sealing_key"]))
            codes = queue_submissions(store, 3)
            transport = LocalTransport(portal, answer["token"])
            report = SyncEngine(store, transport).run()
            assert (report.sent, report.waiting, report.error) == (3, 0, None)
            assert report.statuses == 3 and report.forms_updated == 1
            portal.set_status(codes[0], "approved", "ready")
            again = SyncEngine(store, transport).run()
            assert (again.sent, again.statuses, again.forms_updated) == (0, 1, 0)
            status = store.status(codes[0])
            assert status is not None
            assert (status["state"], status["portal_status"], status["note"]) == (
                "sent",
                "approved",
                "ready",
            )
        assert portal.stats(answer["device_id"])["submissions"] == 3
    finally:
        portal.close()


def test_local_transport_answers_the_guessing_limit_as_the_http_client_does(
    tmp_path: Path,
) -> None:
    from kiosk import enrolment_code
    from sync.portal.storage import ENROL_SOURCE_LIMIT
    from sync.transport import RequestRejected, RetryableError

    portal = PortalStore(tmp_path / "portal")
    try:
        local = LocalTransport(portal)
        for _ in range(ENROL_SOURCE_LIMIT):
            with pytest.raises(RequestRejected):
                local.enroll(enrolment_code.new_code(), "k")
        with pytest.raises(RetryableError) as limited:
            local.enroll(portal.create_enrolment_code("k"), "k")
        assert limited.value.kwargs["status"] == 429
        assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 600
    finally:
        portal.close()

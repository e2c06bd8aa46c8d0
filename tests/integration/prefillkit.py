"""Helpers of the once-only prefill tests (docs/once-only.md): a form that prefills,
synthetic registry people at a real portal, look-up requests as the kiosk makes them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from kiosk import prefill
from kiosk.store import Store
from kiosk.wire import now_iso
from sync.enrolment import enroll as sync_enroll
from sync.portal import registry
from sync.portal.process import PortalProcess
from sync.portal.registry_synth import make_people
from sync.portal.store import PortalStore
from sync.transport import RegistryRequest
from tests.integration.synckit import TEST_FORM_VERSION, Kiosk, run_cli

PREFILL_FORM_ID = "prefill_test"
PREFILL_FORM_SPEC: dict[str, Any] = {
    "type": "survey",
    "name": "data",
    "id_string": PREFILL_FORM_ID,
    "version": TEST_FORM_VERSION,
    "title": "Prefill test",
    "children": [
        {"type": "text", "name": "full_name", "label": "Full name", "prefill": "person.full_name"},
        {"type": "date", "name": "birth_date", "label": "Born", "prefill": "person.birth_date"},
        {"type": "text", "name": "phone", "label": "Phone", "prefill": "person.phone"},
        {"type": "text", "name": "reason", "label": "Reason"},
    ],
}
FIELDS = ["person.full_name", "person.birth_date", "person.phone"]


def load_people(portal: PortalProcess, tmp: Path, count: int = 40) -> list[registry.Person]:
    """Synthetic people made and loaded as an administrator would: the script's CSV,
    then ``kiosk portal registry load`` (into the running portal's database)."""
    people = make_people(count, seed=1616)
    path = tmp / "people.csv"
    registry.write_csv(path, people)
    loaded = run_cli(
        tmp, "portal", "registry", "load", str(path), "--portal-dir", str(portal.data_dir)
    )
    assert loaded.returncode == 0, loaded.stderr
    store = PortalStore(portal.data_dir)
    try:
        store.add_form(PREFILL_FORM_ID, TEST_FORM_VERSION, "test", PREFILL_FORM_SPEC, "admin")
    finally:
        store.close()
    return people


def request(
    pinfl: str, *, consent: bool = True, id_check: bool = True, fields: list[str] | None = None
) -> RegistryRequest:
    at = now_iso()
    return {
        "lookup_id": str(uuid.uuid4()),
        "pinfl": pinfl,
        "purpose": prefill.PURPOSE,
        "form_id": PREFILL_FORM_ID,
        "fields": list(fields or FIELDS),
        "consent": {"given": True, "at": at, "operator_id": "7"} if consent else None,
        "id_check": (
            {"method": prefill.ID_CHECK, "document": "id_card", "operator_id": "7", "at": at}
            if id_check
            else None
        ),
    }


def access_log(portal: PortalProcess, tmp: Path) -> list[dict[str, Any]]:
    """The portal's access log through ``kiosk portal registry log --json``."""
    shown = run_cli(
        tmp, "portal", "registry", "log", "--json", "--portal-dir", str(portal.data_dir)
    )
    assert shown.returncode == 0, shown.stderr
    rows: list[dict[str, Any]] = json.loads(shown.stdout)
    return rows


def stored_payload(portal: PortalProcess, tracking_code: str) -> dict[str, Any]:
    """The opened payload the portal stored for an application."""
    store = PortalStore(portal.data_dir)
    try:
        with store.transaction() as conn:
            row = conn.execute(
                "SELECT payload FROM submissions WHERE tracking_code = ?", (tracking_code,)
            ).fetchone()
    finally:
        store.close()
    assert row is not None, tracking_code
    payload: dict[str, Any] = json.loads(row["payload"])
    return payload


OFFICE = "Chilonzor MFY kiosk"
REGION = "Toshkent shahri"


def office_kiosk(data_dir: Path, portal: PortalProcess) -> Kiosk:
    """A kiosk enrolled under an office's name and region (what the log and page show)."""
    store = PortalStore(portal.data_dir)
    try:
        code = store.create_enrolment_code(OFFICE, region=REGION)
    finally:
        store.close()
    data_dir.mkdir(parents=True)
    with Store.open(data_dir) as kiosk_store:
        sync_enroll(kiosk_store, portal.url, code, OFFICE, portal.pins)
    return Kiosk(data_dir, portal)

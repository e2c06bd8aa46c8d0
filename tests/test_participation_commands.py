"""`kiosk portal season batch|checks|tally` against a real portal directory: the batch
size guarded (a smaller one would let a tally change show one vote), the operators'
ID checks listed for audit, the ballots waiting shown to the admin only."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from kiosk import participation, tracking
from kiosk.wire import now_iso
from sync.portal import ballot_box, registry, registry_synth, seasons
from sync.portal.store import PortalStore
from tests import sealkit

PEOPLE = registry_synth.make_people(2, seed=5)


def _portal(tmp_path: Path) -> Path:
    portal_dir = tmp_path / "portal"
    sealkit.seed_portal(portal_dir)
    store = PortalStore(portal_dir)
    try:
        for form_id, spec in participation.FORMS.items():
            store.add_form(form_id, participation.FORM_VERSION, "participation", spec, "t")
        store.publish_season(seasons.read_file(seasons.DEMO_FILE))
        with store.transaction() as conn:
            registry.load(conn, PEOPLE)
        dev = dict(store.enroll(store.create_enrolment_code("Chilonzor-7"), "Chilonzor-7"))
        for person in PEOPLE:
            answers = participation.vote_answers("demo-2026", "water-pipe", person.pinfl, 12)
            item = sealkit.seal_item(
                {
                    "id": str(uuid.uuid4()),
                    "tracking_code": tracking.new_code(dev["device_prefix"]),
                    "form_id": participation.VOTE_FORM,
                    "form_version": participation.FORM_VERSION,
                    "lang": "ru",
                    "payload": answers,
                    "created_at": now_iso(),
                }
            )
            store.ingest(dev["device_id"], [item], "sync")
    finally:
        store.close()
    return portal_dir


def test_a_batch_smaller_than_safe_is_refused(run_kiosk, tmp_path: Path) -> None:
    portal_dir = _portal(tmp_path)
    small = run_kiosk("portal", "season", "batch", "1", "--portal-dir", str(portal_dir))
    assert small.returncode != 0 and "one person's vote" in small.stderr
    ru = run_kiosk(
        "portal", "season", "batch", "2", "--portal-dir", str(portal_dir), env={"KIOSK_LANG": "ru"}
    )
    assert ru.returncode != 0 and "одного человека" in ru.stderr
    ok = run_kiosk(
        "portal", "season", "batch", str(ballot_box.MIN_SAFE_BATCH), "--portal-dir", str(portal_dir)
    )
    assert ok.returncode == 0, ok.stderr
    tally = run_kiosk("portal", "season", "tally", "demo-2026", "--portal-dir", str(portal_dir))
    assert tally.returncode == 0, tally.stderr
    assert "ballots waiting for their batch: 2" in tally.stdout  # the admin sees them


def test_attested_id_checks_are_listed(run_kiosk, tmp_path: Path) -> None:
    portal_dir = _portal(tmp_path)
    listed = run_kiosk(
        "portal",
        "season",
        "checks",
        "--since",
        "2000-01-01",
        "--json",
        "--portal-dir",
        str(portal_dir),
    )
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["device_name"], row["operator_id"], row["checks"]) == ("Chilonzor-7", "12", 2)
    for wrong in ("yesterday", "20261201", "2026-W48-1"):
        bad = run_kiosk(
            "portal", "season", "checks", "--since", wrong, "--portal-dir", str(portal_dir)
        )
        assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr, wrong

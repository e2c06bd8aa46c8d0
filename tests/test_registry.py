"""The reference registry (issue 16): synthetic people that are valid and seeded, the
CSV checked line by line, the table on every backend, `kiosk portal registry load`."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kiosk import validators
from kiosk.prefill import BENEFIT_STATUSES, FIELDS
from sync.portal import registry
from sync.portal.registry_synth import make_people
from sync.portal.storage import LookupReused
from sync.portal.store import PortalStore
from sync.transport import RegistryRequest
from tests import sealkit
from tests.test_portal_storage import BACKENDS, database_for

ROOT = Path(__file__).resolve().parents[1]


def test_synthetic_people_are_valid_distinct_and_seeded() -> None:
    people = make_people(300, seed=7)
    assert people == make_people(300, seed=7)
    assert people != make_people(300, seed=8)
    assert len({p.pinfl for p in people}) == 300
    for p in people:
        assert validators.is_valid_pinfl(p.pinfl), p
        born = validators.pinfl_birth_date(p.pinfl)
        assert born is not None and born.isoformat() == p.birth_date
        assert validators.normalize_phone(p.phone) == p.phone and p.phone.startswith("+998")
        assert p.benefit_status in BENEFIT_STATUSES
        assert p.full_name.split()[-1] in ("o'g'li", "qizi")
        # sex in the PINFL matches the patronymic
        assert (validators.pinfl_sex(p.pinfl) == "f") == p.full_name.endswith("qizi")
    assert any(p.family for p in people)


def test_csv_round_trip_and_a_bad_line_is_named(tmp_path: Path) -> None:
    people = make_people(20, seed=1)
    path = tmp_path / "people.csv"
    registry.write_csv(path, people)
    assert registry.read_csv(path) == people
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    first = rows[0]["pinfl"]
    rows[3]["pinfl"] = first[:13] + str((int(first[13]) + 1) % 10)  # wrong check digit
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=registry.COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(registry.RegistryError, match=r"line 5: the PINFL is not valid"):
        registry.read_csv(path)


def test_a_birth_date_the_pinfl_does_not_encode_is_refused() -> None:
    p = make_people(1)[0]
    row = {c: str(getattr(p, c)) for c in registry.COLUMNS if c != "family"}
    row["family"] = "[]"
    row["birth_date"] = "1999-01-01" if p.birth_date != "1999-01-01" else "1998-01-01"
    with pytest.raises(registry.RegistryError, match="encodes"):
        registry.parse_row(dict(row), 2)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalStore]:
    with database_for(request.param) as database:
        sealkit.seed_portal(tmp_path / "portal")
        opened = PortalStore(tmp_path / "portal", database=database)
        try:
            yield opened
        finally:
            opened.close()


def test_the_table_registry_finds_people_by_pinfl(store: PortalStore) -> None:
    people = make_people(30, seed=3)
    with store.transaction() as conn:
        assert registry.load(conn, people) == 30
        assert registry.load(conn, people[:5]) == 5  # loading again replaces, no duplicate
        assert registry.count(conn) == 30
    table = registry.TableRegistry(store.db)
    wanted = people[11]
    found = table.person(wanted.pinfl[:7] + " " + wanted.pinfl[7:])  # spaces are ignored
    assert found == wanted
    assert set(found.values(FIELDS)) == set(FIELDS)
    assert found.values(["person.phone", "person.nope"]) == {"person.phone": wanted.phone}
    assert table.person(validators.make_pinfl(date(1950, 1, 1), "m", 1, 1)) is None


def test_kiosk_portal_registry_load(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    made = subprocess.run(
        [sys.executable, "-m", "sync.portal.registry_synth", str(path), "--count", "12"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert "12 synthetic people" in made.stdout
    portal = tmp_path / "portal"
    sealkit.seed_portal(portal)
    kiosk = [sys.executable, "-m", "mahalla", "--lang", "en"]
    loaded = subprocess.run(
        [*kiosk, "portal", "registry", "load", str(path), "--portal-dir", str(portal)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "12 people loaded" in loaded.stdout
    counted = subprocess.run(
        [*kiosk, "portal", "registry", "count", "--portal-dir", str(portal)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert counted.stdout.strip() == "12"
    path.write_text("pinfl,full_name\n1,x\n", encoding="utf-8")
    bad = subprocess.run(
        [*kiosk, "portal", "registry", "load", str(path), "--portal-dir", str(portal)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and "missing columns" in bad.stderr


def test_a_lookup_id_reads_one_person_only(store: PortalStore) -> None:
    """A look-up id answers again for its own person (a retry after a lost answer, logged
    once) and is refused for anyone else: one logged look-up cannot read many people."""
    people = make_people(3, seed=5)
    with store.transaction() as conn:
        registry.load(conn, people)
    device = store.enroll(store.create_enrolment_code("kiosk"), "kiosk")["device_id"]

    def asked(pinfl: str) -> RegistryRequest:
        return {
            "lookup_id": "0b7f6c1e-4a8e-4b8e-9a53-0c1d2e3f4a5b",
            "pinfl": pinfl,
            "purpose": "application_prefill",
            "form_id": "old_age_pension",
            "fields": ["person.full_name"],
            "consent": {"given": True, "at": "2026-12-01T09:00:00Z", "operator_id": "7"},
            "id_check": {
                "method": "operator_id_check",
                "document": "passport",
                "operator_id": "7",
                "at": "2026-12-01T09:00:00Z",
            },
        }

    first = store.consult_registry(device, asked(people[0].pinfl))
    assert first["values"] == {"person.full_name": people[0].full_name}
    again = store.consult_registry(device, asked(people[0].pinfl))  # the retry
    assert again == first
    with pytest.raises(LookupReused):
        store.consult_registry(device, asked(people[1].pinfl))
    rows = store.registry_access_log()
    assert len(rows) == 1 and rows[0]["outcome"] == "found"
    assert people[0].pinfl not in str(rows)  # a keyed tag, never the number

"""The state registry the portal consults for once-only prefill (issue 16).

`Registry` is the interface: ``person(pinfl)`` answers what the state already holds
about one person, or None. The reference portal implements it with a table,
``registry_people`` (`TableRegistry`), loaded from a CSV of SYNTHETIC people
(`sync.portal.registry_synth` makes one; ``kiosk portal registry load FILE`` loads
it): never real data. A real integration (an X-Road-style service behind a security
server) implements the same protocol and nothing else changes: the portal asks for a
PINFL and maps the answer onto the field names of `kiosk.prefill.FIELDS`.

The SQL is plain functions over a connection inside the caller's transaction
(`find`, `load`), portable across SQLite and PostgreSQL (`sync.portal.db`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol, TypedDict

from kiosk import validators
from kiosk.prefill import BENEFIT_STATUSES, FIELDS
from sync.portal.db import Conn, Database, Row

# The CSV's columns, in order (the table's too).
COLUMNS = ("pinfl", "full_name", "birth_date", "address", "phone", "benefit_status", "family")
MAX_FAMILY = 20
MAX_TEXT = 300


class FamilyMember(TypedDict):
    """One family member as the registry lists them (no PINFL: not needed to fill a form)."""

    relation: str  # spouse, child, parent
    full_name: str
    birth_date: str  # YYYY-MM-DD


RegistryValue = str | list[FamilyMember]


@dataclass(frozen=True)
class Person:
    """What the registry holds about one person ("" where it holds nothing)."""

    pinfl: str
    full_name: str
    birth_date: str  # YYYY-MM-DD, the date the PINFL encodes
    address: str
    phone: str  # E.164, +998...
    benefit_status: str  # one of kiosk.prefill.BENEFIT_STATUSES
    family: list[FamilyMember] = field(default_factory=list)

    def value(self, name: str) -> RegistryValue:
        """The value of one registry field (``person.full_name``...); KeyError if unknown."""
        if name not in FIELDS:
            raise KeyError(name)
        attribute = name.removeprefix("person.")
        found: RegistryValue = getattr(self, attribute)
        return found

    def values(self, names: Iterable[str]) -> dict[str, RegistryValue]:
        """Only the fields asked for (unknown names are left out)."""
        return {name: self.value(name) for name in names if name in FIELDS}


class Registry(Protocol):
    """What the portal needs of a state registry: one person by PINFL, or None."""

    def person(self, pinfl: str) -> Person | None: ...


class RegistryError(ValueError):
    """A registry file that cannot be loaded; the message names the line."""


class TableRegistry:
    """The reference `Registry`: the ``registry_people`` table in the portal database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def person(self, pinfl: str) -> Person | None:
        with self.db.transaction() as conn:
            return find(conn, pinfl)


def _person(row: Row) -> Person:
    try:
        family = json.loads(row["family"] or "[]")
    except ValueError:
        family = []
    return Person(
        pinfl=row["pinfl"],
        full_name=row["full_name"] or "",
        birth_date=row["birth_date"] or "",
        address=row["address"] or "",
        phone=row["phone"] or "",
        benefit_status=row["benefit_status"] or "none",
        family=family if isinstance(family, list) else [],
    )


def find(conn: Conn, pinfl: str) -> Person | None:
    """The person with this PINFL in ``registry_people``, or None."""
    clean = validators.normalize_pinfl(pinfl)
    row = conn.execute(
        "SELECT pinfl, full_name, birth_date, address, phone, benefit_status, family "
        "FROM registry_people WHERE pinfl = ?",
        (clean,),
    ).fetchone()
    return None if row is None else _person(row)


def load(conn: Conn, people: Sequence[Person]) -> int:
    """Insert or replace these people (by PINFL); how many were written."""
    for person in people:
        conn.execute(
            "INSERT INTO registry_people (pinfl, full_name, birth_date, address, phone, "
            "benefit_status, family) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (pinfl) DO UPDATE SET full_name = excluded.full_name, "
            "birth_date = excluded.birth_date, address = excluded.address, "
            "phone = excluded.phone, benefit_status = excluded.benefit_status, "
            "family = excluded.family",
            (
                person.pinfl,
                person.full_name,
                person.birth_date,
                person.address,
                person.phone,
                person.benefit_status,
                json.dumps(person.family, ensure_ascii=False),
            ),
        )
    return len(people)


def count(conn: Conn) -> int:
    row = conn.execute("SELECT COUNT(*) AS n FROM registry_people").fetchone()
    return int(row["n"]) if row else 0


# --- the CSV -------------------------------------------------------------------------


def _text(value: str | None, what: str, line: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise RegistryError(f"line {line}: {what} must be 1-{MAX_TEXT} printable characters")
    return text


def _family(raw: str | None, line: int) -> list[FamilyMember]:
    try:
        members = json.loads(raw or "[]")
    except ValueError:
        raise RegistryError(f"line {line}: family is not JSON") from None
    if not isinstance(members, list) or len(members) > MAX_FAMILY:
        raise RegistryError(f"line {line}: family must be a list of at most {MAX_FAMILY}")
    found: list[FamilyMember] = []
    for member in members:
        if not isinstance(member, dict):
            raise RegistryError(f"line {line}: each family member is an object")
        found.append(
            FamilyMember(
                relation=_text(member.get("relation"), "a relation", line),
                full_name=_text(member.get("full_name"), "a member's name", line),
                birth_date=_date(member.get("birth_date"), line),
            )
        )
    return found


def _date(value: object, line: int) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise RegistryError(f"line {line}: {value!r} is not a date YYYY-MM-DD") from None


def parse_row(row: dict[str, str | None], line: int) -> Person:
    """One CSV row as a `Person`; RegistryError naming the line if it is not valid (a
    PINFL with a wrong checksum, a birth date the PINFL does not encode...)."""
    pinfl = validators.normalize_pinfl(row.get("pinfl") or "")
    problem = validators.pinfl_problem(pinfl)
    if problem is not None:
        raise RegistryError(f"line {line}: the PINFL is not valid ({problem})")
    born = _date(row.get("birth_date"), line)
    encoded = validators.pinfl_birth_date(pinfl)
    if encoded is None or encoded.isoformat() != born:
        raise RegistryError(f"line {line}: the birth date is not the one the PINFL encodes")
    phone = validators.normalize_phone(row.get("phone") or "")
    if phone is None:
        raise RegistryError(f"line {line}: the phone is not an Uzbek number")
    status = (row.get("benefit_status") or "").strip()
    if status not in BENEFIT_STATUSES:
        raise RegistryError(
            f"line {line}: benefit_status must be one of {', '.join(BENEFIT_STATUSES)}"
        )
    return Person(
        pinfl=pinfl,
        full_name=_text(row.get("full_name"), "full_name", line),
        birth_date=born,
        address=_text(row.get("address"), "address", line),
        phone=phone,
        benefit_status=status,
        family=_family(row.get("family"), line),
    )


def read_csv(path: Path) -> list[Person]:
    """Every person in a registry CSV (header `COLUMNS`); RegistryError on the first bad
    line, OSError if it cannot be read."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"line 1: missing columns: {', '.join(missing)}")
        return [parse_row(row, number) for number, row in enumerate(reader, start=2)]


def write_csv(path: Path, people: Iterable[Person]) -> None:
    """Write people as a registry CSV that `read_csv` reads back."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for p in people:
            family = json.dumps(p.family, ensure_ascii=False)
            writer.writerow(
                (p.pinfl, p.full_name, p.birth_date, p.address, p.phone, p.benefit_status, family)
            )

"""The registry access log (issue 16, docs/once-only.md): every look-up, never a value.

Plain functions over a connection inside the caller's transaction, in portable SQL
(`sync.portal.db`). A row says who asked (the device, its office name and region,
the operator), why (purpose and form), when, which fields, whether the citizen's
consent and the operator's ID check came with it, and the outcome (``found``,
``not_found``, ``unavailable`` or ``refused:<reason code>``). Never the PINFL, never
what the registry answered. ``tracking_code`` is set at ingest when a submission's
prefill section names the look-up (`link`), so the citizen's status page can say
when and by which office the registry was consulted for their application (`for_code`).
"""

from __future__ import annotations

import json
from typing import TypedDict

from sync.portal.db import Conn
from sync.transport import RegistryRequest


class AccessRow(TypedDict):
    """One look-up as the access log lists it (``kiosk portal registry log``)."""

    at: str
    device_id: str
    lookup_id: str
    office: str
    region: str | None
    operator_id: str | None
    purpose: str
    form_id: str
    fields: list[str]
    consent_at: str | None
    id_document: str | None
    outcome: str
    tracking_code: str | None


class Consultation(TypedDict):
    """What the status page shows of a look-up: when, and which office (no values)."""

    at: str
    office: str
    region: str | None


def subject_of(conn: Conn, device_id: str, lookup_id: str) -> str | None:
    """The keyed PINFL tag this device's look-up id was logged with ("" for a row made
    before tags were kept), or None when the id is new."""
    row = conn.execute(
        "SELECT subject_tag FROM registry_lookups WHERE device_id = ? AND lookup_id = ?",
        (device_id, lookup_id),
    ).fetchone()
    return None if row is None else (row["subject_tag"] or "")


def record(
    conn: Conn,
    device_id: str,
    request: RegistryRequest,
    outcome: str,
    at: str,
    subject_tag: str | None = None,
) -> bool:
    """Log one look-up; False when this device already logged this look-up id (a retry:
    the first row stands)."""
    device = conn.execute("SELECT name, region FROM devices WHERE id = ?", (device_id,)).fetchone()
    consent = request.get("consent")
    id_check = request.get("id_check")
    operator = (id_check["operator_id"] if id_check else None) or (
        consent["operator_id"] if consent else None
    )
    inserted = conn.execute(
        "INSERT INTO registry_lookups (device_id, lookup_id, at, office, region, operator_id, "
        "purpose, form_id, fields, consent_at, id_document, outcome, subject_tag) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id, lookup_id) DO NOTHING",
        (
            device_id,
            request["lookup_id"],
            at,
            device["name"] if device else "?",
            device["region"] if device else None,
            str(operator)[:64] if operator else None,
            request["purpose"][:64],
            request["form_id"][:200],
            json.dumps(list(request["fields"])),
            consent["at"][:40] if consent and consent.get("given") else None,
            id_check["document"][:32] if id_check else None,
            outcome,
            subject_tag,
        ),
    )
    return inserted.rowcount == 1


def link(conn: Conn, device_id: str, lookup_id: str, tracking_code: str) -> None:
    """The application ``tracking_code`` was made with look-up ``lookup_id`` of this
    device (its prefill section says so); a look-up links to one application."""
    conn.execute(
        "UPDATE registry_lookups SET tracking_code = ? "
        "WHERE device_id = ? AND lookup_id = ? AND tracking_code IS NULL",
        (tracking_code, device_id, lookup_id),
    )


def for_code(conn: Conn, tracking_code: str) -> list[Consultation]:
    """The look-ups linked to an application, oldest first: when and which office."""
    return [
        {"at": row["at"], "office": row["office"], "region": row["region"]}
        for row in conn.execute(
            "SELECT at, office, region FROM registry_lookups WHERE tracking_code = ? "
            "AND outcome = 'found' ORDER BY at",
            (tracking_code,),
        )
    ]


def access_log(conn: Conn, limit: int = 100) -> list[AccessRow]:
    """The latest look-ups, newest first."""
    rows = conn.execute(
        "SELECT at, device_id, lookup_id, office, region, operator_id, purpose, form_id, "
        "fields, consent_at, id_document, outcome, tracking_code FROM registry_lookups "
        "ORDER BY at DESC, lookup_id LIMIT ?",
        (max(1, min(limit, 10_000)),),
    )
    found: list[AccessRow] = []
    for row in rows:
        try:
            fields = json.loads(row["fields"])
        except ValueError:
            fields = []
        found.append(
            {
                "at": row["at"],
                "device_id": row["device_id"],
                "lookup_id": row["lookup_id"],
                "office": row["office"],
                "region": row["region"],
                "operator_id": row["operator_id"],
                "purpose": row["purpose"],
                "form_id": row["form_id"],
                "fields": [str(f) for f in fields] if isinstance(fields, list) else [],
                "consent_at": row["consent_at"],
                "id_document": row["id_document"],
                "outcome": row["outcome"],
                "tracking_code": row["tracking_code"],
            }
        )
    return found

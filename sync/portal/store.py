"""`sync.portal.storage.PortalStorage` over SQLite or PostgreSQL: devices, codes, forms,
submissions.

One implementation of the store's logic for both backends: `sync.portal.db` gives a
connection with one SQL dialect (``?`` placeholders, rows by column name). Every write
that belongs together (a whole batch, an enrolment) is one transaction, so a request
that fails half way leaves nothing behind. Several portal processes may share one
PostgreSQL database: what keeps an item stored exactly once is the database's
constraints (``(device_id, id)`` and ``tracking_code`` unique, ``INSERT ... ON
CONFLICT``), and the device's row lock orders its status log (`append_status`), never
a lock in this process. The schema and its migrations are `sync.portal.schema`;
enrolment codes, the guessing limit and device rows are `sync.portal.enrolments`,
audit chains `sync.portal.anchors`: functions over the connection, called inside this
class's transactions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import enrolment_code, prefill, reasons
from kiosk.crashpoints import crash_point
from kiosk.sealing import SealingKey
from kiosk.signing import KeyStatement, PublicKey, form_message
from kiosk.wire import UUID_RE, canonical_json, now_iso
from sync import wire
from sync.portal import (
    anchors,
    auto_decisions,
    enrolments,
    kinds,
    pinfl_key,
    registry_log,
    sealed,
)
from sync.portal import claims as code_claims
from sync.portal.db import Conn, Database, Row, SqliteDatabase, open_database
from sync.portal.keys import PortalKeys
from sync.portal.participation_store import ParticipationMixin
from sync.portal.registry import Registry, TableRegistry
from sync.portal.schema import DB_NAME, MIGRATIONS, SCHEMA, migrate
from sync.portal.sealing_keys import SealingKeys
from sync.portal.status_log import append_status
from sync.portal.status_store import StatusMixin
from sync.portal.storage import (
    CODE_TTL,
    Device,
    EnrolmentRefused,
    LookupReused,
    RegistryUnavailable,
    Validator,
    check_item_fields,
    derived_prefix_for,
    refused,
)
from sync.transport import (
    CatalogForm,
    Enrolled,
    ItemResult,
    RegistryAnswer,
    RegistryRequest,
)

# The schema's names stay importable from here: tests and tools open the database by them.
__all__ = ["DB_NAME", "MIGRATIONS", "SCHEMA", "Clock", "PortalStore", "migrate"]

Clock = Callable[[], datetime]
# Item kinds (docs/sync-protocol.md, "Item kinds"): the stored form's ``kind`` setting
# picks a handler run at ingest, before the item is stored, in the batch's transaction:


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PortalStore(StatusMixin, ParticipationMixin):
    """The `PortalStorage` backend: SQLite in ``<dir>/portal.db`` by default, or the
    PostgreSQL database ``database`` names (a ``postgresql://`` URL).

    ``clock`` is the portal's time for enrolment codes and the guessing limit (tests
    inject one instead of sleeping). The keys are files in ``data_dir`` either way.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock = _utc_now,
        database: str | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.clock = clock
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self.db: Database = open_database(self.data_dir, database)
        # The signing keys are files beside the database (docs/keys.md); KeyFileError
        # when they may be read by others.
        self.keys = PortalKeys(self.data_dir)
        self.sealing = SealingKeys(self.data_dir, self.keys)  # opens sealed items
        # The state registry once-only prefill consults (docs/once-only.md): the
        # reference table of synthetic people unless a real integration is given.
        self.registry: Registry = registry if registry is not None else TableRegistry(self.db)
        self._sign_unsigned()

    @functools.cached_property
    def pinfl_key(self) -> bytes:
        """The keyed PINFL tag's secret (`sync.portal.pinfl_key`), read on first use."""
        return pinfl_key.load_key(self.data_dir)

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @property
    def conn(self) -> sqlite3.Connection:
        """The SQLite connection itself (tools and tests that inspect the file)."""
        if not isinstance(self.db, SqliteDatabase):
            raise TypeError("the PostgreSQL backend has no single connection")
        return self.db.raw

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One transaction (SQLite: BEGIN IMMEDIATE), rolled back on any exception."""
        with self.db.transaction() as conn:
            yield conn

    @staticmethod
    def _bump(conn: Conn, name: str, by: int = 1) -> None:
        if by:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
                (name, by),
            )

    # --- enrolment -------------------------------------------------------------

    def create_enrolment_code(
        self,
        name: str,
        device_id: str | None = None,
        ttl: timedelta = CODE_TTL,
        region: str | None = None,
    ) -> str:
        """A one-time code for a device called ``name`` (and only ``device_id``, if given).

        Raises PortalStoreError for an empty name, a device id that is not a UUID, or a
        ``ttl`` outside 1 minute .. 30 days.
        """
        clean = enrolments.checked_name(name, device_id, ttl)
        where = enrolments.checked_region(region)
        raw = enrolment_code.new_code()
        now = self.clock()
        with self.transaction() as conn:
            enrolments.add_code(conn, raw, clean, device_id, now, ttl, where)
        return enrolment_code.format_code(raw)

    def enroll(
        self,
        code: str,
        name: str,
        device_id: str | None = None,
        pre_prefix: str | None = None,
        *,
        source: str = "local",
        claims: Sequence[Mapping[str, object]] = (),
    ) -> Enrolled:
        """Spend ``code``: {device_id, token, device_prefix, name, refused_claims};
        EnrolmentRefused if not.

        One transaction (enrolments take turns across processes: `Conn.serialize`):
        the limit is checked, a wrong code is recorded, or the code is spent. The
        refusal is raised after the commit, so a recorded wrong code stays recorded.
        ``pre_prefix`` is registered as the device's pre-enrolment prefix; it must be the
        one derived from ``device_id`` (refused before the code is looked at).
        ``claims`` are recorded in the same transaction (`sync.portal.claims.record`).
        """
        del name  # informational: the device is registered under the code's name
        if pre_prefix is not None and not derived_prefix_for(device_id, pre_prefix):
            raise EnrolmentRefused(reasons.refusal("enrol.prefix", prefix=pre_prefix[:16]))
        if len(claims) > wire.MAX_CLAIMS:
            raise EnrolmentRefused(reasons.refusal("claim.limit", limit=wire.MAX_CLAIMS))
        token = secrets.token_urlsafe(32)
        with self.transaction() as conn:
            outcome = enrolments.spend_code(
                conn, code, device_id, source, token, pre_prefix, self.clock(), claims
            )
        if isinstance(outcome, EnrolmentRefused):
            raise outcome
        return outcome

    def device_for_token(self, token: str) -> Device | None:
        with self.db.read() as conn:
            return enrolments.find_device_by_token(conn, token)

    def device(self, device_id: str) -> Device | None:
        with self.db.read() as conn:
            return enrolments.find_device(conn, device_id)

    def revoke_device(self, device_id: str) -> None:
        """Revoke the token (batches, status, catalog) and its bundles (`rules.ingest_bundle`).

        Unspent codes made for the device are voided too: one made before the device was
        compromised may be in the wrong hands; re-enrolling takes a new ``--device`` code.
        """
        with self.transaction() as conn:
            enrolments.revoke(conn, device_id, self.clock())

    # --- catalog ---------------------------------------------------------------

    def add_form(
        self, form_id: str, version: str, category: str, spec: Mapping[str, object], source: str
    ) -> bool:
        """Store one form version, signed by the current key; False when already there."""
        text = canonical_json(spec)
        kid, signature = self.keys.sign(form_message(form_id, version, category, json.loads(text)))
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO forms (form_id, version, category, spec, source, added_at,"
                " key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (form_id, version) DO NOTHING",
                (form_id, version, category, text, source, now_iso(), kid, signature),
            )
            return cur.rowcount == 1

    def _sign_unsigned(self) -> None:
        """Sign the versions stored before the catalog was signed (an upgraded portal)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT form_id, version, category, spec FROM forms WHERE signature IS NULL"
            ).fetchall()
        for r in rows:
            spec = json.loads(r["spec"])
            message = form_message(r["form_id"], r["version"], r["category"], spec)
            kid, signature = self.keys.sign(message)
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE forms SET key_id = ?, signature = ? WHERE form_id = ? AND version = ?"
                    " AND signature IS NULL",
                    (kid, signature, r["form_id"], r["version"]),
                )

    def forms(self) -> list[CatalogForm]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT form_id, version, category, spec, key_id, signature FROM forms"
                " ORDER BY form_id, version"
            ).fetchall()
        return [
            {
                "form_id": r["form_id"],
                "version": r["version"],
                "category": r["category"],
                "spec": json.loads(r["spec"]),
                "key_id": r["key_id"],
                "signature": r["signature"],
            }
            for r in rows
        ]

    def key_chain(self) -> list[KeyStatement]:
        return self.keys.chain()

    def sealing_key(self) -> SealingKey:
        """The current sealing key, signed by the current signing key (docs/keys.md)."""
        return self.sealing.statement()

    def signing_keys(self) -> list[PublicKey]:
        return self.keys.public_keys()

    def catalog_etag(self) -> str:
        """Changes exactly when a form version is added (specs are immutable per version)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT form_id, version, spec, signature FROM forms ORDER BY form_id, version"
            ).fetchall()
        digest = hashlib.sha256()
        for statement in self.keys.chain():  # a rotation changes the catalog answer too
            digest.update(f"{statement['key_id']}\0".encode())
        digest.update(f"sealing {self.sealing.current_id()}\0".encode())  # and of this key
        for r in rows:
            digest.update(f"{r['form_id']}\0{r['version']}\0".encode())
            digest.update(hashlib.sha256(r["spec"].encode()).digest())
            digest.update(f"{r['signature']}\0".encode())
        return digest.hexdigest()[:32]

    @staticmethod
    def _form_spec(conn: Conn, form_id: str, version: str) -> str | None:
        row = conn.execute(
            "SELECT spec FROM forms WHERE form_id = ? AND version = ?", (form_id, version)
        ).fetchone()
        return row["spec"] if row else None

    # --- submissions -----------------------------------------------------------

    def ingest(
        self, device_id: str, items: Iterable[object], via: str, validator: Validator | None = None
    ) -> list[ItemResult]:
        """Apply a batch in one transaction; one outcome per item, in order.

        ``validator(spec_json, item) -> str | None`` may re-check the answers against
        the form and return a reason to reject.
        """
        results: list[ItemResult] = []
        counts = {"duplicates": 0, "conflicts": 0, "rejected": 0}
        with self.transaction() as conn:
            # The device's row, locked to the end: one batch of a device at a time
            # across processes, and its status log in order (`append_status`).
            owner = enrolments.find_device(conn, device_id, lock=True)
            for index, item in enumerate(items):
                result = self._ingest_one(conn, owner, device_id, item, via, validator)
                result["index"] = index
                outcome = result["outcome"]
                if outcome == "duplicate":
                    counts["duplicates"] += 1
                elif outcome == "conflict":
                    counts["conflicts"] += 1
                elif outcome == "rejected":
                    counts["rejected"] += 1
                results.append(result)
            for name, value in counts.items():
                self._bump(conn, name, value)
                self._bump(conn, f"{name}@{device_id}", value)  # per device, for reports
            crash_point("portal.batch_parsed")
        if any(r.get("application_number") == "verified" for r in results):
            # Counted votes wait in the ballot box; a full batch moves to the tally in
            # transactions of their own, never this one (`sync.portal.ballot_box`).
            self.mix_ballots()
        return results

    def _ingest_one(
        self,
        conn: Conn,
        owner: Device | None,
        device_id: str,
        item: object,
        via: str,
        validator: Validator | None,
    ) -> ItemResult:
        item_id = item.get("id") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(item_id, str)
            or not UUID_RE.fullmatch(item_id)
        ):
            # Echo no id that is not one: it may be a lone surrogate or megabytes long.
            return refused(None, "rejected", "item.id")

        def rejected(code: str, **params: object) -> ItemResult:
            return refused(item_id, "rejected", code, **params)

        problem = check_item_fields(item)
        if problem:
            return rejected(problem[0], **problem[1])
        blob = sealed.blob_of(item)
        if not isinstance(blob, sealed.Blob):
            return rejected(blob[0], **blob[1])
        digest = blob.digest
        if owner is None:
            return rejected("item.foreign_code", tracking_code=item["tracking_code"])
        # Another device's code (a replayed or squatted item), or an edited claimed one:
        # judged before any other lookup, so the answer says nothing about what the
        # portal holds of other devices.
        refusal = code_claims.judge(conn, owner, item_id, item["tracking_code"], digest)
        spec = self._form_spec(conn, item["form_id"], item["form_version"])
        if refusal is not None and refusal.get("code") == "item.claim_mismatch":
            # Claimed before the kiosk sealed (the claim names the answers' hash).
            early = sealed.open_blob(self.sealing, blob, item, spec)
            if isinstance(early, sealed.Opened):
                plain = item["tracking_code"], early.plain_hash
                refusal = code_claims.judge(conn, owner, item_id, *plain)
        if refusal is not None:
            return refusal
        existing = self._stored(conn, device_id, item_id)
        if existing is not None and existing["content_hash"] == digest:
            return {
                "id": item_id,
                "outcome": "duplicate",
                "application_number": existing["application_number"],
            }
        if spec is None and existing is None:
            return rejected(
                "item.unknown_form", form_id=item["form_id"], form_version=item["form_version"]
            )
        opened = sealed.open_blob(self.sealing, blob, item, spec)
        if existing is not None:
            # Another blob under a stored id: a conflict, unless the row was stored
            # before sealing (its hash is the answers') and these are the same answers.
            if isinstance(opened, sealed.Opened) and existing["content_hash"] == opened.plain_hash:
                return {
                    "id": item_id,
                    "outcome": "duplicate",
                    "application_number": existing["application_number"],
                }
            return refused(item_id, "conflict", "item.conflict")
        if not isinstance(opened, sealed.Opened):
            return rejected(opened[0], **opened[1])
        assert spec is not None
        payload_json = opened.payload_json
        taken = conn.execute(
            "SELECT 1 FROM submissions WHERE tracking_code = ?", (item["tracking_code"],)
        ).fetchone()
        if taken:
            return rejected("item.code_taken")
        if validator is not None:
            answers_problem = validator(spec, {**item, "payload": opened.payload})
            if answers_problem:
                return rejected(
                    "item.answers",
                    detail=answers_problem["detail"],
                    fields=answers_problem["fields"],
                )
        handler = kinds.KIND_HANDLERS.get(kinds.kind_of(spec))  # votes, petitions, appeals
        if handler is not None:
            with pinfl_key.bound(self.pinfl_key):
                handled = handler(conn, owner, item, opened.payload, now_iso(self.clock()))
            if handled is not None:
                return handled
        number = self._next_application_number(conn)
        now = now_iso(self.clock())  # the portal's clock: deadlines and rules read it
        # ON CONFLICT: a row another process committed meanwhile (same id, or same code)
        # is not an error but the answer a resend gets (`_after_conflict`).
        inserted = conn.execute(
            "INSERT INTO submissions (id, device_id, tracking_code, form_id, form_version, lang, "
            "payload, content_hash, created_at, received_at, via, application_number, status, "
            "status_updated_at, region) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, "
            "(SELECT region FROM devices WHERE id = ?)) "
            "ON CONFLICT DO NOTHING",
            (
                item_id,
                device_id,
                item["tracking_code"],
                item["form_id"],
                item["form_version"],
                item["lang"],
                payload_json,
                digest,
                item["created_at"],
                now,
                via,
                number,
                now,
                device_id,  # the region the kiosk is in now: the application keeps it
            ),
        )
        if inserted.rowcount != 1:
            return self._after_conflict(conn, device_id, item_id, digest, opened.plain_hash)
        append_status(
            conn, device_id, item["tracking_code"], "received", number, None, now, automated=True
        )
        auto_decisions.apply(conn, device_id, item, opened.payload, number, now)
        if lookup_id := prefill.lookup_id_of(opened.payload):  # once-only prefill's log
            registry_log.link(conn, device_id, lookup_id, item["tracking_code"])
        crash_point("portal.item_stored")
        return {"id": item_id, "outcome": "accepted", "application_number": number}

    @staticmethod
    def _stored(conn: Conn, device_id: str, item_id: str) -> Row | None:
        return conn.execute(
            "SELECT content_hash, application_number FROM submissions "
            "WHERE device_id = ? AND id = ?",
            (device_id, item_id),
        ).fetchone()

    def _after_conflict(
        self, conn: Conn, device_id: str, item_id: str, digest: str, plain_hash: str
    ) -> ItemResult:
        """The answer for an item whose insert met a row committed meanwhile by another
        transaction: what the same item sent a moment later would get."""
        existing = self._stored(conn, device_id, item_id)
        if existing is None:
            return refused(item_id, "rejected", "item.code_taken")
        if existing["content_hash"] in (digest, plain_hash):
            return {
                "id": item_id,
                "outcome": "duplicate",
                "application_number": existing["application_number"],
            }
        return refused(item_id, "conflict", "item.conflict")

    @staticmethod
    def _next_application_number(conn: Conn) -> str:
        seq = conn.next_number("application_seq")
        return f"MK-{datetime.now(UTC).year}-{seq:07d}"

    def now(self) -> datetime:
        return self.clock()

    # --- audit anchoring -------------------------------------------------------

    def anchor_audit(
        self, device_id: str, head_seq: int, entries: list[anchors.AnchorEntry]
    ) -> anchors.AnchorAnswer:
        """Check a device's audit hashes against its held chain and keep them."""
        with self.transaction() as conn:
            return anchors.apply(conn, device_id, head_seq, entries, now_iso())

    def devices(self) -> list[anchors.DeviceRow]:
        with self.db.read() as conn:
            return anchors.devices(conn)

    # --- reports ---------------------------------------------------------------

    # --- once-only prefill (docs/once-only.md) ---------------------------------------

    def consult_registry(
        self, device_id: str, request: RegistryRequest, refused: str | None = None
    ) -> RegistryAnswer:
        """Log the look-up (never the PINFL or a value), then answer the fields asked.

        The registry is asked before the log is written (a real one is a network call,
        not to be made inside a database transaction), so the log row records its
        outcome; a registry that fails is logged ``unavailable`` (`RegistryUnavailable`).
        """
        answer: RegistryAnswer = {"lookup_id": request["lookup_id"], "found": False, "values": {}}
        pinfl = pinfl_key.clean_pinfl(request["pinfl"])
        subject = pinfl_key.tag_with(self.pinfl_key, pinfl) if pinfl else None
        with self.db.read() as conn:
            logged = registry_log.subject_of(conn, device_id, request["lookup_id"])
        if logged is not None and logged != subject:
            # One logged look-up must not read many people: a reused id answers only
            # for the person it was first made for (a retry after a lost answer).
            raise LookupReused("this look-up id was used for another PINFL")
        outcome = f"refused:{refused}" if refused else "not_found"
        failed = False
        if refused is None:
            try:
                person = self.registry.person(request["pinfl"])
            except Exception:  # noqa: BLE001 - any failure of the registry: logged, said
                person, failed, outcome = None, True, "unavailable"
            if person is not None:
                outcome = "found"
                answer = {
                    "lookup_id": request["lookup_id"],
                    "found": True,
                    "values": dict(person.values(request["fields"])),
                }
        with self.transaction() as conn:
            registry_log.record(conn, device_id, request, outcome, now_iso(self.clock()), subject)
        crash_point("portal.registry_logged")
        if failed:
            raise RegistryUnavailable("the registry could not be asked")
        return answer

    def registry_access_log(self, limit: int = 100) -> list[registry_log.AccessRow]:
        with self.db.read() as conn:
            return registry_log.access_log(conn, limit)

    def stats(self, device_id: str | None = None) -> dict[str, int]:
        """Counts of stored submissions and of outcomes; for one device if given."""
        suffix = f"@{device_id}" if device_id else ""
        where, params = ("WHERE device_id = ?", [device_id]) if device_id else ("", [])
        with self.db.read() as conn:
            counters = {r["name"]: r["value"] for r in conn.execute("SELECT * FROM counters")}

            def count(sql: str, args: Sequence[object] = ()) -> int:
                row = conn.execute(sql, args).fetchone()
                return int(row[0]) if row is not None else 0

            submissions = count(f"SELECT COUNT(*) FROM submissions {where}", params)
            devices = count("SELECT COUNT(*) FROM devices")
            forms = count("SELECT COUNT(*) FROM forms")
            flagged = anchors.flagged_count(conn, device_id)
        return {
            "submissions": submissions,
            "duplicates": counters.get(f"duplicates{suffix}", 0),
            "conflicts": counters.get(f"conflicts{suffix}", 0),
            "rejected": counters.get(f"rejected{suffix}", 0),
            "devices": devices,
            "forms": forms,
            "audit_flagged": flagged,  # devices whose audit chain was rewritten (devices)
        }

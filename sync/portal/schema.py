"""The portal database's schema: `SCHEMA`, the `MIGRATIONS` after it, and how each
backend applies them (`migrate_sqlite`, `migrate_postgres`).

Kept apart from the code that reads and writes the tables (`sync.portal.store` and
its helpers) because the schema changes under rules of its own: a step is appended to
`MIGRATIONS`, never edited, since portals in the field have run the earlier ones, and
`PRAGMA user_version` counts the steps a database has had. An old database opened by
a new portal is brought up to date by `migrate`, inside the opener's transaction.

PostgreSQL starts from `PG_BASELINE`: today's shape of SCHEMA plus the first
`PG_BASELINE_STEPS` steps, in PostgreSQL's types (BIGINT identity columns for the
``seq`` cursors, a SEQUENCE for application numbers). Every step appended after those
is applied on PostgreSQL too, so new steps are written in portable DDL (TEXT, INTEGER,
BIGINT, REAL; no AUTOINCREMENT, no SQLite-only functions). ``schema_version`` counts
the steps there; ``pg_advisory_xact_lock`` keeps two portal processes starting at once
from migrating together.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from kiosk import tracking

if TYPE_CHECKING:
    from sync.portal.db import PgConn

DB_NAME = "portal.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    bundle_key  TEXT NOT NULL,      -- hex HMAC key derived from the token
    enrolled_at TEXT NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE TABLE IF NOT EXISTS forms (
    form_id  TEXT NOT NULL,
    version  TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    spec     TEXT NOT NULL,
    source   TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (form_id, version)
);
CREATE TABLE IF NOT EXISTS submissions (
    id                 TEXT PRIMARY KEY,
    device_id          TEXT NOT NULL REFERENCES devices(id),
    tracking_code      TEXT NOT NULL UNIQUE,
    form_id            TEXT NOT NULL,
    form_version       TEXT NOT NULL,
    lang               TEXT NOT NULL,
    payload            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    via                TEXT NOT NULL,
    application_number TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL,
    note               TEXT,
    status_updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     TEXT NOT NULL,
    tracking_code TEXT NOT NULL,
    status        TEXT NOT NULL,
    application_number TEXT NOT NULL,
    note          TEXT,
    at            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_log_device ON status_log (device_id, seq);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

# Schema steps after SCHEMA, in order; ``PRAGMA user_version`` counts the ones applied.
# A step is appended, never edited: portals in the field have run the earlier ones.
# Steps may call ``derived_prefix(device_id)`` (`kiosk.tracking.prefix_from_id`).
MIGRATIONS: tuple[str, ...] = (
    # 1. Protocol v2: a device's pre-enrolment prefix (codes it made before enrolment
    # stay its own). Devices enrolled under v1 get the one derived from their id, the
    # only one their kiosk could have used. Submissions are keyed by (device_id, id):
    # an id another device used is not a conflict and reveals nothing. SQLite cannot
    # change a primary key, so the table is rebuilt.
    """
    ALTER TABLE devices ADD COLUMN pre_prefix TEXT;
    UPDATE devices SET pre_prefix = derived_prefix(id);
    CREATE TABLE submissions_v2 (
        device_id          TEXT NOT NULL REFERENCES devices(id),
        id                 TEXT NOT NULL,
        tracking_code      TEXT NOT NULL UNIQUE,
        form_id            TEXT NOT NULL,
        form_version       TEXT NOT NULL,
        lang               TEXT NOT NULL,
        payload            TEXT NOT NULL,
        content_hash       TEXT NOT NULL,
        created_at         TEXT NOT NULL,
        received_at        TEXT NOT NULL,
        via                TEXT NOT NULL,
        application_number TEXT NOT NULL UNIQUE,
        status             TEXT NOT NULL,
        note               TEXT,
        status_updated_at  TEXT NOT NULL,
        PRIMARY KEY (device_id, id)
    );
    INSERT INTO submissions_v2 (device_id, id, tracking_code, form_id, form_version, lang,
        payload, content_hash, created_at, received_at, via, application_number, status,
        note, status_updated_at)
    SELECT device_id, id, tracking_code, form_id, form_version, lang, payload,
        content_hash, created_at, received_at, via, application_number, status, note,
        status_updated_at FROM submissions;
    DROP TABLE submissions;
    ALTER TABLE submissions_v2 RENAME TO submissions
    """,
    # 2. Hardened enrolment: a code is bound to a name (and maybe a device); codes made
    # before have no name and no longer enrol. Wrong codes are counted here, by source
    # and time, so every portal process sharing this database applies one limit.
    """
    ALTER TABLE enrolment_codes ADD COLUMN name TEXT;
    ALTER TABLE enrolment_codes ADD COLUMN device_id TEXT;
    CREATE TABLE enrolment_failures (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        at     TEXT NOT NULL
    );
    CREATE INDEX enrolment_failures_at ON enrolment_failures (at);
    CREATE INDEX enrolment_failures_source ON enrolment_failures (source, at)
    """,
    # 3: signed catalog (docs/keys.md): each form version's Ed25519 signature.
    """
    ALTER TABLE forms ADD COLUMN key_id TEXT;
    ALTER TABLE forms ADD COLUMN signature TEXT
    """,
    # 4: audit anchoring: every device's audit chain as the portal received it.
    """
    CREATE TABLE audit_anchors (
        device_id  TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        prev_hash  TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE audit_heads (
        device_id  TEXT PRIMARY KEY,
        last_seq   INTEGER NOT NULL,
        last_hash  TEXT NOT NULL,
        anchored_at TEXT NOT NULL,
        flag       TEXT,
        flag_seq   INTEGER,
        flagged_at TEXT
    )
    """,
    # 5: claims on pre-enrolment codes (sync/portal/claims.py). A derived pre-enrolment
    # prefix can be brute-forced, so it no longer grants codes by itself: a device owns
    # a pre-enrolment code only through a claim made at enrolment. Devices already here
    # enrolled under v1 or under v2 before claims (none of them sent claims) are marked
    # legacy and keep the prefix rule they enrolled under (`Device.owns_unclaimed`).
    """
    ALTER TABLE devices ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0;
    UPDATE devices SET legacy = 1;
    CREATE TABLE code_claims (
        tracking_code TEXT PRIMARY KEY,
        device_id     TEXT NOT NULL REFERENCES devices(id),
        item_id       TEXT NOT NULL,
        content_hash  TEXT NOT NULL,
        claimed_at    TEXT NOT NULL
    );
    CREATE INDEX code_claims_device ON code_claims (device_id)
    """,
    # status look-ups by tracking code (issue 14, `PortalStorage.lookup_status`): each
    # look-up's source address and time, so the per-source limit holds across processes.
    """
    CREATE TABLE status_lookups (
        source TEXT NOT NULL,
        at     TEXT NOT NULL
    );
    CREATE INDEX status_lookups_source ON status_lookups (source, at)
    """,
    # 7: staff accounts and decisions (issue 15, sync/portal/staff.py): staff hold a
    # role and a bearer token (its hash only, `sync.wire.token_hash`); each status
    # change records who made it and the decision reason code (kiosk/reasons.py);
    # account changes and decisions go to staff_audit (ids are uuids the code makes).
    # Devices get a region, given with the enrolment code, for open data.
    """
    CREATE TABLE staff (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL,
        token_hash  TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        disabled_at TEXT
    );
    CREATE TABLE staff_audit (
        id      TEXT PRIMARY KEY,
        at      TEXT NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail  TEXT
    );
    CREATE INDEX staff_audit_at ON staff_audit (at);
    ALTER TABLE status_log ADD COLUMN actor TEXT;
    ALTER TABLE status_log ADD COLUMN reason_code TEXT;
    CREATE INDEX status_log_code ON status_log (tracking_code, seq);
    ALTER TABLE devices ADD COLUMN region TEXT;
    ALTER TABLE enrolment_codes ADD COLUMN region TEXT
    """,
    # 8: the reference state registry for once-only prefill (issue 16,
    # sync/portal/registry.py): SYNTHETIC people loaded from a CSV, one row per PINFL;
    # ``family`` is a JSON list of {relation, full_name, birth_date}.
    """
    CREATE TABLE registry_people (
        pinfl          TEXT PRIMARY KEY,
        full_name      TEXT,
        birth_date     TEXT,
        address        TEXT,
        phone          TEXT,
        benefit_status TEXT,
        family         TEXT
    )
    """,
    # 9: the registry access log (issue 16, sync/portal/registry_log.py): every look-up
    # with who (device, its office name and region, operator), why (purpose, form), when,
    # which fields and the outcome; never a PINFL or a value. ``tracking_code`` links it
    # to the application the kiosk submitted with the look-up's id (set at ingest).
    """
    CREATE TABLE registry_lookups (
        device_id     TEXT NOT NULL,
        lookup_id     TEXT NOT NULL,
        at            TEXT NOT NULL,
        office        TEXT NOT NULL,
        region        TEXT,
        operator_id   TEXT,
        purpose       TEXT NOT NULL,
        form_id       TEXT NOT NULL,
        fields        TEXT NOT NULL,
        consent_at    TEXT,
        id_document   TEXT,
        outcome       TEXT NOT NULL,
        tracking_code TEXT,
        PRIMARY KEY (device_id, lookup_id)
    );
    CREATE INDEX registry_lookups_at ON registry_lookups (at);
    CREATE INDEX registry_lookups_code ON registry_lookups (tracking_code)
    """,
    # 10: decisions with reasons and appeals (issue 16, sync/portal/appeals.py): whether
    # a status change was automated (1: the portal's rules, 0/NULL: a person); one
    # appeal per application (UNIQUE application_code: "already appealed" holds across
    # processes), with the citizen's grounds and the decision appealed as it stood.
    """
    ALTER TABLE status_log ADD COLUMN automated INTEGER;
    CREATE TABLE appeals (
        tracking_code    TEXT PRIMARY KEY,
        application_code TEXT NOT NULL UNIQUE,
        grounds          TEXT NOT NULL,
        status_appealed  TEXT NOT NULL,
        reason_code      TEXT,
        automated        INTEGER NOT NULL,
        decided_at       TEXT,
        stalled          INTEGER NOT NULL,
        received_at      TEXT NOT NULL
    );
    CREATE INDEX appeals_received ON appeals (received_at)
    """,
    # 11: open-budget votes and petitions (issue 16, docs/participation.md). Who voted
    # (vote_voters) and what was voted (vote_tally, counts only) share no column but
    # the season; days, never times; no sequence. PINFLs as keyed tags
    # (`sync.portal.pinfl_key`); one-per-PINFL rules are the primary keys. A pending
    # (unverified) ballot waits in vote_pending until confirmed, then only its count
    # stays. One-time codes as hashes; the sends counted per tag for the rate limit.
    # participation_receipts: an item's answer, so a resent item is a duplicate.
    """
    CREATE TABLE vote_seasons (
        season_id    TEXT PRIMARY KEY,
        district     TEXT NOT NULL,
        titles       TEXT NOT NULL,
        opens_on     TEXT NOT NULL,
        closes_on    TEXT NOT NULL,
        published_at TEXT NOT NULL
    );
    CREATE INDEX vote_seasons_district ON vote_seasons (district);
    CREATE TABLE vote_initiatives (
        season_id     TEXT NOT NULL,
        initiative_id TEXT NOT NULL,
        titles        TEXT NOT NULL,
        descriptions  TEXT NOT NULL,
        position      INTEGER NOT NULL,
        PRIMARY KEY (season_id, initiative_id)
    );
    CREATE TABLE vote_voters (
        season_id TEXT NOT NULL,
        pinfl_tag TEXT NOT NULL,
        state     TEXT NOT NULL,
        voted_on  TEXT NOT NULL,
        PRIMARY KEY (season_id, pinfl_tag)
    );
    CREATE TABLE vote_tally (
        season_id     TEXT NOT NULL,
        initiative_id TEXT NOT NULL,
        votes         BIGINT NOT NULL,
        PRIMARY KEY (season_id, initiative_id)
    );
    CREATE TABLE vote_pending (
        season_id     TEXT NOT NULL,
        pinfl_tag     TEXT NOT NULL,
        initiative_id TEXT NOT NULL,
        PRIMARY KEY (season_id, pinfl_tag)
    );
    CREATE TABLE petitions (
        petition_id TEXT PRIMARY KEY,
        district    TEXT NOT NULL,
        title       TEXT NOT NULL,
        body        TEXT NOT NULL,
        lang        TEXT NOT NULL,
        threshold   BIGINT NOT NULL,
        signatures  BIGINT NOT NULL,
        pending     BIGINT NOT NULL,
        state       TEXT NOT NULL,
        started_on  TEXT NOT NULL,
        review_at   TEXT
    );
    CREATE INDEX petitions_district ON petitions (district, state);
    CREATE TABLE petition_signers (
        petition_id TEXT NOT NULL,
        pinfl_tag   TEXT NOT NULL,
        state       TEXT NOT NULL,
        signed_on   TEXT NOT NULL,
        PRIMARY KEY (petition_id, pinfl_tag)
    );
    CREATE TABLE otp_codes (
        pinfl_tag  TEXT NOT NULL,
        subject    TEXT NOT NULL,
        code_hash  TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        tries      INTEGER NOT NULL,
        PRIMARY KEY (pinfl_tag, subject)
    );
    CREATE TABLE otp_sends (
        pinfl_tag TEXT NOT NULL,
        at        TEXT NOT NULL
    );
    CREATE INDEX otp_sends_tag ON otp_sends (pinfl_tag, at);
    CREATE TABLE participation_receipts (
        device_id    TEXT NOT NULL,
        item_id      TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        kind         TEXT NOT NULL,
        outcome      TEXT NOT NULL,
        code         TEXT,
        params       TEXT,
        PRIMARY KEY (device_id, item_id)
    )
    """,
    # 12: the registry log keeps a keyed tag of the PINFL each look-up id was made for
    # (`sync.portal.pinfl_key`, never the number): a retry for the same person is
    # answered again, a look-up id reused for another person is refused.
    """
    ALTER TABLE registry_lookups ADD COLUMN subject_tag TEXT
    """,
    # 13: an application keeps the region its kiosk was in when it arrived (open data,
    # docs/open-data.md): a kiosk that moves later must not move a closed month's
    # counts, or two publications of one month could be differenced.
    """
    ALTER TABLE submissions ADD COLUMN region TEXT;
    UPDATE submissions SET region = (SELECT region FROM devices WHERE devices.id = submissions.device_id)
    """,
    # 14: pending votes and signatures are bound to the item that made them (a one-time
    # code confirms that item, never another one made under the same PINFL elsewhere),
    # and expire; vote_voters holds verified voters only. Counted ballots wait, sealed,
    # in vote_box until a separate transaction mixes a batch of them into vote_tally, so
    # no tally row shares a transaction (PostgreSQL's xmin) with a voter row
    # (`sync.portal.ballot_box`). id_checks counts the ID checks each device's operators
    # attested, per day (no PINFL, no choice). otp_sends learns the device and the item
    # (subject), for their limits.
    """
    CREATE TABLE vote_pending_items (
        device_id     TEXT NOT NULL,
        item_id       TEXT NOT NULL,
        season_id     TEXT NOT NULL,
        pinfl_tag     TEXT NOT NULL,
        initiative_id TEXT NOT NULL,
        made_on       TEXT NOT NULL,
        PRIMARY KEY (device_id, item_id)
    );
    CREATE INDEX vote_pending_items_tag ON vote_pending_items (season_id, pinfl_tag);
    CREATE INDEX vote_pending_items_made ON vote_pending_items (made_on);
    CREATE INDEX vote_pending_items_device ON vote_pending_items (device_id, made_on);
    INSERT INTO vote_pending_items (device_id, item_id, season_id, pinfl_tag, initiative_id,
        made_on)
    SELECT 'legacy', p.season_id || ':' || p.pinfl_tag, p.season_id, p.pinfl_tag,
        p.initiative_id, COALESCE((SELECT v.voted_on FROM vote_voters v
            WHERE v.season_id = p.season_id AND v.pinfl_tag = p.pinfl_tag), '2026-01-01')
    FROM vote_pending p;
    DROP TABLE vote_pending;
    DELETE FROM vote_voters WHERE state <> 'verified';
    CREATE TABLE vote_box (
        ballot_id TEXT PRIMARY KEY,
        season_id TEXT NOT NULL,
        sealed    TEXT NOT NULL
    );
    CREATE INDEX vote_box_season ON vote_box (season_id);
    CREATE TABLE petition_pending (
        device_id   TEXT NOT NULL,
        item_id     TEXT NOT NULL,
        petition_id TEXT NOT NULL,
        pinfl_tag   TEXT NOT NULL,
        made_on     TEXT NOT NULL,
        PRIMARY KEY (device_id, item_id)
    );
    CREATE INDEX petition_pending_tag ON petition_pending (petition_id, pinfl_tag);
    CREATE INDEX petition_pending_made ON petition_pending (made_on);
    CREATE INDEX petition_pending_device ON petition_pending (device_id, made_on);
    INSERT INTO petition_pending (device_id, item_id, petition_id, pinfl_tag, made_on)
    SELECT 'legacy', petition_id || ':' || pinfl_tag, petition_id, pinfl_tag, signed_on
    FROM petition_signers WHERE state <> 'verified';
    DELETE FROM petition_signers WHERE state <> 'verified';
    UPDATE petitions SET pending = 0;
    DELETE FROM otp_codes;
    ALTER TABLE otp_sends ADD COLUMN device_id TEXT;
    ALTER TABLE otp_sends ADD COLUMN subject TEXT;
    CREATE INDEX otp_sends_at ON otp_sends (at);
    CREATE INDEX otp_sends_device ON otp_sends (device_id, at);
    CREATE TABLE id_checks (
        device_id   TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        day         TEXT NOT NULL,
        checks      BIGINT NOT NULL,
        PRIMARY KEY (device_id, operator_id, day)
    );
    CREATE TABLE portal_settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 15: one appeal per DECISION, not per application (docs/appeals.md): after an
    # overturn and a fresh rejection the applicant may appeal again. ``decision_ref``
    # names the decision appealed (`sync.portal.decisions.decision_ref`: ``status:<seq>``
    # of its status_log row; ``stalled`` for no decision past the deadline), and the
    # rule is the UNIQUE (application_code, decision_ref). Who appealed: the keyed tag
    # of their PINFL (never the number) and how they were identified (``pinfl``: it
    # matched the application's; ``operator_id_check`` with the operator's id). Rows
    # made before keep their decision: the application's last status row when the
    # appeal arrived. SQLite cannot drop a UNIQUE constraint, so the table is rebuilt.
    """
    CREATE TABLE appeals_v2 (
        tracking_code    TEXT PRIMARY KEY,
        application_code TEXT NOT NULL,
        decision_ref     TEXT NOT NULL,
        grounds          TEXT NOT NULL,
        status_appealed  TEXT NOT NULL,
        reason_code      TEXT,
        automated        INTEGER NOT NULL,
        decided_at       TEXT,
        stalled          INTEGER NOT NULL,
        received_at      TEXT NOT NULL,
        appellant_tag    TEXT,
        identified_by    TEXT,
        operator_id      TEXT,
        UNIQUE (application_code, decision_ref)
    );
    INSERT INTO appeals_v2 (tracking_code, application_code, decision_ref, grounds,
        status_appealed, reason_code, automated, decided_at, stalled, received_at)
    SELECT a.tracking_code, a.application_code,
        CASE WHEN a.stalled = 1 AND a.status_appealed <> 'rejected' THEN 'stalled'
        ELSE COALESCE('status:' || CAST((SELECT MAX(l.seq) FROM status_log l
            WHERE l.tracking_code = a.application_code AND l.at <= a.received_at) AS TEXT),
            'appeal:' || a.tracking_code) END,
        a.grounds, a.status_appealed, a.reason_code, a.automated, a.decided_at, a.stalled,
        a.received_at
    FROM appeals a;
    DROP TABLE appeals;
    ALTER TABLE appeals_v2 RENAME TO appeals;
    CREATE INDEX appeals_received ON appeals (received_at)
    """,
)


# The steps PG_BASELINE already contains; MIGRATIONS[PG_BASELINE_STEPS:] run on both.
PG_BASELINE_STEPS = 6

PG_BASELINE = """
CREATE TABLE IF NOT EXISTS devices (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    bundle_key  TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked     INTEGER NOT NULL DEFAULT 0,
    pre_prefix  TEXT,
    legacy      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    name       TEXT,
    device_id  TEXT
);
CREATE TABLE IF NOT EXISTS forms (
    form_id   TEXT NOT NULL,
    version   TEXT NOT NULL,
    category  TEXT NOT NULL DEFAULT '',
    spec      TEXT NOT NULL,
    source    TEXT NOT NULL,
    added_at  TEXT NOT NULL,
    key_id    TEXT,
    signature TEXT,
    PRIMARY KEY (form_id, version)
);
CREATE TABLE IF NOT EXISTS submissions (
    device_id          TEXT NOT NULL REFERENCES devices(id),
    id                 TEXT NOT NULL,
    tracking_code      TEXT NOT NULL UNIQUE,
    form_id            TEXT NOT NULL,
    form_version       TEXT NOT NULL,
    lang               TEXT NOT NULL,
    payload            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    received_at        TEXT NOT NULL,
    via                TEXT NOT NULL,
    application_number TEXT NOT NULL UNIQUE,
    status             TEXT NOT NULL,
    note               TEXT,
    status_updated_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, id)
);
CREATE TABLE IF NOT EXISTS status_log (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id     TEXT NOT NULL,
    tracking_code TEXT NOT NULL,
    status        TEXT NOT NULL,
    application_number TEXT NOT NULL,
    note          TEXT,
    at            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_log_device ON status_log (device_id, seq);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS application_seq;
CREATE TABLE IF NOT EXISTS enrolment_failures (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS enrolment_failures_at ON enrolment_failures (at);
CREATE INDEX IF NOT EXISTS enrolment_failures_source ON enrolment_failures (source, at);
CREATE TABLE IF NOT EXISTS audit_anchors (
    device_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS audit_heads (
    device_id   TEXT PRIMARY KEY,
    last_seq    BIGINT NOT NULL,
    last_hash   TEXT NOT NULL,
    anchored_at TEXT NOT NULL,
    flag        TEXT,
    flag_seq    BIGINT,
    flagged_at  TEXT
);
CREATE TABLE IF NOT EXISTS code_claims (
    tracking_code TEXT PRIMARY KEY,
    device_id     TEXT NOT NULL REFERENCES devices(id),
    item_id       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    claimed_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS code_claims_device ON code_claims (device_id);
CREATE TABLE IF NOT EXISTS status_lookups (
    source TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_lookups_source ON status_lookups (source, at)
"""


def _statements(script: str) -> list[str]:
    return [part for part in script.split(";") if part.strip()]


def migrate_sqlite(conn: sqlite3.Connection) -> None:
    """Create the schema, then apply the steps this database has not had (in its transaction)."""
    conn.create_function("derived_prefix", 1, tracking.prefix_from_id, deterministic=True)
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    done = conn.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[done:], start=done + 1):
        for statement in _statements(step):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")


migrate = migrate_sqlite  # the name tools and older tests open an SQLite database by


def migrate_postgres(conn: PgConn) -> None:
    """`PG_BASELINE`, then every step after `PG_BASELINE_STEPS` not yet applied, in the
    caller's transaction; one process at a time (an advisory lock held to its end)."""
    conn.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) AS version FROM schema_version").fetchone()
    done = row["version"] if row is not None and row["version"] is not None else None
    if done is None:
        for statement in _statements(PG_BASELINE):
            conn.execute(statement)
        done = PG_BASELINE_STEPS
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (done,))
    for number, step in enumerate(MIGRATIONS[done:], start=done + 1):
        for statement in _statements(step):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))


# pg_advisory_xact_lock's key for migrations ("MKPORTAL" as an integer, any fixed value).
MIGRATION_LOCK = 0x4D4B504F5254414C

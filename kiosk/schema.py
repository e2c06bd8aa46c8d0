"""The kiosk database schema as numbered migrations; never drop-and-recreate.

A migration is applied once, in its own transaction, and recorded in schema_version.
Add new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- Catalog cache: bundled forms and forms pulled from the portal. A form in use
    -- keeps its version because drafts and outbox rows name (form_id, form_version).
    CREATE TABLE forms (
        form_id    TEXT NOT NULL,
        version    TEXT NOT NULL,
        source     TEXT NOT NULL CHECK (source IN ('bundled', 'portal')),
        category   TEXT NOT NULL DEFAULT '',
        spec       TEXT NOT NULL,            -- pyxform JSON of the form
        active     INTEGER NOT NULL DEFAULT 1, -- the version offered for new sessions
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (form_id, version)
    );
    CREATE TABLE operators (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        pin_hash        TEXT NOT NULL,       -- scrypt$n$r$p$salt_hex$hash_hex
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        locked_until    TEXT,
        created_at      TEXT NOT NULL
    );
    CREATE TABLE drafts (
        id           TEXT PRIMARY KEY,       -- uuid4
        form_id      TEXT NOT NULL,
        form_version TEXT NOT NULL,
        lang         TEXT NOT NULL,
        answers      TEXT NOT NULL,          -- JSON object
        position     TEXT,                   -- engine step ref
        operator_id  INTEGER REFERENCES operators(id),
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id              TEXT PRIMARY KEY,    -- client uuid4, the idempotency key
        tracking_code   TEXT NOT NULL UNIQUE,
        form_id         TEXT NOT NULL,
        form_version    TEXT NOT NULL,
        lang            TEXT NOT NULL,
        payload         TEXT NOT NULL,       -- canonical JSON
        content_hash    TEXT NOT NULL,       -- sha256 hex of payload
        size_bytes      INTEGER NOT NULL,
        operator_id     INTEGER REFERENCES operators(id),
        consent         INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sent', 'rejected')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,       -- ISO UTC; due when <= now
        last_error      TEXT,
        outcome         TEXT,                -- accepted | duplicate | conflict | rejected
        reason          TEXT,                -- the portal's reason when refused
        application_number TEXT,
        sent_at         TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    -- Append-only; each row's hash covers its content and the previous row's hash.
    CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        ts        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        subject   TEXT NOT NULL DEFAULT '',
        details   TEXT NOT NULL DEFAULT '{}',
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    -- Application statuses pulled from the portal, by tracking code.
    CREATE TABLE status (
        tracking_code      TEXT PRIMARY KEY,
        status             TEXT NOT NULL,
        application_number TEXT,
        note               TEXT,
        updated_at         TEXT NOT NULL
    );
    """,
    # 2: queue figures that stay cheap with 100,000 rows: the oldest unsent item and
    # the listing by state read an index; the counts per state are kept by triggers
    # (one row per state) instead of counting every row on each dashboard refresh.
    """
    CREATE INDEX outbox_state_created ON outbox (state, created_at);
    CREATE TABLE outbox_counts (
        state TEXT PRIMARY KEY,
        n     INTEGER NOT NULL
    );
    INSERT INTO outbox_counts (state, n)
        SELECT s.state, (SELECT COUNT(*) FROM outbox WHERE outbox.state = s.state)
        FROM (SELECT 'queued' AS state UNION ALL SELECT 'sent' UNION ALL SELECT 'rejected') AS s;
    CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN
        UPDATE outbox_counts SET n = n + 1 WHERE state = NEW.state;
    END;
    CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE state = OLD.state;
    END;
    CREATE TRIGGER outbox_counts_update AFTER UPDATE OF state ON outbox
    WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE outbox_counts SET n = n - 1 WHERE state = OLD.state;
        UPDATE outbox_counts SET n = n + 1 WHERE state = NEW.state;
    END;
    """,
    # 3: a delivered item's payload is not kept (issue 13): rows already sent lose it
    # now, as `outbox.apply_results` drops it when marking an item sent. '' marks it
    # (the column is NOT NULL); the receipt's columns and content_hash stay.
    """
    UPDATE outbox SET payload = '' WHERE state = 'sent' AND payload <> '';
    """,
    # 4: drafts only their citizen can reopen (issue 13, kiosk/drafts.py): sealed under
    # a key from the resume code. Plaintext drafts of older versions cannot be sealed
    # (nobody holds a code for them): they are deleted (zeroed: secure_delete); their
    # count is left in settings for `drafts.note_dropped_plaintext` to audit.
    """
    INSERT INTO settings (key, value)
        SELECT 'drafts.plaintext_dropped', COUNT(*) FROM drafts HAVING COUNT(*) > 0;
    DELETE FROM drafts;
    DROP TABLE drafts;
    CREATE TABLE drafts (
        id           TEXT PRIMARY KEY,       -- uuid4
        slot         INTEGER NOT NULL UNIQUE CHECK (slot BETWEEN 0 AND 99),
        kdf          TEXT NOT NULL,          -- scrypt$n$r$p of the key
        salt         BLOB NOT NULL,
        nonce        BLOB NOT NULL,
        sealed       BLOB NOT NULL,          -- ChaCha20-Poly1305: lang, answers, position
        form_id      TEXT NOT NULL,
        form_version TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        failures     INTEGER NOT NULL DEFAULT 0,  -- wrong codes since the last lock
        locked_until TEXT
    );
    """,
    # 5: rejected items an operator can read and settle (issue 14, kiosk/rejected.py):
    # the portal's reason code and params (said in the operator's language later, not
    # only in the language of the sync that received it), the old tracking code a
    # resubmission replaces, and how an operator settled a rejected item
    # ('resubmitted': settled_note holds the new code; 'discarded': the operator's why).
    """
    ALTER TABLE outbox ADD COLUMN reason_code TEXT;
    ALTER TABLE outbox ADD COLUMN reason_params TEXT;  -- JSON object
    ALTER TABLE outbox ADD COLUMN resubmits TEXT;      -- tracking code of the rejected item
    ALTER TABLE outbox ADD COLUMN settled TEXT
        CHECK (settled IS NULL OR settled IN ('resubmitted', 'discarded'));
    ALTER TABLE outbox ADD COLUMN settled_note TEXT;
    ALTER TABLE outbox ADD COLUMN settled_at TEXT;
    ALTER TABLE outbox ADD COLUMN settled_by INTEGER;
    """,
    # 6: the decision reason of a pulled status (issue 15): a decision.* code of
    # kiosk/reasons.py, said in the citizen's language where the status is shown.
    """
    ALTER TABLE status ADD COLUMN reason_code TEXT;
    """,
    # 7: whether a pulled status was set by the portal's rules, not a person (issue 16,
    # docs/appeals.md): 1 automated, 0 a person, NULL an older portal that did not say.
    """
    ALTER TABLE status ADD COLUMN automated INTEGER;
    """,
)

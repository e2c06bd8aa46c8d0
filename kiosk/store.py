"""The kiosk's durable store: one SQLite file, nothing submitted is ever lost.

Every connection runs in WAL mode with ``synchronous=FULL`` (a commit is on disk when
it returns), a busy timeout, foreign keys on and ``secure_delete`` on (deleted rows are
overwritten with zeros, not left in free pages). `Store.checkpoint` folds the WAL back
into the file and truncates it, so old page images (a wiped draft, a delivered
payload) do not linger there: the idle wipe and the end of each sync call it.

The data directory is 0700, the database files 0600, and the device token lives in its
own file (`kiosk.private_files`), reached through ``store.state.portal_token``.
Writes that belong together run in one transaction: `Store.transaction()` (``BEGIN IMMEDIATE``, so a read-then-write
never fails on a lock upgrade) or ``store.db.atomic()``; both nest as savepoints.
Prefer `transaction()` as the outermost block of a write: ``atomic()`` begins a
deferred transaction that can fail with "database is locked" when it turns into a
write while another process is writing.

One Store per thread: the connection refuses use from another thread, so the UI
opens its own Store inside each thread worker (opening is cheap once migrated).

Errors from SQLite that a kiosk can meet in the field (read-only file, full disk,
damaged file, lock held too long) surface as `StoreError` with a translatable
message; a failed write leaves everything committed before untouched.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from kiosk import (
    audit,
    drafts,
    help_calls,
    outbox,
    private_files,
    rejected,
    seal_store,
    settings,
    tracking,
)
from kiosk.config import db_path, make_private_dir
from kiosk.crashpoints import crash_point
from kiosk.drafts import Draft as Draft
from kiosk.errors import os_error
from kiosk.i18n import N_, check_lang
from kiosk.schema import MIGRATIONS
from kiosk.settings import PORTAL_TOKEN, PORTAL_TOKEN_SHA256, get_setting, put_setting
from kiosk.store_errors import StoreError as StoreError
from kiosk.store_errors import failure_message as failure_message
from kiosk.store_errors import store_error
from kiosk.wire import canonical_json, now_iso, text_hash

if TYPE_CHECKING:
    from kiosk.form import Form

BUSY_TIMEOUT_MS = 5000
TOKEN_FILE = "portal.token"  # beside kiosk.db, 0600: the device token never enters the DB


@dataclass(frozen=True)
class Submission:
    """What the receipt needs once a submission is durably queued."""

    id: str
    tracking_code: str
    content_hash: str
    created_at: str


class Store:
    """The kiosk database. See the module docstring for the threading rule."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        """Open (and migrate) the database at `path`.

        `read_only` opens it with SQLite's ``mode=ro``: reads work, every write raises
        `StoreError` (for inspection tools, and how tests prove the error path).
        """
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            private_files.make_private(self.path)
        try:
            if read_only:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            else:
                conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        try:
            self.db = Database(conn)
            self._configure()
            self._migrate()
            if not read_only:
                self._move_token_out()
                drafts.note_dropped_plaintext(self)
                self.seal_legacy(force=False)
        except sqlite3.Error as exc:
            conn.close()
            raise store_error(exc, self.path) from exc
        except BaseException:
            conn.close()
            raise

    @classmethod
    def open(cls, data_dir: str | Path) -> Store:
        """The store in a data directory (created if missing)."""
        directory = Path(data_dir)
        try:
            make_private_dir(directory)
        except OSError as exc:
            raise StoreError(
                N_("The data folder cannot be created: {path} ({error})"),
                path=str(directory),
                error=os_error(exc),  # said in the reader's language, not the OS's English
            ) from exc
        return cls(db_path(directory))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connection setup and migrations -------------------------------------------

    def _configure(self) -> None:
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal" and not self.read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")

    def schema_version(self) -> int:
        if "schema_version" not in self.db.table_names():
            return 0
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _migrate(self) -> None:
        """Apply each pending migration once, in its own transaction."""
        current = self.schema_version()
        if current > len(MIGRATIONS):
            raise StoreError(
                N_(
                    "The kiosk database was made by a newer version of the kiosk "
                    "(schema {found}, this version knows {known}). Update the kiosk."
                ),
                found=current,
                known=len(MIGRATIONS),
            )
        if current == len(MIGRATIONS):
            return  # nothing to write: a read-only but current database still opens
        for number, sql in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            with self.transaction() as db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
                # Another process may have migrated while we waited for the lock.
                done = db.execute(
                    "SELECT 1 FROM schema_version WHERE version = ?", [number]
                ).fetchone()
                if done:
                    continue
                db.executescript(sql)
                db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    [number, now_iso()],
                )

    def _move_token_out(self) -> None:
        """A token kept in the settings table (before it lived in its own file) moves to
        ``portal.token``; the row is then deleted (zeroed: secure_delete) and the WAL
        truncated. Idempotent: killed between the two steps, the next open redoes it."""
        with self.guard():
            token = get_setting(self.db, PORTAL_TOKEN)
        if token is None:
            return
        private_files.write_private_file(self.token_path, token)
        with self.transaction() as db:
            put_setting(db, PORTAL_TOKEN_SHA256, text_hash(token))
            db.execute("DELETE FROM settings WHERE key = ?", [PORTAL_TOKEN])
        self.checkpoint()

    def seal_legacy(self, *, force: bool = True) -> int:
        """`seal_store.seal_legacy` in its own transaction, only when there may be work."""
        with self.guard():
            if not seal_store.legacy_pending(self.db, force):
                return 0
        with self.transaction() as db:
            sealed = seal_store.seal_legacy(db)
        self.checkpoint()  # the clear text's old page images leave the WAL and the file
        return sealed

    def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it to zero bytes.

        Called after the idle wipe and after each sync, so what was deleted is not
        left in the WAL's old page images. True when the WAL was emptied; False when a
        reader kept it busy (the next checkpoint catches up) or the file is read-only.
        Never raises: a wipe or a sync must not fail on it.
        """
        if self.read_only:
            return False
        try:
            busy, _, _ = self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            return False
        return not busy

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn SQLite errors raised inside into `StoreError`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """One write transaction (``BEGIN IMMEDIATE``); a savepoint when nested.

        Everything inside commits together or not at all; SQLite errors come out
        as `StoreError` after the rollback.
        """
        conn = self.db.conn
        with self.guard():
            if conn.in_transaction:
                with self.db.atomic():
                    yield self.db
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    # -- settings --------------------------------------------------------------------

    @property
    def token_path(self) -> Path:
        """The device token's file, beside the database (0600)."""
        return self.path.parent / TOKEN_FILE

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        if key == PORTAL_TOKEN:
            value = self._read_token()
        else:
            with self.guard():
                value = get_setting(self.db, key)
        return default if value is None else value

    def set_setting(self, key: str, value: str | int | None) -> None:
        """Store a setting as text; None removes it (the token: its file)."""
        if key == PORTAL_TOKEN:
            token = None if value is None else str(value)
            self.write_token(token)
            with self.transaction() as db:
                if token is None:
                    db.execute("DELETE FROM settings WHERE key = ?", [PORTAL_TOKEN_SHA256])
                else:
                    put_setting(db, PORTAL_TOKEN_SHA256, text_hash(token))
            return
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
            else:
                put_setting(db, key, str(value))

    def _read_token(self) -> str | None:
        text = private_files.read_token(self.token_path)
        if text is None:
            return None
        with self.guard():
            expected = get_setting(self.db, PORTAL_TOKEN_SHA256)
        # Not the token the committed enrolment names (a kill between writing the file
        # and committing the enrolment): never use it.
        return text if expected == text_hash(text) else None

    def write_token(self, token: str | None) -> None:
        """Keep the device token in its 0600 file (None removes the file)."""
        private_files.write_token(self.token_path, token)

    @property
    def state(self) -> settings.RuntimeState:
        """The runtime state in the settings table, typed (portal, cursors, last sync)."""
        return settings.RuntimeState(self)

    @property
    def device_id(self) -> str:
        """This kiosk's uuid4, made once on first use and kept for good."""
        value = self.get_setting(settings.DEVICE_ID)
        if value is None:
            with self.transaction() as db:
                db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)",
                    [settings.DEVICE_ID, str(uuid.uuid4())],
                )
            value = self.get_setting(settings.DEVICE_ID)
        assert value is not None
        return value

    @property
    def device_prefix(self) -> str:
        """Tracking-code prefix: set at enrolment (``device_prefix``), else from device_id.

        A stored prefix that is not made of tracking-code symbols is ignored (the
        derived one is used) rather than blocking submissions.
        """
        stored = (self.state.device_prefix or "").strip().upper()
        if tracking.is_valid_prefix(stored):
            return stored
        return tracking.prefix_from_id(self.device_id)

    # -- drafts (sealed under the citizen's resume code: kiosk/drafts.py) -------------

    def save_draft(
        self,
        draft_id: str | None,
        key: drafts.DraftKey,
        form_id: str,
        form_version: str,
        lang: str,
        answers: Mapping[str, object],
        position: str | None,
        operator_id: int | None = None,
        *,
        now: datetime | None = None,
        lifetime_hours: float = drafts.DEFAULT_LIFETIME_HOURS,
    ) -> drafts.Saved:
        """Seal and write a draft (durable on return); a None id makes a new one, in a
        free slot. Called on every answer, so a power cut loses nothing."""
        check_lang(lang)
        content: dict[str, object] = {
            "lang": lang,
            "answers": dict(answers),
            "position": position,
            "operator_id": operator_id,
        }
        moment = now or datetime.now(UTC)
        return drafts.save(
            self, draft_id, key, form_id, str(form_version), content, moment, lifetime_hours
        )

    def load_draft(self, draft_id: str, key: drafts.DraftKey) -> Draft | None:
        """The draft opened with the visit's key, or None."""
        return drafts.load(self, draft_id, key)

    def open_draft(self, code: str, now: datetime | None = None) -> drafts.OpenResult:
        """Try a typed resume code (12 digits; slow: scrypt). See `drafts.try_code`."""
        return drafts.try_code(self, code, now or datetime.now(UTC))

    def list_drafts(self) -> list[drafts.DraftInfo]:
        """Every draft, newest first: nothing of the citizen."""
        return drafts.listing(self)

    def delete_draft(self, draft_id: str) -> bool:
        """Remove a draft; True if there was one."""
        return drafts.delete(self, draft_id)

    def purge_drafts(self, now: datetime | None = None) -> int:
        """Delete expired drafts; how many went."""
        return drafts.purge_expired(self, now or datetime.now(UTC))

    # -- submit ----------------------------------------------------------------------

    def submit(
        self,
        form: Form | None,
        payload: dict[str, object],
        lang: str,
        operator_id: int | None = None,
        consent: bool = False,
        draft_id: str | None = None,
        actor: str = "citizen",
        *,
        form_id: str | None = None,
        form_version: str | None = None,
        resubmits: str | None = None,
    ) -> Submission:
        """Queue a submission durably: outbox row, audit entry and draft removal at once.

        `form` is a `kiosk.form.Form` (its ``id`` and ``version`` are used); pass
        ``form=None`` with ``form_id=`` and ``form_version=`` to submit without one.
        ``resubmits``: the tracking code of a rejected item this submission replaces (an
        operator's fix, kiosk/rejected.py): recorded in the new row and its audit entry,
        and the old item settled as resubmitted, in the same transaction.
        On return the row is committed to disk; on any error nothing was written.
        """
        if form is not None:
            form_id, form_version = form.id, form.version
        if not form_id or form_version is None:
            raise ValueError("submit needs a form or form_id and form_version")
        if not isinstance(payload, dict):
            raise TypeError("payload must be a JSON object (dict)")
        check_lang(lang)
        body = canonical_json(payload)
        submission_id = str(uuid.uuid4())
        prefix = self.device_prefix
        now = now_iso()
        with self.transaction() as db:
            # Sealed in this transaction: no clear text reaches the outbox (no key:
            # `NoSealingKey`, nothing written, the answers stay in the draft).
            spec = form.spec if form is not None else None
            code = outbox.new_code(db, prefix)  # sealed in: it binds the blob to this device
            blob, content_hash = seal_store.seal_new(
                db, submission_id, form_id, str(form_version), body, spec, code=code
            )
            row = outbox.NewRow(
                submission_id,
                form_id,
                str(form_version),
                lang,
                blob,
                content_hash,
                operator_id,
                consent,
                now,
            )
            outbox.add(db, row, prefix, code)
            if resubmits is not None:
                rejected.settle_resubmitted(db, resubmits, code, operator_id)
                db.execute(
                    "UPDATE outbox SET resubmits = ? WHERE id = ?", [resubmits, submission_id]
                )
            audit.append(
                db,
                actor,
                "submit",
                code,
                {
                    "id": submission_id,
                    "form_id": form_id,
                    "form_version": str(form_version),
                    "content_hash": content_hash,
                    "operator_id": operator_id,
                    "consent": bool(consent),
                    **({"resubmits": resubmits} if resubmits is not None else {}),
                },
            )
            if draft_id:
                db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
            crash_point("submit.before_commit")
        crash_point("submit.after_commit")
        return Submission(submission_id, code, content_hash, now)

    # -- queue and status ------------------------------------------------------------

    def queue(
        self, state: str | None = None, limit: int | None = None, include_payload: bool = False
    ) -> list[outbox.QueueRow]:
        """Outbox rows oldest first (payload left out unless asked for)."""
        with self.guard():
            return outbox.listing(self.db, state, limit, include_payload)

    def queue_counts(self) -> dict[str, int]:
        """Rows per state; every state present (0 when none)."""
        with self.guard():
            return outbox.counts(self.db)

    def rejected_open(self, limit: int = 500) -> list[outbox.QueueRow]:
        """Rejected items no operator has settled yet (kiosk/rejected.py), oldest first."""
        with self.guard():
            return rejected.open_items(self.db, limit)

    def rejected_open_count(self) -> int:
        with self.guard():
            return rejected.open_count(self.db)

    def discard_rejected(self, code: str, note: str, operator_id: int | None) -> None:
        """An operator discards the rejected item ``code`` for ``note`` (audited)."""
        with self.guard():
            rejected.discard(self, code, note, operator_id)

    # -- a citizen's call for the operator (kiosk/help_calls.py) -----------------------

    def call_operator(self, screen: str, lang: str) -> None:
        """A citizen pressed "Call the operator": recorded (audited) until cleared."""
        with self.transaction() as db:
            help_calls.call(db, screen, lang)

    def help_call(self) -> help_calls.HelpCall | None:
        """The call waiting for an operator, or None."""
        with self.guard():
            return help_calls.waiting(self.db)

    def clear_help_call(self, operator_id: int | None) -> bool:
        """The operator has come: the dashboard's flag goes down (audited)."""
        with self.transaction() as db:
            return help_calls.clear(db, operator_id)

    def oldest_unsent_at(self) -> str | None:
        """created_at of the oldest queued submission, or None when all are sent."""
        with self.guard():
            return outbox.oldest_unsent_at(self.db)

    def status(self, tracking_code: str) -> outbox.CodeStatus | None:
        """What is known about a code (typed in any case, with or without dashes).

        Keys: tracking_code, form_id, form_version, created_at, state, outcome, reason,
        application_number, sent_at (from the outbox) and portal_status, note,
        status_updated_at (from the portal's status pull). None when unknown.
        """
        code = tracking.normalize(tracking_code)
        if code is None:
            return None
        with self.guard():
            return outbox.status(self.db, code)

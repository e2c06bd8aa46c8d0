"""The sync engine: drain the outbox in batches, then pull statuses and the catalog.

Safe to run from a thread worker (give it a Store opened in that thread). Nothing is
kept in memory that a crash could lose: each batch's outcomes commit together, the
retry schedule is in the outbox rows, and the portal's idempotency makes a resend
after a crash harmless (it answers ``duplicate``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kiosk import audit, outbox, seal_store, signing
from kiosk.catalog import Catalog
from kiosk.crashpoints import crash_point
from kiosk.errors import TranslatableError
from kiosk.i18n import N_, tr
from kiosk.settings import AUDIT_ANCHOR_SEQ, SIGNING_KEYS, get_setting, pins_json, put_setting
from kiosk.wire import now_iso
from sync import wire
from sync.backoff import BASE_DELAY, MAX_DELAY, retry_delay
from sync.transport import AuthError, PortalError, RequestRejected, RetryableError, Transport

if TYPE_CHECKING:
    from kiosk.store import Store

logger = logging.getLogger(__name__)

NOT_SEALED = N_(
    "Some applications were queued before this kiosk had a portal sealing key; they wait "
    "until it has one (enrol the kiosk again, or kiosk key install FILE)."
)

DEFAULT_BATCH_BYTES = 256 * 1024
DEFAULT_BATCH_ITEMS = 500
# Whole-batch refusals that are about the content: bisect to find the item.
CONTENT_REFUSALS = frozenset({400, 413, 415, 422})
# Why a form from the portal was not activated (kiosk.signing's problem names).
FORM_REFUSALS: dict[str, str] = {
    "unsigned": N_("it is not signed"),
    "unknown_key": N_("it is signed by a key this kiosk does not trust"),
    "bad_signature": N_("its signature does not match: it was changed or forged"),
    "mismatch": N_("its signed name or version differs from its content"),
}
NOT_PINNED = N_(
    "This kiosk was enrolled before the portal signed its forms: new forms are not used "
    "until it is enrolled again (kiosk enroll --portal URL --code CODE)."
)


@dataclass
class SyncProgress:
    """Reported after each batch; totals are the items due when the run began."""

    items_done: int
    items_total: int
    bytes_done: int
    bytes_total: int


@dataclass
class SyncReport:
    sent: int = 0  # newly accepted by the portal
    duplicates: int = 0  # the portal already had them (a resend after a crash)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (tracking_code, reason)
    waiting: int = 0  # still queued after the run
    bytes_sent: int = 0  # request bodies on the wire (gzip)
    error: str | None = None  # why the run stopped early, in the report's language
    needs_enrolment: bool = False  # 401: enrol again before the next sync
    statuses: int = 0  # status changes pulled
    forms_updated: int = 0  # catalog form versions added
    forms_refused: int = 0  # catalog versions not activated (signature, docs/keys.md)
    audit_anchored: int = 0  # the last audit seq the portal holds after this run
    audit_flag: str | None = None  # the portal flagged this kiosk's audit chain

    @property
    def ok(self) -> bool:
        return self.error is None and self.waiting == 0


ProgressCallback = Callable[[SyncProgress], object]  # what it returns is ignored


class SyncEngine:
    """``SyncEngine(store, transport).run(progress=cb) -> SyncReport``.

    ``client`` is any `Transport`: HTTP (`sync.client.PortalClient`) in the field,
    in-process (`sync.portal.local.LocalTransport`) in tests and tools.
    """

    def __init__(
        self,
        store: Store,
        client: Transport,
        *,
        batch_items: int = DEFAULT_BATCH_ITEMS,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
        lang: str = "en",
        base_delay: float = BASE_DELAY,
        max_delay: float = MAX_DELAY,
    ) -> None:
        self.store = store
        self.client = client
        self.batch_items = max(1, min(batch_items, 1000))
        self.batch_bytes = max(1, batch_bytes)
        self.lang = lang
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask a running ``run`` (in another thread) to stop after the current request.

        The engine stays cancelled: make a new one for the next run.
        """
        self._cancel.set()

    def run(
        self,
        progress: ProgressCallback | None = None,
        *,
        force: bool = False,
        max_wait: float = 0.0,
        pull: bool = True,
    ) -> SyncReport:
        """One sync. ``force`` sends items whose retry is not due yet (field staff asked
        for it); ``max_wait`` seconds lets the run wait out short back-offs itself."""
        report = SyncReport()
        deadline = datetime.now(UTC).timestamp() + max(0.0, max_wait)
        try:
            self._send_all(report, progress, force)
            while self._should_wait_again(report, deadline):
                report.error = None
                self._send_all(report, progress, False)
            if pull and not report.needs_enrolment and not self._cancel.is_set():
                self._pull(report)
        except PortalError as exc:  # raised outside a batch (should be rare)
            report.error = exc.text(self.lang)
        except Exception:  # a worker thread must get a report, never a traceback
            logger.exception("sync run failed")
            report.error = tr(self.lang, UNEXPECTED)
        finally:
            self._finish(report)
        return report

    def pull_statuses(self) -> SyncReport:
        """Only the status pull (the app's background refresh while online, issue 14):
        nothing sent, no catalog, the last-sync bookkeeping left alone. Never raises."""
        report = SyncReport()
        try:
            self._pull_status(report)
        except AuthError as exc:
            report.needs_enrolment = True
            report.error = exc.text(self.lang)
        except PortalError as exc:
            report.error = exc.text(self.lang)
        except Exception as exc:  # a worker thread must get a report, never a traceback
            logger.exception("status pull failed")
            report.error = tr(
                self.lang, "Sync failed: {error}", error=str(exc) or type(exc).__name__
            )
        return report

    # --- sending ---------------------------------------------------------------

    def _send_all(self, report: SyncReport, progress: ProgressCallback | None, force: bool) -> None:
        self.store.seal_legacy()  # an older kiosk's clear-text rows, now that a key is known
        due = None if force else now_iso()
        items_total, bytes_total = outbox.pending_totals(self.store.db, due)
        done_items = done_bytes = 0
        if progress:
            progress(SyncProgress(0, items_total, 0, bytes_total))
        for batch in outbox.iter_batches(self.store.db, due, self.batch_items, self.batch_bytes):
            if self._cancel.is_set():
                report.error = tr(self.lang, "Sync cancelled.")
                return
            if not self._send(batch, report):
                return
            done_items += len(batch)
            done_bytes += sum(r.size_bytes for r in batch)
            if progress:
                progress(
                    SyncProgress(
                        min(done_items, items_total),
                        items_total,
                        min(done_bytes, bytes_total),
                        bytes_total,
                    )
                )

    def _send(self, batch: list[outbox.Row], report: SyncReport) -> bool:
        """Send one batch and settle it; False when the run must stop."""
        items: list[outbox.SubmissionItem] = []
        sendable: list[outbox.Row] = []
        for row in batch:
            try:
                items.append(row.item())
                sendable.append(row)
            except outbox.NotSealed:  # waits, queued, for a sealing key (docs/keys.md)
                report.error = tr(self.lang, NOT_SEALED)
            except ValueError:  # a damaged payload can never be sent: quarantine it
                reason = tr(self.lang, "The saved answers are damaged and cannot be sent.")
                outbox.quarantine(self.store, row, reason)
                report.rejected.append((row.tracking_code, reason))
        if not sendable:
            return True
        crash_point("sync.batch_built")
        try:
            result = self.client.send_batch(items)
        except AuthError as exc:
            report.needs_enrolment = True
            report.error = exc.text(self.lang)
            return False
        except RetryableError as exc:
            outbox.schedule_retry(
                self.store,
                sendable,
                exc.text(self.lang),  # shown by `kiosk queue`: said, never str(exc)'s English
                retry_delay(exc.retry_after, self.base_delay, self.max_delay),
            )
            report.error = exc.text(self.lang)
            return False
        except RequestRejected as exc:
            if exc.http_status in CONTENT_REFUSALS:
                return self._bisect(sendable, exc, report)
            # 403, 404, 405...: a wrong URL or portal, not bad items. Never quarantine
            # on that; back off and say so.
            outbox.schedule_retry(
                self.store,
                sendable,
                exc.text(self.lang),
                retry_delay(None, self.base_delay, self.max_delay),
            )
            report.error = exc.text(self.lang)
            return False
        report.bytes_sent += result.bytes_sent
        crash_point("sync.answer_read")
        # An item left unanswered backs off on the default schedule, as it always has.
        summary = outbox.apply_results(
            self.store, sendable, result.results, result.bytes_sent, retry_delay(), self.lang
        )
        crash_point("sync.outcomes_committed")
        report.sent += summary["accepted"]
        report.duplicates += summary["duplicate"]
        report.rejected.extend((code, reason) for code, reason, _ in summary["rejected"])
        return True

    def _bisect(self, rows: list[outbox.Row], exc: RequestRejected, report: SyncReport) -> bool:
        """A batch the portal refused whole: halve it until the bad item stands alone."""
        if len(rows) == 1:
            reason = exc.text(self.lang)
            outbox.quarantine(self.store, rows[0], reason)
            report.rejected.append((rows[0].tracking_code, reason))
            return True
        middle = len(rows) // 2
        return self._send(rows[:middle], report) and self._send(rows[middle:], report)

    def _should_wait_again(self, report: SyncReport, deadline: float) -> bool:
        """Sleep until the next queued item is due, if that is within the deadline.

        Not only after a failure: with per-item jitter, some items of a failed batch fall
        due a little later than others, and ``max_wait`` promises to wait those out too.
        """
        if report.needs_enrolment or self._cancel.is_set():
            return False
        due = outbox.next_due_at(self.store.db)
        if due is None:
            return False
        due_ts = datetime.fromisoformat(due).timestamp()
        now = datetime.now(UTC).timestamp()
        if due_ts > deadline or now >= deadline:
            return False
        self._cancel.wait(max(0.0, due_ts - now))
        return not self._cancel.is_set()

    # --- pulls -----------------------------------------------------------------

    def _pull(self, report: SyncReport) -> None:
        try:
            self._pull_status(report)
            self._pull_catalog(report)
            if not self._cancel.is_set():
                self._anchor_audit(report)
        except AuthError as exc:
            report.needs_enrolment = True
            report.error = exc.text(self.lang)
        except PortalError as exc:
            report.error = report.error or exc.text(self.lang)

    def _pull_status(self, report: SyncReport) -> None:
        cursor = self.store.state.status_cursor
        while not self._cancel.is_set():
            page = self.client.status(cursor)
            crash_point("sync.status_fetched")
            new_cursor = page.get("cursor")
            if not isinstance(new_cursor, int) or new_cursor < cursor:
                return  # a confused answer must not move the cursor backwards
            report.statuses += outbox.apply_status_changes(self.store, page["changes"], new_cursor)
            crash_point("sync.status_applied")
            cursor = new_cursor
            if not page.get("more"):
                return

    def _pull_catalog(self, report: SyncReport) -> None:
        catalog = self.client.catalog(self.store.state.catalog_etag)
        if catalog is None:
            return
        crash_point("sync.catalog_fetched")
        known = {(r[0], r[1]) for r in self.store.db.execute("SELECT form_id, version FROM forms")}
        new = [
            entry
            for entry in catalog["forms"]
            if isinstance(entry, dict)
            and isinstance(entry.get("spec"), dict)
            and (entry.get("form_id"), str(entry.get("version"))) not in known
        ]
        pins = self.store.state.signing_keys
        if not pins:  # enrolled before signing: nothing from the portal is trusted
            if new:
                report.error = report.error or tr(self.lang, NOT_PINNED)
            return
        pins = self._pin_vouched_keys(pins, catalog.get("keys"))
        self._take_sealing_key(pins, catalog.get("sealing_key"))
        cat = Catalog(self.store)
        for entry in new:
            problem = signing.form_signature_problem(entry, pins) or _mismatch(entry)
            if problem:
                self._refuse_form(entry, problem, report)
                continue
            try:
                cat.put(entry["spec"], source="portal")
            except Exception:  # one bad form must not block the others
                logger.info("portal form %s refused", entry.get("form_id"), exc_info=True)
                report.error = report.error or tr(self.lang, FORM_UNUSABLE)
                continue
            report.forms_updated += 1
            crash_point("sync.catalog_form_saved")
        if isinstance(catalog.get("etag"), str) and report.error is None:
            self.store.state.catalog_etag = catalog["etag"]

    def _pin_vouched_keys(self, pins: dict[str, str], chain: object) -> dict[str, str]:
        """Pin the keys of the catalog's chain that a pinned key vouches for (rotation)."""
        extended = signing.extend_pins(pins, chain)
        added = sorted(set(extended) - set(pins))
        if added:
            with self.store.transaction() as db:
                put_setting(db, SIGNING_KEYS, pins_json(extended))
                audit.append(db, "system", "signing_key_pinned", "", {"key_ids": added})
        return extended

    def _take_sealing_key(self, pins: dict[str, str], offered: object) -> None:
        """A new sealing key (the portal rotated it) is sealed to from now on, if a pinned
        signing key vouches for it; anything else is ignored (the current key stays)."""
        key = seal_store.valid_sealing_key(offered)
        if key is None or not seal_store.vouched(key, pins):
            return
        with self.store.transaction() as db:
            if seal_store.stored_key(db) == key:
                return
            seal_store.put_key(db, key)
            audit.append(db, "system", "sealing_key_pinned", key["key_id"], {})

    def _refuse_form(self, entry: Mapping[str, object], problem: str, report: SyncReport) -> None:
        """A form version that is not signed as it must be: not activated, audited, said."""
        form_id, version = str(entry.get("form_id"))[:100], str(entry.get("version"))[:50]
        logger.warning("portal form %s %s refused: %s", form_id, version, problem)
        with self.store.transaction() as db:
            audit.append(
                db,
                "system",
                "form_refused",
                f"{form_id} {version}",
                {"reason": problem, "key_id": str(entry.get("key_id"))[:64]},
            )
        report.forms_refused += 1
        report.error = report.error or tr(
            self.lang,
            "Form {id} version {version} from the portal was not activated: {reason}",
            id=form_id,
            version=version,
            reason=tr(self.lang, FORM_REFUSALS[problem]),
        )

    def _anchor_audit(self, report: SyncReport) -> None:
        """Send the audit rows the portal does not hold yet (and the row at the anchor).

        Bounded batches; the anchor seq is recorded after each answer, so a kill before
        that only makes the next sync send the same rows again (the portal holds them
        with the same hashes: harmless).
        """
        rounds = 0
        while not self._cancel.is_set():
            with self.store.transaction() as db:
                anchor = int(get_setting(db, AUDIT_ANCHOR_SEQ) or 0)
                head = audit.head_seq(db)
                entries = audit.anchor_entries(db, max(anchor, 1), wire.ANCHOR_BATCH)
            if not entries:
                return
            answer = self.client.anchor_audit(head, entries)
            crash_point("sync.anchor_answered")
            if answer["flag"]:
                logger.warning("the portal flagged this kiosk's audit log: %s", answer["flag"])
                report.audit_flag = answer["flag"]
                return
            held = max(0, min(answer["anchored_seq"], entries[-1]["seq"]))
            if held != anchor:
                self.store.state.audit_anchor_seq = held
            report.audit_anchored = held
            rounds += 1
            stuck = held == anchor and entries[-1]["seq"] > anchor
            if held >= head or stuck or rounds > head // wire.ANCHOR_BATCH + 4:
                return

    # --- bookkeeping -----------------------------------------------------------

    def _finish(self, report: SyncReport) -> None:
        try:
            report.waiting = outbox.waiting_count(self.store.db)
            now = now_iso()
            self.store.state.last_sync_attempt_at = now
            if report.error is None:
                self.store.state.last_sync_at = now
            self.store.state.last_sync_error = report.error  # None clears it
            # What was delivered was deleted (secure_delete); truncating the WAL
            # removes its old page images too (docs/ARCHITECTURE.md, "What a copied disk reveals").
            self.store.checkpoint()
        except Exception as exc:  # the store itself failing: say so, keep the report
            logger.info("sync bookkeeping failed", exc_info=True)
            report.error = report.error or _said(exc, self.lang)


# An exception the engine did not expect: its text is English for developers (logged with
# its traceback); people read this instead.
UNEXPECTED = N_("Sync failed because of an unexpected error; the details are in the kiosk's log.")


FORM_UNUSABLE = N_("A form from the portal could not be used; the details are in the kiosk's log.")


def _said(exc: Exception, lang: str) -> str:
    """An exception for people: a translatable one in ``lang``, any other one as the
    unexpected error it is (never its English ``str()``)."""
    if isinstance(exc, TranslatableError):
        return exc.message(lang)
    return tr(lang, UNEXPECTED)


def _mismatch(entry: Mapping[str, object]) -> str | None:
    """Say "mismatch" when the signed form id or version is not the spec's own."""
    spec = entry.get("spec")
    if not isinstance(spec, dict):
        return "mismatch"
    if spec.get("id_string") != entry.get("form_id"):
        return "mismatch"
    if str(spec.get("version")) != str(entry.get("version")):
        return "mismatch"
    return None

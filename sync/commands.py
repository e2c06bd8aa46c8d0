"""`kiosk enroll`, `kiosk sync`, `kiosk status`, `kiosk export-bundle`, `kiosk import-bundle`.

Exit codes: 0 success (for `sync`: nothing left waiting), 1 failure or items still
waiting, 2 bad arguments, bad bundle, or not enrolled.
"""

from __future__ import annotations

import argparse
import glob
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from kiosk import cliutil
from kiosk.crashpoints import crash_point
from kiosk.i18n import N_, ntr, tr

if TYPE_CHECKING:
    from kiosk.outbox import SubmissionItem
    from kiosk.store import Store
    from sync.engine import SyncEngine, SyncProgress, SyncReport

NOT_ENROLLED = N_(
    "This kiosk is not enrolled with a portal. Run: kiosk enroll --portal URL --code CODE"
)


class _StoreUnavailable(Exception):
    """The kiosk database cannot be opened; carries the message already translated."""


def register(sub: cliutil.Subcommands) -> None:
    enroll = cliutil.add_command(
        sub, "enroll", "enrol this kiosk with a portal", _guarded(cmd_enroll)
    )
    enroll.add_argument(
        "--file",
        type=Path,
        default=None,
        metavar="PATH",
        help="an enrolment file from `kiosk portal enrolment-code --file` (URL, code, pins)",
    )
    enroll.add_argument("--portal", default=None, metavar="URL", help="the portal's base URL")
    enroll.add_argument("--code", default=None, help="one-time enrolment code from the portal")
    enroll.add_argument(
        "--pin",
        action="append",
        default=[],
        metavar="SHA256",
        help="the portal's key pin (sha256/BASE64 or hex; repeat for a backup pin)",
    )
    enroll.add_argument(
        "--name",
        default=None,
        help="this kiosk's name, for the portal's logs (default: host name; the portal "
        "registers the name the code was made for)",
    )

    sync = cliutil.add_command(
        sub, "sync", "send queued submissions now, with progress", _guarded(cmd_sync)
    )
    sync.add_argument("--portal", default=None, metavar="URL", help="use this portal URL")
    sync.add_argument(
        "--max-wait",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="wait out back-offs up to this long (default 20)",
    )
    sync.add_argument("--batch-items", type=int, default=500, metavar="N")
    sync.add_argument("--batch-bytes", type=int, default=256 * 1024, metavar="BYTES")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")

    status = cliutil.add_command(
        sub,
        "status",
        "a tracking code's status: live from the portal, else this kiosk's copy and its age",
        _guarded(cmd_status),
    )
    status.add_argument("code", help="the tracking code from a receipt")
    status.add_argument(
        "--offline", action="store_true", help="do not ask the portal: this kiosk's copy only"
    )

    export = cliutil.add_command(
        sub, "export-bundle", "write every unsent submission to a bundle file", _guarded(cmd_export)
    )
    export.add_argument("file", type=Path, metavar="FILE")

    imp = cliutil.add_command(
        sub,
        "import-bundle",
        "deliver a bundle file through this kiosk's portal",
        _guarded(cmd_import),
    )
    imp.add_argument("file", type=Path, metavar="FILE")


def _store(args: argparse.Namespace) -> Store:
    """The kiosk store; a database that cannot be opened is a message, not a traceback."""
    from kiosk.store import StoreError

    try:
        return cliutil.open_store(args)
    except StoreError as exc:
        raise _StoreUnavailable(exc.message(cliutil.lang(args))) from exc


def _guarded(handler: cliutil.Handler) -> cliutil.Handler:
    """Turn _StoreUnavailable into exit code 1 with its message."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _StoreUnavailable as exc:
            return cliutil.fail(str(exc), 1)

    run.__doc__ = handler.__doc__
    return run


def cmd_status(args: argparse.Namespace) -> int:
    """Exit 0 when the code is known, 1 when it is not, 2 when it is not a tracking code."""
    from datetime import UTC, datetime

    from kiosk import tracking
    from sync.lookup import describe, freshness, look_up

    lang = cliutil.lang(args)
    with _store(args) as store:
        result = look_up(store, args.code, lang, ask_portal=not args.offline)
    if result is None:
        return cliutil.fail(
            tr(lang, "This is not a valid tracking code. Please check it and try again.")
        )
    print(tracking.format_code(result.code))
    print(describe(result.info, lang))
    print(freshness(result, datetime.now(UTC), lang))
    return 0 if result.info is not None else 1


def cmd_enroll(args: argparse.Namespace) -> int:
    from kiosk import reasons
    from sync import enrolfile, tls, wire
    from sync.enrolment import CodeMistyped, enroll
    from sync.transport import PortalError, RequestRejected, RetryableError

    lang = cliutil.lang(args)
    if args.file is not None:
        if args.portal or args.code or args.pin:
            return cliutil.fail(
                tr(lang, "Give either --file, or --portal and --code (with --pin), not both.")
            )
        try:
            enrolment = enrolfile.read(args.file.expanduser())
        except enrolfile.EnrolmentFileError as exc:
            return cliutil.fail(exc.message(lang))
        url, code, pins = enrolment.portal, enrolment.code, list(enrolment.pins)
        name = args.name or enrolment.name
    elif args.portal and args.code:
        url, code, pins, name = args.portal, args.code, args.pin, args.name
    else:
        return cliutil.fail(
            tr(lang, "Give an enrolment file (--file PATH), or --portal URL and --code CODE.")
        )
    try:
        origin = tls.check_url(url)  # before the database and before any name lookup
        pins = list(tls.parse_pins(pins))
    except (tls.UrlError, tls.PinError) as exc:
        return cliutil.fail(exc.message(lang))
    if origin.startswith("https://") and not pins:
        return cliutil.fail(
            tr(
                lang,
                "An https portal needs its key pin: use the enrolment file (--file) or "
                "--pin SHA256 as printed by `kiosk portal enrolment-code`.",
            )
        )
    store = _store(args)
    try:
        result = enroll(store, url, code, name, pins)
    except CodeMistyped as exc:
        return cliutil.fail(exc.text(lang))
    except RequestRejected as exc:
        return cliutil.fail(exc.text(lang))  # the portal's reason, in the kiosk's language
    except RetryableError as exc:
        if exc.kwargs.get("status") == 429 and exc.retry_after is not None:
            # Minutes from the portal's Retry-After (a delay, so the kiosk's clock never matters).
            minutes = max(1, math.ceil(exc.retry_after / 60))
            return cliutil.fail(reasons.say(lang, "enrol.rate_limited", {"minutes": minutes}), 1)
        return cliutil.fail(exc.text(lang), 1)
    except PortalError as exc:
        return cliutil.fail(exc.text(lang), 1)
    print(
        tr(
            lang,
            "Enrolled with {url}. Tracking codes start with {prefix}.",
            url=url,
            prefix=result["device_prefix"],
        )
    )
    if result.get("name"):
        print(tr(lang, "The portal registered this kiosk as {name}.", name=result["name"]))
    refused_claims = result.get("refused_claims", [])
    if refused_claims:
        print(
            tr(
                lang,
                "{count} applications made before enrolment were not accepted as this "
                "kiosk's; they will be rejected at sync (see the audit log):",
                count=len(refused_claims),
            )
        )
        for refusal in refused_claims:
            code = refusal["tracking_code"]
            params = {"tracking_code": code, "limit": wire.MAX_CLAIMS}
            print(f"  {code}: {reasons.say(lang, refusal['code'], params, refusal['detail'])}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from sync.client import PortalClient
    from sync.engine import SyncEngine
    from sync.tls import UrlError

    lang = cliutil.lang(args)
    if args.batch_items < 1 or args.batch_bytes < 1 or args.max_wait < 0:
        return cliutil.fail(tr(lang, "Batch sizes must be positive and --max-wait not negative."))
    store = _store(args)
    try:
        client = PortalClient.from_store(store, args.portal)
    except UrlError as exc:  # another origin, or plain http off loopback: no token sent
        return cliutil.fail(exc.message(lang))
    if client is None:
        return cliutil.fail(tr(lang, NOT_ENROLLED))
    engine = SyncEngine(
        store, client, batch_items=args.batch_items, batch_bytes=args.batch_bytes, lang=lang
    )
    with client:
        report = _run_with_progress(engine, lang, args.json, args.max_wait)
    if args.json:
        cliutil.print_json(
            {
                "sent": report.sent,
                "duplicates": report.duplicates,
                "rejected": [{"tracking_code": c, "reason": r} for c, r in report.rejected],
                "waiting": report.waiting,
                "bytes_sent": report.bytes_sent,
                "statuses": report.statuses,
                "forms_updated": report.forms_updated,
                "error": report.error,
                "needs_enrolment": report.needs_enrolment,
            }
        )
    else:
        _print_summary(report, lang)
    if report.needs_enrolment:
        return 2
    return 0 if report.waiting == 0 else 1


def _run_with_progress(engine: SyncEngine, lang: str, quiet: bool, max_wait: float) -> SyncReport:
    """Run the engine under a rich progress bar: items on the bar, bytes beside it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kiosk.formatting import format_size

    console = Console(stderr=quiet)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[size]}"),
    )
    with Progress(*columns, console=console, disable=quiet) as bar:
        task = bar.add_task(tr(lang, "Sending"), total=None, size="")

        def progress(p: SyncProgress) -> None:
            # Sizes in the operator's language (rich would say "0 bytes" in English).
            size = f"{format_size(p.bytes_done, lang)} / {format_size(p.bytes_total, lang)}"
            bar.update(task, total=max(p.items_total, 1), completed=p.items_done, size=size)

        return engine.run(progress=progress, force=True, max_wait=max_wait)


def _print_summary(report: SyncReport, lang: str) -> None:
    print(tr(lang, "Sent: {n}", n=report.sent))
    print(tr(lang, "Already at the portal (duplicates): {n}", n=report.duplicates))
    print(ntr(lang, "Rejected: {n} submission", "Rejected: {n} submissions", len(report.rejected)))
    for code, reason in report.rejected:
        print(tr(lang, "  {code}: {reason}", code=code, reason=reason))
    print(tr(lang, "Still waiting: {n}", n=report.waiting))
    if report.statuses:
        print(tr(lang, "Status updates received: {n}", n=report.statuses))
    if report.error:
        print(tr(lang, "Problem: {error}", error=report.error), file=sys.stderr)


def _write_atomically(path: Path, fill: Callable[[BinaryIO], None]) -> None:
    """Write through ``fill`` to a temporary file beside ``path``, fsync, rename over it.

    A pulled USB stick or a crash leaves the old file or none, never half a bundle;
    a temporary file that a killed export left behind (citizens' answers on a stick)
    is removed by the next export to the same path.
    """
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        crash_point("bundle.export_written")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``.<name>.XXXXXXXX`` files beside ``path`` (mkstemp's 8 random characters)."""
    prefix = f".{path.name}."
    for leftover in path.parent.glob(f"{glob.escape(prefix)}*"):
        tail = leftover.name[len(prefix) :]
        if len(tail) == 8 and leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)


def _sendable_items(store: Store, lang: str, warn: bool) -> Iterator[SubmissionItem]:
    """Every queued item in protocol form, streamed; damaged ones left out (said once)."""
    from kiosk import outbox

    for batch in outbox.iter_batches(store.db, None, 1000, 1 << 62):
        for row in batch:
            try:
                yield row.item()
            except outbox.NotSealed:
                if warn:
                    from sync.engine import NOT_SEALED

                    print(tr(lang, NOT_SEALED), file=sys.stderr)
            except ValueError:
                if warn:
                    print(
                        tr(
                            lang,
                            "Left out {code}: its saved answers are damaged.",
                            code=row.tracking_code,
                        ),
                        file=sys.stderr,
                    )


def cmd_export(args: argparse.Namespace) -> int:
    from kiosk import audit
    from kiosk.errors import os_error_text
    from kiosk.wire import now_iso
    from sync import bundle

    lang = cliutil.lang(args)
    store = _store(args)
    token = store.state.portal_token
    if not token:
        return cliutil.fail(
            tr(lang, "Bundles are signed with the portal's token, so enrol first.")
            + "\n"
            + tr(lang, NOT_ENROLLED)
        )
    target: Path = args.file.expanduser()
    if not target.parent.is_dir():
        return cliutil.fail(tr(lang, "The folder {path} does not exist.", path=str(target.parent)))
    store.seal_legacy()  # a bundle carries items sealed only
    # One read snapshot for both passes (count, then write), so they see the same
    # queue while the kiosk goes on taking submissions. Streaming keeps memory flat.
    with store.db.atomic():
        count = sum(1 for _ in _sendable_items(store, lang, warn=False))
        if not count:
            print(tr(lang, "Nothing to export: every submission has been sent."))
            return 0
        device_id = store.state.portal_device_id or store.device_id

        def fill(out: BinaryIO) -> None:
            bundle.write(
                out,
                _sendable_items(store, lang, warn=True),
                count,
                device_id=device_id,
                device_prefix=store.device_prefix,
                token=token,
                created_at=now_iso(),
            )

        try:
            _write_atomically(target, fill)
        except OSError as exc:
            return cliutil.fail(
                tr(
                    lang,
                    "Cannot write {path}: {error}",
                    path=str(target),
                    error=os_error_text(exc, lang),
                ),
                1,
            )
    crash_point("bundle.export_renamed")
    with store.transaction() as db:
        audit.append(db, "operator", "export_bundle", str(target), {"items": count})
    print(
        ntr(
            lang,
            "Exported {n} submission to {path}.",
            "Exported {n} submissions to {path}.",
            count,
            path=str(target),
        )
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from kiosk import audit, reasons
    from sync import bundle
    from sync.client import PortalClient
    from sync.tls import UrlError
    from sync.transport import PortalError, RequestRejected

    lang = cliutil.lang(args)
    from kiosk.errors import TranslatableError

    try:
        parsed = bundle.read(args.file.expanduser())
    except TranslatableError as exc:  # a BundleError, or the file cannot be read
        return cliutil.fail(tr(lang, "The bundle was refused: {reason}", reason=exc.text(lang)))
    store = _store(args)
    try:
        client = PortalClient.from_store(store)
    except UrlError as exc:
        return cliutil.fail(exc.message(lang))
    if client is None:
        return cliutil.fail(tr(lang, NOT_ENROLLED))
    try:
        with client:
            result = client.upload_bundle(parsed.data)
    except RequestRejected as exc:
        return cliutil.fail(
            tr(lang, "The portal refused the bundle: {detail}", detail=exc.text(lang))
        )
    except PortalError as exc:
        return cliutil.fail(exc.text(lang), 1)
    outcomes = [r.get("outcome") for r in result["results"]]
    accepted = outcomes.count("accepted")
    duplicates = outcomes.count("duplicate")
    refused = [r for r in result["results"] if r.get("outcome") in ("rejected", "conflict")]
    crash_point("bundle.import_answered")
    with store.transaction() as db:
        audit.append(
            db,
            "operator",
            "import_bundle",
            str(args.file),
            {
                "device_id": parsed.device_id,
                "items": parsed.count,
                "accepted": accepted,
                "duplicates": duplicates,
                "refused": len(refused),
            },
        )
    print(
        tr(
            lang,
            "Bundle delivered: {accepted} new, {duplicates} already at the portal, "
            "{refused} refused.",
            accepted=accepted,
            duplicates=duplicates,
            refused=len(refused),
        )
    )
    for r in refused:
        # Said from the reason code; the portal's English ``reason`` is for its logs.
        reason = reasons.say(lang, r.get("code"), r.get("params"))
        print(tr(lang, "  {id}: {reason}", id=r.get("id"), reason=reason))
    return 0

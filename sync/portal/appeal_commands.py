"""`kiosk portal appeals queue|decide`: the ombudsman's queue and decisions from the
portal's machine (issue 16, docs/appeals.md).

The same rules as the staff API, not a second copy of them: ``queue`` reads the
storage's `appeal_queue` (the status rule is there), ``decide`` calls
`sync.portal.staff_api.decide_appeal` (the role check `staff_api.ombudsman`, the
note's cleaning, then the storage's `decide_appeal`: the decision reasons, the
overturn, the history, the audit and the crash point are all there). ``queue`` needs
no account: it runs beside the storage, where the portal's administrator reads the
database anyway. Who decides is ``--actor``, an enabled staff account: only
an ombudsman's is accepted, as only an ombudsman's token is on the API, and it is the
name the history and the audit record. A refusal is said in ``--lang`` from its
registered reason (`kiosk.reasons.say`) and exits 2; a portal that cannot be opened, 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kiosk import cliutil, tracking
from kiosk import decisions as explained
from kiosk.i18n import N_, tr
from kiosk.textnorm import escape_unprintable
from sync.portal import appeals
from sync.portal.open_portal import add_portal_dir, guarded, open_storage
from sync.portal.staff import MAX_NOTE

if TYPE_CHECKING:
    from sync.portal.appeals import QueueEntry

IDENTIFIED: dict[str, str] = {
    "pinfl": N_("the applicant (PINFL matched the application's)"),
    "operator_id_check": N_("ID document checked by operator {operator}"),
}


def add_commands(psub: cliutil.Subcommands) -> None:
    """``appeals queue`` and ``appeals decide`` under ``kiosk portal``."""
    group = cliutil.add_command(psub, "appeals", "the ombudsman's appeals queue", _usage)
    group.set_defaults(_group=group)
    actions = group.add_subparsers(dest="appeals_command", metavar="ACTION")
    queue = cliutil.add_command(
        actions, "queue", "appeals with the decision appealed, its reason and grounds", cmd_queue
    )
    add_portal_dir(queue)
    queue.add_argument(
        "--status",
        default=None,
        metavar="STATUS",
        help=f"{', '.join(appeals.STATUSES)} (default: those not decided)",
    )
    queue.add_argument("--limit", type=int, default=200, metavar="N", help="at most N appeals")
    queue.add_argument("--json", action="store_true", help="print JSON (the API's entries)")
    decide = cliutil.add_command(
        actions, "decide", "an ombudsman sets an appeal's status", cmd_decide
    )
    add_portal_dir(decide)
    decide.add_argument("tracking_code", metavar="CODE", help="the appeal's own tracking code")
    decide.add_argument(
        "--status", required=True, metavar="STATUS", help=", ".join(appeals.DECISIONS)
    )
    decide.add_argument("--note", default=None, help="a note the citizen is shown")
    decide.add_argument(
        "--application-status",
        default="in_review",
        metavar="STATUS",
        help="overturned only: the application's new status "
        f"({' or '.join(appeals.AFTER_OVERTURN)})",
    )
    decide.add_argument(
        "--actor", required=True, metavar="NAME", help="the ombudsman's staff account name"
    )


def _usage(args: argparse.Namespace) -> int:
    args._group.print_help(sys.stderr)
    return 2


def _refused(lang: str, body: Mapping[str, object]) -> str:
    from kiosk import reasons

    return reasons.say(lang, body.get("code"), body.get("params"))


@guarded
def cmd_queue(args: argparse.Namespace) -> int:
    """The queue, oldest first, from the storage's `appeal_queue` (what the API reads)."""
    from sync.portal.staff import DecisionRefused

    lang = cliutil.lang(args)
    if not 1 <= args.limit <= 10_000:
        return cliutil.fail(tr(lang, "--limit must be between 1 and 10000."))
    store = open_storage(args)
    try:
        entries = store.appeal_queue(args.status, args.limit)
    except DecisionRefused as exc:
        said = _refused(lang, exc.body)
        return cliutil.fail(tr(lang, "Cannot list the appeals: {reason}", reason=said))
    finally:
        store.close()
    if args.json:
        cliutil.print_json(entries)
        return 0
    if not entries:
        print(tr(lang, "No appeals in the queue."))
        return 0
    for entry in entries:
        # What a kiosk sent is shown, never obeyed: control characters escaped.
        print("\n".join(escape_unprintable(line) for line in _block(entry, lang)))
        print()
    return 0


def _block(entry: QueueEntry, lang: str) -> list[str]:
    """One appeal, human-readable: the appeal, the decision appealed with its reason,
    explanation and who made it, who appealed, and the grounds."""
    app = entry["application"]
    titles = app["titles"]
    service = titles.get(lang) or titles.get("uz_Latn") or app["service"]
    reason = app["reason_code"]
    said = explained.reason_text(lang, reason) or (reason or "-")
    lines = [
        tr(
            lang,
            "Appeal {code}: status {status}, arrived {at}",
            code=tracking.format_code(entry["tracking_code"]),
            status=entry["status"],
            at=entry["received_at"],
        ),
        "  "
        + tr(
            lang,
            "Application {code} ({service}), status now: {status}",
            code=tracking.format_code(app["tracking_code"]),
            service=service,
            status=app["status_now"],
        ),
        "  "
        + (
            tr(
                lang,
                "Appealed: no decision past its deadline (status {status})",
                status=app["status_appealed"],
            )
            if app["stalled"]
            else tr(
                lang,
                "Appealed: {status} on {at}",
                status=app["status_appealed"],
                at=app["decided_at"] or "-",
            )
        ),
    ]
    if reason:
        lines.append("  " + tr(lang, "Reason: {reason}", reason=f"{said} [{reason}]"))
        explanation = explained.explain(lang, reason)
        if explanation:
            lines.append("  " + explanation)
    lines.append("  " + explained.who_decided(lang, app["automated"]))
    how = entry["identified_by"]
    if how is not None and how in IDENTIFIED:
        who = tr(lang, IDENTIFIED[how], operator=entry["operator_id"] or "-")
    else:
        who = tr(lang, "not checked (appealed before the applicant check)")
    lines.append("  " + tr(lang, "Appellant: {who}", who=who))
    lines.append("  " + tr(lang, "Grounds: {text}", text=entry["grounds"]))
    return lines


@guarded
def cmd_decide(args: argparse.Namespace) -> int:
    """The decision through `staff_api.decide_appeal`, made as ``--actor``'s account."""
    from pydantic import ValidationError

    from sync.portal import staff_api
    from sync.portal.models import AppealStatusRequest
    from sync.portal.rules import Refusal
    from sync.portal.staff import StaffMember

    lang = cliutil.lang(args)
    note = args.note
    if note is not None and len(note) > MAX_NOTE:
        return cliutil.fail(tr(lang, "The note may have at most {n} characters.", n=MAX_NOTE))
    try:
        body = AppealStatusRequest(
            status=args.status, note=note, application_status=args.application_status
        )
    except ValidationError:  # a status or application status longer than any
        said = _refused(
            lang,
            {
                "code": "status.unknown",
                "params": {"status": args.status[:40], "expected": ", ".join(appeals.DECISIONS)},
            },
        )
        return cliutil.fail(tr(lang, "Cannot decide the appeal: {reason}", reason=said))
    store = open_storage(args)
    try:
        account = next(
            (
                row
                for row in store.staff_accounts()
                if row["name"] == args.actor and row["disabled_at"] is None
            ),
            None,
        )
        if account is None:
            return cliutil.fail(
                tr(
                    lang,
                    "No enabled staff account is named {name} (kiosk portal staff list).",
                    name=args.actor[:64],
                )
            )
        who = StaffMember(account["name"], account["role"])
        try:
            done = staff_api.decide_appeal(store, who, args.tracking_code, body)
        except Refusal as exc:
            return cliutil.fail(
                tr(lang, "Cannot decide the appeal: {reason}", reason=_refused(lang, exc.body))
            )
    finally:
        store.close()
    print(
        tr(
            lang,
            "{code}: the appeal is now {status} ({reason}).",
            code=done["tracking_code"],
            status=done["status"],
            reason=explained.reason_text(lang, done["reason_code"]) or done["reason_code"],
        )
    )
    if done["application_status"] is not None:
        print(
            tr(
                lang,
                "The application {code} is now {status}.",
                code=done["application_code"],
                status=done["application_status"],
            )
        )
    return 0

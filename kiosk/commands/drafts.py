"""`kiosk drafts list`, `kiosk drafts discard SLOT|ID` and `kiosk drafts purge`.

What an operator can do with drafts they cannot open (kiosk/drafts.py): see them
(slot, form, times, lock; nothing of the citizen), discard one (audited,
``draft_discarded``), and delete the expired ones now rather than at the next start.
"""

from __future__ import annotations

import argparse

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.i18n import tr


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "drafts", "list or discard drafts saved for later", _usage)
    actions = parser.add_subparsers(dest="drafts_command", metavar="ACTION")
    listing = add_command(actions, "list", "list drafts (nothing personal)", _list)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    discard = add_command(actions, "discard", "discard a draft (audited)", _discard)
    discard.add_argument("ref", metavar="SLOT|ID", help="the draft's slot (00-99) or id")
    add_command(actions, "purge", "delete expired drafts now", _purge)
    parser.set_defaults(_drafts_parser=parser)


def _usage(args: argparse.Namespace) -> int:
    args._drafts_parser.print_help()
    return 2


def _list(args: argparse.Namespace) -> int:
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            rows = store.list_drafts()
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(tr(language, "No drafts are saved."))
        return 0
    for row in rows:
        line = tr(
            language,
            "slot {slot}  {form} v{version}  created {created}  expires {expires}",
            slot=f"{row['slot']:02d}",
            form=row["form_id"],
            version=row["form_version"],
            created=row["created_at"][:16],
            expires=row["expires_at"][:16],
        )
        if row["locked_until"]:
            line += "  " + tr(language, "locked until {until}", until=row["locked_until"][:16])
        print(f"{line}  {row['id']}")
    return 0


def _discard(args: argparse.Namespace) -> int:
    from kiosk import drafts
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            info = drafts.discard(store, args.ref.strip(), "cli")
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if info is None:
        return fail(tr(language, "No draft with this slot or id: {ref}", ref=args.ref), 1)
    print(tr(language, "Draft discarded: slot {slot}", slot=f"{info['slot']:02d}"))
    return 0


def _purge(args: argparse.Namespace) -> int:
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            gone = store.purge_drafts()
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    print(tr(language, "Expired drafts deleted: {n}", n=gone))
    return 0

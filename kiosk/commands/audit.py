"""`kiosk audit verify`: prove the audit log was not edited, cut or padded."""

from __future__ import annotations

import argparse

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "audit", "inspect the audit log", _usage)
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = add_command(
        actions, "verify", "check the audit hash chain (exit 1 if broken)", _verify
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(_audit_parser=parser)


def _usage(args: argparse.Namespace) -> int:
    args._audit_parser.print_help()
    return 2


def _verify(args: argparse.Namespace) -> int:
    from kiosk import audit
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            report = audit.verify(store.db)
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if args.json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_seq": report.first_bad_seq,
                "problem": report.problem,
                "message": report.describe(language),
            }
        )
    else:
        print(report.describe(language))
    return 0 if report.ok else 1

"""`kiosk key install FILE`: install the portal's sealing key before enrolment.

A kiosk seals every submission to the portal's sealing key (docs/keys.md, "Sealing
keys") and refuses to submit without one. Enrolment brings the key; before that (a
demo's first minutes, a field laptop never enrolled) it is installed with the kiosk,
like its catalog, from the file ``kiosk portal export-sealing-key`` writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store
from kiosk.errors import os_error_text
from kiosk.i18n import tr


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "key", "the portal's sealing key (install before enrolment)", _usage)
    ksub = parser.add_subparsers(dest="key_command", metavar="KEY_COMMAND")
    install = add_command(ksub, "install", "install a sealing key file from the portal", _install)
    install.add_argument("file", type=Path, metavar="FILE")


def _usage(args: argparse.Namespace) -> int:
    return fail(tr(lang(args), "Say what to do: kiosk key install FILE"), 2)


def _install(args: argparse.Namespace) -> int:
    from kiosk import seal_store
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        data = Path(args.file).expanduser().read_bytes()[: seal_store.MAX_KEY_FILE + 1]
    except OSError as exc:
        said = os_error_text(exc, language)
        return fail(tr(language, "Cannot read the file: {error}", error=said), 1)
    try:
        with open_store(args) as store, store.transaction() as db:
            key = seal_store.install(db, data)
    except seal_store.KeyFileRefused as exc:
        return fail(exc.message(language), 1)
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    print(tr(language, "Sealing key {key_id} installed.", key_id=key["key_id"]))
    return 0

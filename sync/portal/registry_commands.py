"""`kiosk portal registry load FILE | count`: the reference registry's table.

``load`` reads a CSV of SYNTHETIC people (`sync.portal.registry_synth` makes one;
never real data), checks every line (PINFL checksum, the birth date it encodes, phone,
benefit status) and writes them all in one transaction, or none with the line at
fault named. ``count`` says how many people the table holds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk import cliutil
from kiosk.i18n import tr
from sync.portal import registry
from sync.portal.open_portal import add_portal_dir, guarded, open_storage


def add_commands(psub: cliutil.Subcommands) -> None:
    reg = psub.add_parser("registry", help="the reference registry of synthetic people")
    cliutil.add_common(reg)
    rsub = reg.add_subparsers(dest="registry_command", metavar="REGISTRY_COMMAND")
    reg.set_defaults(handler=lambda args: cliutil.fail(reg.format_usage().strip()))
    load = cliutil.add_command(
        rsub, "load", "load a CSV of synthetic people into the registry table", cmd_load
    )
    add_portal_dir(load)
    load.add_argument("file", type=Path, metavar="FILE")
    count = cliutil.add_command(rsub, "count", "how many people the registry holds", cmd_count)
    add_portal_dir(count)


@guarded
def cmd_load(args: argparse.Namespace) -> int:
    from sync.portal.store import PortalStore

    lang = cliutil.lang(args)
    try:
        people = registry.read_csv(args.file.expanduser())
    except registry.RegistryError as exc:
        return cliutil.fail(tr(lang, "Cannot load the registry: {reason}", reason=str(exc)))
    except (OSError, UnicodeDecodeError) as exc:
        return cliutil.fail(tr(lang, "Cannot read {path}: {error}", path=str(args.file), error=exc))
    store = open_storage(args)
    try:
        if not isinstance(store, PortalStore):  # pragma: no cover - one backend class today
            return cliutil.fail(tr(lang, "This portal's storage has no registry table."), 1)
        with store.transaction() as conn:
            written = registry.load(conn, people)
    finally:
        store.close()
    print(tr(lang, "{count} people loaded into the registry.", count=written))
    return 0


@guarded
def cmd_count(args: argparse.Namespace) -> int:
    from sync.portal.store import PortalStore

    store = open_storage(args)
    try:
        if not isinstance(store, PortalStore):  # pragma: no cover
            return cliutil.fail(
                tr(cliutil.lang(args), "This portal's storage has no registry table."), 1
            )
        with store.transaction() as conn:
            print(registry.count(conn))
    finally:
        store.close()
    return 0

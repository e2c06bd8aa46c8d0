"""`kiosk portal serve|enrolment-code|pin|staff|set-status|appeals|stats|add-form|revoke-device|
rotate-signing-key|rotate-sealing-key|export-sealing-key|devices|registry`: `register`, the one entry point, and the admin commands.

``serve`` is in `sync.portal.serve`, ``enrolment-code`` and ``pin`` in
`sync.portal.enrol_commands`, ``staff`` and ``set-status`` (through the staff API) in
`sync.portal.staff_commands`, ``appeals`` in `sync.portal.appeal_commands`, what they all share (``--portal-dir``, opening the
storage) in `sync.portal.open_portal`. The commands here each do one thing to the
portal's storage: print counts or devices, add a form, revoke a
device, rotate the catalog signing key.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import cliutil
from kiosk.i18n import N_, tr
from sync.portal import (
    appeal_commands,
    enrol_commands,
    participation_commands,
    registry_commands,
    serve,
    staff_commands,
)
from sync.portal.open_portal import add_portal_dir, guarded, open_storage, portal_dir


def register(sub: cliutil.Subcommands) -> None:
    portal = sub.add_parser("portal", help="the reference portal (for tests and demos)")
    cliutil.add_common(portal)
    portal.set_defaults(handler=lambda args: _usage(portal))
    psub = portal.add_subparsers(dest="portal_command", metavar="PORTAL_COMMAND")
    serve.add_command(psub)
    enrol_commands.add_commands(psub)

    staff_commands.add_commands(psub)  # staff add|list|disable, set-status (staff API)
    appeal_commands.add_commands(psub)  # appeals queue|decide (the ombudsman's)
    participation_commands.add_commands(psub)  # season publish|tally, petition list|threshold
    registry_commands.add_commands(psub)  # registry load|count (synthetic people)

    stats = cliutil.add_command(psub, "stats", "counts of submissions and outcomes", cmd_stats)
    add_portal_dir(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--device", default=None, metavar="DEVICE_ID", help="one device only")

    add_form = cliutil.add_command(psub, "add-form", "add an XLSForm to the catalog", cmd_add_form)
    add_portal_dir(add_form)
    add_form.add_argument("file", type=Path, metavar="FILE")

    revoke = cliutil.add_command(
        psub, "revoke-device", "revoke a device's token", cmd_revoke_device
    )
    add_portal_dir(revoke)
    revoke.add_argument("device_id", metavar="DEVICE_ID")

    rotate = cliutil.add_command(
        psub,
        "rotate-signing-key",
        "make a new catalog signing key, vouched for by the current one",
        cmd_rotate_signing_key,
    )
    add_portal_dir(rotate)

    rotate_sealing = cliutil.add_command(
        psub,
        "rotate-sealing-key",
        "make a new sealing key; kiosks take it at their next sync, old keys are kept",
        cmd_rotate_sealing_key,
    )
    add_portal_dir(rotate_sealing)

    export_key = cliutil.add_command(
        psub,
        "export-sealing-key",
        "write the sealing key file a kiosk installs before enrolment (kiosk key install)",
        cmd_export_sealing_key,
    )
    add_portal_dir(export_key)
    export_key.add_argument("file", type=Path, metavar="FILE")

    devices = cliutil.add_command(
        psub, "devices", "list devices with their audit anchor and flags", cmd_devices
    )
    add_portal_dir(devices)
    devices.add_argument("--json", action="store_true", help="print JSON")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


@guarded
def cmd_stats(args: argparse.Namespace) -> int:
    store = open_storage(args)
    stats = store.stats(args.device)
    if args.json:
        cliutil.print_json(stats)
    else:
        lang = cliutil.lang(args)
        for key, value in stats.items():
            print(tr(lang, "{name}: {value}", name=key, value=value))
        for row in store.devices():  # the flagged ones, with the reason
            flag = row["audit_flag"]
            if flag and args.device in (None, row["device_id"]):
                reason = tr(lang, AUDIT_FLAGS.get(flag, flag))
                print(
                    tr(
                        lang,
                        "Device {id} ({name}) FLAGGED at audit entry {seq}: {reason}",
                        id=row["device_id"],
                        name=row["name"],
                        seq=row["flag_seq"],
                        reason=reason,
                    )
                )
    return 0


@guarded
def cmd_add_form(args: argparse.Namespace) -> int:
    lang = cliutil.lang(args)
    from kiosk.catalog import CatalogError, load_form_file

    try:
        form = load_form_file(args.file)
    except CatalogError as exc:  # a clear message, no traceback
        return cliutil.fail(tr(lang, "Cannot load the form: {reason}", reason=str(exc)))
    added = open_storage(args).add_form(
        form.id, form.version, getattr(form, "category", "") or "", form.spec, "admin"
    )
    if added:
        print(tr(lang, "Form {id} version {version} added.", id=form.id, version=form.version))
    else:
        print(
            tr(
                lang,
                "Form {id} version {version} was already there.",
                id=form.id,
                version=form.version,
            )
        )
    return 0


@guarded
def cmd_revoke_device(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    try:
        open_storage(args).revoke_device(args.device_id)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot revoke: {reason}", reason=str(exc)))
    print(tr(lang, "Device {id} revoked.", id=args.device_id))
    return 0


@guarded
def cmd_rotate_signing_key(args: argparse.Namespace) -> int:
    """A new key signs from now on; the catalog carries the statement that the old one
    trusts it, so kiosks that pinned the old key pin the new one at their next sync."""
    from sync.portal.keys import PortalKeys

    lang = cliutil.lang(args)
    store = open_storage(args)  # checks the key files' permissions first
    store.close()
    old = PortalKeys(portal_dir(args)).current()["key_id"]
    statement = PortalKeys(portal_dir(args)).rotate()
    print(
        tr(
            lang,
            "New signing key {new} (vouched for by {old}); keys are in {dir}",
            new=statement["key_id"],
            old=old,
            dir=str(portal_dir(args) / "keys"),
        )
    )
    return 0


@guarded
def cmd_rotate_sealing_key(args: argparse.Namespace) -> int:
    """A new sealing key for kiosks from their next sync on (the catalog carries it);
    the old private keys stay, so what was sealed to them still opens."""
    from sync.portal.store import PortalStore

    lang = cliutil.lang(args)
    store = open_storage(args)  # checks the key files' permissions first
    try:
        new = store.sealing.rotate() if isinstance(store, PortalStore) else None
    finally:
        store.close()
    if new is None:
        return cliutil.fail(tr(lang, "This portal's storage cannot rotate its sealing key."), 1)
    print(tr(lang, "New sealing key {new}; older keys are kept.", new=new["key_id"]))
    return 0


@guarded
def cmd_export_sealing_key(args: argparse.Namespace) -> int:
    """The current sealing key, signed, with the signing key that vouches for it: what
    ``kiosk key install`` takes (docs/keys.md, "Sealing keys"). Public: no secret in it."""
    from kiosk.seal_store import key_file

    lang = cliutil.lang(args)
    store = open_storage(args)  # checks the key files' permissions first
    try:
        sealing = store.sealing_key()
        signer = next(k for k in store.signing_keys() if k["key_id"] == sealing["signed_by"])
        text = key_file(sealing, signer)
    finally:
        store.close()
    target: Path = args.file.expanduser()
    try:
        target.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        message = tr(lang, "Cannot write {path}: {error}", path=str(target), error=exc.strerror)
        return cliutil.fail(message, 1)
    print(tr(lang, "Sealing key written to {path}", path=str(target)))
    return 0


# `kiosk portal devices`: why a device's audit chain is flagged.
AUDIT_FLAGS = {
    "rewritten": N_("audit log rewritten (an entry the portal holds changed)"),
    "forked": N_("audit log forked (new entries do not follow the ones held)"),
    "backwards": N_("audit log went backwards (entries the portal holds are gone)"),
}


@guarded
def cmd_devices(args: argparse.Namespace) -> int:
    rows = open_storage(args).devices()
    if args.json:
        cliutil.print_json(rows)
        return 0
    lang = cliutil.lang(args)
    for row in rows:
        flag = row["audit_flag"]
        if flag:
            reason = tr(lang, AUDIT_FLAGS.get(flag, flag))
            state = tr(
                lang, "FLAGGED at audit entry {seq}: {reason}", seq=row["flag_seq"], reason=reason
            )
        else:
            state = tr(lang, "audit anchored up to entry {seq}", seq=row["anchored_seq"])
        revoked = tr(lang, " (revoked)") if row["revoked"] else ""
        print(f"{row['device_id']} {row['prefix']} {row['name']}{revoked}: {state}")
    return 0

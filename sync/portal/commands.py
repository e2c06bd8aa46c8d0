"""`kiosk portal serve|enrolment-code|pin|set-status|stats|add-form|revoke-device|
rotate-signing-key|devices`.

The portal keeps its data in ``--portal-dir`` or, by default, ``<data dir>/portal``,
separate from the kiosk's own database. It serves https with ``--certfile`` and
``--keyfile`` (the key readable by the portal's user only); plain http only on a
loopback address. Where the key lives and how to rotate it: docs/sync-protocol.md,
"TLS and pins".
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import cliutil
from kiosk.i18n import N_, tr
from sync import tls

if TYPE_CHECKING:
    from sync.portal.storage import PortalStorage

logger = logging.getLogger(__name__)


def register(sub: cliutil.Subcommands) -> None:
    portal = sub.add_parser("portal", help="the reference portal (for tests and demos)")
    cliutil.add_common(portal)
    portal.set_defaults(handler=lambda args: _usage(portal))
    psub = portal.add_subparsers(dest="portal_command", metavar="PORTAL_COMMAND")

    serve = cliutil.add_command(psub, "serve", "serve the portal API over HTTP", cmd_serve)
    _portal_dir(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    serve.add_argument(
        "--revalidate", action="store_true", help="re-check answers with the form engine"
    )
    serve.add_argument(
        "--no-bundled", action="store_true", help="do not load the kiosk's bundled forms"
    )
    serve.add_argument(
        "--certfile", type=Path, default=None, metavar="PEM", help="TLS certificate chain (PEM)"
    )
    serve.add_argument(
        "--keyfile", type=Path, default=None, metavar="PEM", help="TLS private key (PEM, mode 0600)"
    )

    code = cliutil.add_command(psub, "enrolment-code", "print a one-time enrolment code", cmd_code)
    _portal_dir(code)
    code.add_argument(
        "--name", required=True, metavar="NAME", help="the name the device is registered under"
    )
    code.add_argument(
        "--device",
        default=None,
        metavar="DEVICE_ID",
        help="only this device may use the code (needed to re-enrol a known device)",
    )
    code.add_argument(
        "--ttl",
        default="24h",
        metavar="DURATION",
        help="how long the code is valid, on the portal's clock: 90m, 24h, 7d (default 24h)",
    )
    code.add_argument(
        "--file", type=Path, default=None, metavar="PATH", help="also write an enrolment file"
    )
    code.add_argument(
        "--url", default=None, metavar="URL", help="the portal's URL as kiosks reach it"
    )
    code.add_argument(
        "--certfile",
        type=Path,
        default=None,
        metavar="PEM",
        help="the portal's certificate chain: the pin is its first certificate's key",
    )
    code.add_argument(
        "--pin-ca",
        action="store_true",
        help="pin the last certificate of --certfile (the CA) instead of the first",
    )
    code.add_argument(
        "--backup-pin",
        action="append",
        default=[],
        metavar="SHA256",
        help="a backup key's pin (`kiosk portal pin BACKUP.pem`); repeatable",
    )

    pin = cliutil.add_command(
        psub, "pin", "print the key pin (SPKI SHA-256) of certificates or keys", cmd_pin
    )
    pin.add_argument("files", type=Path, nargs="+", metavar="PEM")

    status = cliutil.add_command(
        psub, "set-status", "change an application's status", cmd_set_status
    )
    _portal_dir(status)
    status.add_argument("tracking_code", metavar="TRACKING_CODE")
    status.add_argument("status", metavar="STATUS")
    status.add_argument("--note", default=None)

    stats = cliutil.add_command(psub, "stats", "counts of submissions and outcomes", cmd_stats)
    _portal_dir(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--device", default=None, metavar="DEVICE_ID", help="one device only")

    add_form = cliutil.add_command(psub, "add-form", "add an XLSForm to the catalog", cmd_add_form)
    _portal_dir(add_form)
    add_form.add_argument("file", type=Path, metavar="FILE")

    revoke = cliutil.add_command(
        psub, "revoke-device", "revoke a device's token", cmd_revoke_device
    )
    _portal_dir(revoke)
    revoke.add_argument("device_id", metavar="DEVICE_ID")

    rotate = cliutil.add_command(
        psub,
        "rotate-signing-key",
        "make a new catalog signing key, vouched for by the current one",
        cmd_rotate_signing_key,
    )
    _portal_dir(rotate)

    devices = cliutil.add_command(
        psub, "devices", "list devices with their audit anchor and flags", cmd_devices
    )
    _portal_dir(devices)
    devices.add_argument("--json", action="store_true", help="print JSON")


def _portal_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--portal-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the portal's own data directory (default: <data dir>/portal)",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def portal_dir(args: argparse.Namespace) -> Path:
    chosen = getattr(args, "portal_dir", None)
    return Path(chosen).expanduser() if chosen else cliutil.data_dir(args) / "portal"


class PortalUnusable(Exception):
    """The portal cannot open its storage or keys; ``message`` is in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _open(args: argparse.Namespace) -> PortalStorage:
    """The portal's storage (SQLite, its only backend today); PortalUnusable when its
    signing keys cannot be used (a key file others may read: docs/keys.md)."""
    from sync.portal.keys import KeyFileError
    from sync.portal.store import PortalStore

    try:
        return PortalStore(portal_dir(args))
    except KeyFileError as exc:
        raise PortalUnusable(exc.message(cliutil.lang(args))) from None


def load_bundled_forms(store: PortalStorage) -> list[str]:
    """Put the kiosk's bundled forms in the portal's catalog; returns warnings."""
    from kiosk.catalog import bundled_form_files, load_form_file

    warnings: list[str] = []
    for path in bundled_form_files():
        try:
            form = load_form_file(path)
        except Exception as exc:  # one broken form must not stop the portal
            logger.info("bundled form %s not loaded", path.name, exc_info=True)
            warnings.append(f"{path.name}: {exc}")
            continue
        store.add_form(
            form.id, form.version, getattr(form, "category", "") or "", form.spec, "bundled"
        )
    return warnings


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.portal.app import create_app

    lang = cliutil.lang(args)
    if not 0 <= args.port <= 65535:
        return cliutil.fail(tr(lang, "The port must be between 0 and 65535."))
    problem = _tls_problem(args)
    if problem:
        msgid, values = problem
        return cliutil.fail(tr(lang, msgid, **values))
    tls_on = args.certfile is not None
    try:
        app = create_app(portal_dir(args), revalidate=args.revalidate, store=_open(args))
    except PortalUnusable as exc:
        return cliutil.fail(exc.message, 1)
    warnings = [] if args.no_bundled else load_bundled_forms(app.state.store)
    for warning in warnings:
        print(tr(lang, "Warning: {warning}", warning=warning), file=sys.stderr)
    # Bind here, so port 0 works and the real port is known before serving.
    try:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto
        # says TCP, and without it every response waits ~40 ms for a delayed ACK.
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as exc:
        return cliutil.fail(
            tr(
                lang,
                "Cannot listen on {host}:{port}: {error}",
                host=args.host,
                port=args.port,
                error=exc.strerror,
            ),
            1,
        )
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    scheme = "https" if tls_on else "http"
    print(tr(lang, "Portal listening on {url}", url=f"{scheme}://{host}:{port}"), flush=True)
    if tls_on:
        for pin in tls.pem_pins(args.certfile.read_bytes()):
            print(tr(lang, "Key pin: {pin}", pin=pin), flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        ssl_certfile=str(args.certfile) if tls_on else None,
        ssl_keyfile=str(args.keyfile) if tls_on else None,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def parse_ttl(text: str) -> timedelta | None:
    """``90m``, ``24h``, ``7d`` or a number of hours; None when it is none of those."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in ("m", "h", "d") else "h"
    number = value.removesuffix(unit) if value.endswith(unit) else value
    try:
        amount = float(number)
    except ValueError:
        return None
    if not 0 < amount < 1e6:  # NaN fails too
        return None
    unit_name = {"m": "minutes", "h": "hours", "d": "days"}[unit]
    return timedelta(**{unit_name: amount})


def _tls_problem(args: argparse.Namespace) -> tuple[str, dict[str, object]] | None:
    """Why `serve` must not start with these TLS options (a msgid and its values), if so.

    Plain http only on loopback; a key file others can read is refused (the portal's
    key is its identity: a copy lets anyone impersonate it to every kiosk).
    """
    import ssl

    if (args.certfile is None) != (args.keyfile is None):
        return N_("Give both --certfile and --keyfile, or neither."), {}
    if args.certfile is None:
        if tls.is_loopback(args.host):
            return None
        return (
            N_(
                "Plain http is only for this computer (loopback). To listen on {host}, "
                "give --certfile and --keyfile."
            ),
            {"host": args.host},
        )
    try:
        mode = args.keyfile.stat().st_mode
    except OSError as exc:
        return (
            N_("Cannot read {path}: {error}"),
            {"path": str(args.keyfile), "error": exc.strerror or str(exc)},
        )
    if mode & 0o077:
        return (
            N_(
                "The key file {path} can be read by other users: make it readable by the "
                "portal's user only (chmod 600)."
            ),
            {"path": str(args.keyfile)},
        )
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            args.certfile, args.keyfile
        )
        tls.pem_pins(args.certfile.read_bytes())
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        return (
            N_("Cannot use the certificate {cert} with the key {key}: {error}"),
            {"cert": str(args.certfile), "key": str(args.keyfile), "error": str(exc)[:200]},
        )
    return None


def _code_pins(args: argparse.Namespace) -> list[str]:
    """The pins an enrolment code goes out with: --certfile's (leaf or CA), then backups."""
    pins: list[str] = []
    if args.certfile is not None:
        chain = tls.pem_pins(args.certfile.read_bytes())
        if not chain:
            raise tls.PinError(N_("No certificate or key found in the file."))
        pins.append(chain[-1] if args.pin_ca else chain[0])
    return list(tls.parse_pins([*pins, *args.backup_pin]))


Command = Callable[[argparse.Namespace], int]


def _guarded(handler: Command) -> Command:
    """A command that says why the portal cannot be opened, instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            code: int = handler(args)
        except PortalUnusable as exc:
            return cliutil.fail(exc.message, 1)
        return code

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@_guarded
def cmd_code(args: argparse.Namespace) -> int:
    """Print the code alone on the first line (scripts read it), then the pins; what the
    code is for goes to stderr. ``--file`` also writes an enrolment file."""
    from kiosk.wire import now_iso
    from sync import enrolfile
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    ttl = parse_ttl(args.ttl)
    if ttl is None:
        return cliutil.fail(
            tr(
                lang,
                "Cannot read the validity {ttl}: write for example 90m, 24h or 7d.",
                ttl=args.ttl,
            )
        )
    try:
        pins = _code_pins(args)
    except (OSError, ValueError) as exc:
        return cliutil.fail(tr(lang, "Cannot read the certificate: {error}", error=str(exc)[:200]))
    except tls.PinError as exc:
        return cliutil.fail(exc.message(lang))
    if args.file is not None:
        if not args.url:
            return cliutil.fail(tr(lang, "An enrolment file needs the portal's --url."))
        try:
            origin = tls.check_url(args.url)
        except tls.UrlError as exc:
            return cliutil.fail(exc.message(lang))
        if origin.startswith("https://") and not pins:
            return cliutil.fail(
                tr(lang, "An https portal's enrolment file needs --certfile or --backup-pin.")
            )
        if not args.file.expanduser().parent.is_dir():
            return cliutil.fail(
                tr(lang, "The folder {path} does not exist.", path=str(args.file.parent))
            )
    store = _open(args)
    try:
        if args.device and store.device(args.device) is None:
            print(
                tr(
                    lang,
                    "Note: no device {id} is enrolled yet; the code will enrol it as a new device.",
                    id=args.device,
                ),
                file=sys.stderr,
            )
        code = store.create_enrolment_code(args.name, args.device, ttl)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot make the code: {reason}", reason=str(exc)))
    finally:
        store.close()
    expires = datetime.now(UTC) + ttl
    print(code)
    for pin in pins:
        print(tr(lang, "Key pin: {pin}", pin=pin))
        print(tr(lang, "Key pin (hex, for a scanner): {pin}", pin=tls.pin_hex(pin)))
    until = expires.strftime("%Y-%m-%d %H:%M UTC")
    if args.device:
        text = tr(
            lang,
            "One-time code for device {id}, registered as {name}; valid until {until}.",
            id=args.device,
            name=args.name.strip(),
            until=until,
        )
    else:
        text = tr(
            lang,
            "One-time code for a new device, registered as {name}; valid until {until}.",
            name=args.name.strip(),
            until=until,
        )
    print(text, file=sys.stderr)
    if args.file is not None:
        enrolment = enrolfile.Enrolment(
            args.url.strip().rstrip("/"),
            code,
            tuple(pins),
            now_iso(expires),
            name=args.name.strip(),
            device_id=args.device,
        )
        try:
            enrolfile.write(args.file.expanduser(), enrolment)
        except OSError as exc:
            return cliutil.fail(
                tr(
                    lang,
                    "Cannot write {path}: {error}",
                    path=str(args.file),
                    error=exc.strerror or str(exc),
                ),
                1,
            )
        print(tr(lang, "Enrolment file written: {path}", path=str(args.file)))
    return 0


def cmd_pin(args: argparse.Namespace) -> int:
    """Print ``sha256/...`` and hex for each certificate (or key) in each file."""
    lang = cliutil.lang(args)
    for path in args.files:
        try:
            pins = tls.file_pins(path.expanduser().read_bytes())
        except OSError as exc:
            return cliutil.fail(
                tr(lang, "Cannot read {path}: {error}", path=str(path), error=exc.strerror), 1
            )
        except (tls.PinError, ValueError) as exc:
            message = exc.message(lang) if isinstance(exc, tls.PinError) else str(exc)[:200]
            return cliutil.fail(tr(lang, "{path}: {error}", path=str(path), error=message))
        for pin in pins:
            print(f"{path}: {pin} {tls.pin_hex(pin)}")
    return 0


@_guarded
def cmd_set_status(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    try:
        result = _open(args).set_status(args.tracking_code, args.status, args.note)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot change the status: {reason}", reason=str(exc)))
    print(
        tr(
            lang,
            "{code}: status is now {status}",
            code=result["tracking_code"],
            status=result["status"],
        )
    )
    return 0


@_guarded
def cmd_stats(args: argparse.Namespace) -> int:
    store = _open(args)
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


@_guarded
def cmd_add_form(args: argparse.Namespace) -> int:
    lang = cliutil.lang(args)
    from kiosk.catalog import CatalogError, load_form_file

    try:
        form = load_form_file(args.file)
    except CatalogError as exc:  # a clear message, no traceback
        return cliutil.fail(tr(lang, "Cannot load the form: {reason}", reason=str(exc)))
    added = _open(args).add_form(
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


@_guarded
def cmd_revoke_device(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    try:
        _open(args).revoke_device(args.device_id)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot revoke: {reason}", reason=str(exc)))
    print(tr(lang, "Device {id} revoked.", id=args.device_id))
    return 0


@_guarded
def cmd_rotate_signing_key(args: argparse.Namespace) -> int:
    """A new key signs from now on; the catalog carries the statement that the old one
    trusts it, so kiosks that pinned the old key pin the new one at their next sync."""
    from sync.portal.keys import PortalKeys

    lang = cliutil.lang(args)
    store = _open(args)  # checks the key files' permissions first
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


# `kiosk portal devices`: why a device's audit chain is flagged.
AUDIT_FLAGS = {
    "rewritten": N_("audit log rewritten (an entry the portal holds changed)"),
    "forked": N_("audit log forked (new entries do not follow the ones held)"),
    "backwards": N_("audit log went backwards (entries the portal holds are gone)"),
}


@_guarded
def cmd_devices(args: argparse.Namespace) -> int:
    rows = _open(args).devices()
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

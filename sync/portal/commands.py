"""`kiosk portal serve|enrolment-code|set-status|stats|add-form|revoke-device`.

The portal keeps its data in ``--portal-dir`` or, by default, ``<data dir>/portal``,
separate from the kiosk's own database.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import cliutil
from kiosk.i18n import tr

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


def _open(args: argparse.Namespace) -> PortalStorage:
    """The portal's storage (SQLite, its only backend today)."""
    from sync.portal.store import PortalStore

    return PortalStore(portal_dir(args))


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
    directory = portal_dir(args)
    app = create_app(directory, revalidate=args.revalidate)
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
    print(tr(lang, "Portal listening on {url}", url=f"http://{host}:{port}"), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
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


def cmd_code(args: argparse.Namespace) -> int:
    """Print the code alone on stdout (scripts read it); what it is for goes to stderr."""
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
    print(code)
    until = (datetime.now(UTC) + ttl).strftime("%Y-%m-%d %H:%M UTC")
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
    return 0


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


def cmd_stats(args: argparse.Namespace) -> int:
    stats = _open(args).stats(args.device)
    if args.json:
        cliutil.print_json(stats)
    else:
        lang = cliutil.lang(args)
        for key, value in stats.items():
            print(tr(lang, "{name}: {value}", name=key, value=value))
    return 0


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


def cmd_revoke_device(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    try:
        _open(args).revoke_device(args.device_id)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot revoke: {reason}", reason=str(exc)))
    print(tr(lang, "Device {id} revoked.", id=args.device_id))
    return 0

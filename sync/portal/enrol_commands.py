"""`kiosk portal enrolment-code` and `kiosk portal pin`: what an administrator hands a kiosk.

A one-time code (bound to a name, maybe a device, valid for ``--ttl`` on the
portal's clock) goes out with the key pins the kiosk will trust, as text or as an
enrolment file (`sync.enrolfile`); ``pin`` prints the pins of certificates or keys,
e.g. a backup key's, to give with ``--backup-pin``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import cliutil
from kiosk.i18n import N_, tr
from sync import tls
from sync.portal.open_portal import add_portal_dir, guarded, open_storage


def add_commands(psub: cliutil.Subcommands) -> None:
    """``enrolment-code`` and ``pin`` and their options, under ``kiosk portal``."""
    code = cliutil.add_command(psub, "enrolment-code", "print a one-time enrolment code", cmd_code)
    add_portal_dir(code)
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
        "--region",
        default=None,
        metavar="NAME",
        help="the device's region, for open data (devices without one count as unknown)",
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


def _code_pins(args: argparse.Namespace) -> list[str]:
    """The pins an enrolment code goes out with: --certfile's (leaf or CA), then backups."""
    pins: list[str] = []
    if args.certfile is not None:
        chain = tls.pem_pins(args.certfile.read_bytes())
        if not chain:
            raise tls.PinError(N_("No certificate or key found in the file."))
        pins.append(chain[-1] if args.pin_ca else chain[0])
    return list(tls.parse_pins([*pins, *args.backup_pin]))


@guarded
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
    store = open_storage(args)
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
        code = store.create_enrolment_code(args.name, args.device, ttl, args.region)
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

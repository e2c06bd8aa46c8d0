"""`kiosk portal staff add|list|disable` and `kiosk portal set-status` (issue 15).

Accounts are made on the portal's machine, next to its storage, by an administrator:
the token is printed once and only its hash is kept (`sync.portal.staff`). Setting a
status is what staff do from anywhere, so ``set-status`` goes through the staff API
of a running portal over HTTP with the staff token (``--token-file`` or
``KIOSK_STAFF_TOKEN``), never straight to the database: the role matrix, the decision
rules, the history and the audit are applied in one place, the portal.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import quote

from kiosk import cliutil
from kiosk.i18n import tr
from sync import wire
from sync.portal.open_portal import add_portal_dir, guarded, open_storage

ENV_TOKEN = "KIOSK_STAFF_TOKEN"
ENV_URL = "KIOSK_PORTAL_URL"
TIMEOUT = 30.0


def add_commands(psub: cliutil.Subcommands) -> None:
    """``staff ...`` and ``set-status`` under ``kiosk portal``."""
    staff = cliutil.add_command(psub, "staff", "staff accounts of the status API", _usage)
    actions = staff.add_subparsers(dest="staff_command", metavar="ACTION")
    staff.set_defaults(_staff_parser=staff)
    add = cliutil.add_command(
        actions, "add", "add a staff account; prints its token once", cmd_staff_add
    )
    add_portal_dir(add)
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--role", required=True, choices=("reviewer", "ombudsman", "admin"), help="what it may do"
    )
    listing = cliutil.add_command(actions, "list", "list staff accounts", cmd_staff_list)
    add_portal_dir(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    disable = cliutil.add_command(
        actions, "disable", "refuse a staff account's token from now on", cmd_staff_disable
    )
    add_portal_dir(disable)
    disable.add_argument("name", metavar="NAME")
    trail = cliutil.add_command(
        actions, "audit", "the staff audit: accounts and decisions, who and when", cmd_staff_audit
    )
    add_portal_dir(trail)
    trail.add_argument("--limit", type=int, default=100, metavar="N", help="newest N lines")
    trail.add_argument("--json", action="store_true", help="print JSON")

    status = cliutil.add_command(
        psub,
        "set-status",
        "change an application's status through a running portal's staff API",
        cmd_set_status,
    )
    status.add_argument("tracking_code", metavar="TRACKING_CODE")
    status.add_argument("status", metavar="STATUS")
    status.add_argument("--reason", default=None, metavar="CODE", help="a decision.* reason")
    status.add_argument("--note", default=None, help="a note the citizen is shown")
    status.add_argument(
        "--url", default=None, metavar="URL", help=f"the portal's URL (default: ${ENV_URL})"
    )
    status.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"a file holding the staff token (default: ${ENV_TOKEN})",
    )
    status.add_argument(
        "--cafile", type=Path, default=None, metavar="PEM", help="CA certificates to trust"
    )


def _usage(args: argparse.Namespace) -> int:
    args._staff_parser.print_help(sys.stderr)
    return 2


@guarded
def cmd_staff_add(args: argparse.Namespace) -> int:
    """The token alone on stdout (scripts read it), what it is on stderr."""
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    store = open_storage(args)
    try:
        token = store.add_staff(args.name, args.role)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot add the staff account: {reason}", reason=str(exc)))
    finally:
        store.close()
    print(token)
    print(
        tr(
            lang,
            "Staff account {name} ({role}) added. Its token is shown only now: give it to "
            "them privately.",
            name=args.name,
            role=args.role,
        ),
        file=sys.stderr,
    )
    return 0


@guarded
def cmd_staff_list(args: argparse.Namespace) -> int:
    store = open_storage(args)
    try:
        rows = store.staff_accounts()
    finally:
        store.close()
    if args.json:
        cliutil.print_json(rows)
        return 0
    lang = cliutil.lang(args)
    for row in rows:
        state = (
            tr(lang, "disabled {at}", at=row["disabled_at"])
            if row["disabled_at"]
            else tr(lang, "enabled")
        )
        print(f"{row['name']}\t{row['role']}\t{row['created_at']}\t{state}")
    return 0


@guarded
def cmd_staff_disable(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    store = open_storage(args)
    try:
        store.disable_staff(args.name)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot disable the staff account: {reason}", reason=str(exc)))
    finally:
        store.close()
    print(tr(lang, "Staff account {name} disabled.", name=args.name))
    return 0


@guarded
def cmd_staff_audit(args: argparse.Namespace) -> int:
    lang = cliutil.lang(args)
    if not 1 <= args.limit <= 100_000:
        return cliutil.fail(tr(lang, "--limit must be between 1 and 100000."))
    store = open_storage(args)
    try:
        lines = store.staff_audit(args.limit)
    finally:
        store.close()
    if args.json:
        cliutil.print_json(lines)
        return 0
    for line in lines:
        print(
            f"{line['at']}\t{line['actor']}\t{line['action']}\t{line['subject']}\t{line['detail']}"
        )
    return 0


def _token(args: argparse.Namespace, lang: str) -> str | int:
    """The staff token (``--token-file``, else ``KIOSK_STAFF_TOKEN``), or an exit code."""
    from kiosk.errors import os_error_text

    text: str
    if args.token_file is not None:
        try:
            text = args.token_file.expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            return cliutil.fail(
                tr(
                    lang,
                    "Cannot read {path}: {error}",
                    path=str(args.token_file),
                    error=os_error_text(exc, lang),
                )
            )
        except UnicodeDecodeError:
            text = ""
    else:
        text = os.environ.get(ENV_TOKEN, "").strip()
    if not text or any(c.isspace() for c in text) or not text.isprintable():
        return cliutil.fail(
            tr(
                lang,
                "No staff token: give --token-file FILE or set {env} "
                "(kiosk portal staff add prints one).",
                env=ENV_TOKEN,
            )
        )
    return text


def cmd_set_status(args: argparse.Namespace) -> int:
    """POST the change to the staff API; the portal's answer said in ``--lang``."""
    import httpx

    from kiosk import reasons
    from sync import tls

    lang = cliutil.lang(args)
    url = (args.url or os.environ.get(ENV_URL, "")).strip().rstrip("/")
    if not url:
        return cliutil.fail(tr(lang, "No portal URL: give --url URL or set {env}.", env=ENV_URL))
    try:
        tls.check_url(url)
    except tls.UrlError as exc:
        return cliutil.fail(exc.message(lang))
    token = _token(args, lang)
    if isinstance(token, int):
        return token
    verify: bool | str = str(args.cafile.expanduser()) if args.cafile is not None else True
    endpoint = f"{url}{wire.API}/staff/applications/{quote(args.tracking_code, safe='')}/status"
    body = {"status": args.status, "reason_code": args.reason, "note": args.note}
    try:
        response = httpx.post(
            endpoint,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
            verify=verify,
        )
    except (httpx.HTTPError, OSError) as exc:
        del exc  # its English text is not shown; what to check is
        return cliutil.fail(
            tr(lang, "Cannot reach the portal at {url}: is it running?", url=url), 1
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        if isinstance(answer, dict) and "code" in answer:
            said = reasons.say(lang, answer.get("code"), answer.get("params"))
        else:
            said = tr(lang, "The portal answered HTTP {status}.", status=response.status_code)
        code = 2 if 400 <= response.status_code < 500 else 1
        return cliutil.fail(tr(lang, "Cannot change the status: {reason}", reason=said), code)
    print(
        tr(
            lang,
            "{code}: status is now {status}",
            code=str(answer.get("tracking_code")),
            status=str(answer.get("status")),
        )
    )
    return 0

"""`kiosk portal serve`: the reference portal's HTTP API on a socket, over TLS or not.

It serves https with ``--certfile`` and ``--keyfile`` (the key readable by the
portal's user only); plain http only on a loopback address (`tls_problem` says why
the options given will not do, before anything is opened). Where the key lives and
how to rotate it: docs/sync-protocol.md, "TLS and pins". The kiosk's bundled forms
are put in the catalog at start unless ``--no-bundled``.

The client's address (the source the enrolment guessing limit counts) is the TCP
peer's: uvicorn would otherwise take ``X-Forwarded-For`` from any peer on 127.0.0.1,
and a client arriving through a local tunnel (stunnel, ssh, haproxy in TCP mode) or a
local user could then name a new source for every guess. ``--trust-proxy ADDR[,ADDR]``
names the reverse proxies whose ``X-Forwarded-For`` is believed.

``--workers N`` serves from N processes sharing the socket (`sync.portal.workers`);
they must share a PostgreSQL database (``--database``): with SQLite it is refused.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import cliutil
from kiosk.i18n import N_, tr
from sync import tls
from sync.portal.open_portal import (
    PortalUnusable,
    add_portal_dir,
    database,
    open_storage,
    portal_dir,
)

if TYPE_CHECKING:
    from sync.portal.storage import PortalStorage

logger = logging.getLogger(__name__)

# Connections one portal process serves at once; beyond, uvicorn answers 503 (the kiosk
# waits and retries). Thousands of kiosks are spread over several processes (issue 15).
LIMIT_CONCURRENCY = 1000
MAX_WORKERS = 64


def add_command(psub: cliutil.Subcommands) -> None:
    """``serve`` and its options, under ``kiosk portal``."""
    serve = cliutil.add_command(psub, "serve", "serve the portal API over HTTP", cmd_serve)
    add_portal_dir(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    serve.add_argument(
        "--revalidate", action="store_true", help="re-check answers with the form engine"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (default 1; more than one needs --database postgresql://...)",
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
    serve.add_argument(
        "--trust-proxy",
        default=None,
        metavar="ADDR[,ADDR]",
        help="believe X-Forwarded-For only from these reverse-proxy addresses or networks "
        "(default: nobody's; the client is the TCP peer)",
    )


def trusted_proxies(text: str | None) -> list[str] | None:
    """The addresses and networks of ``--trust-proxy`` (None if not given); ValueError
    for one that is neither (``*`` included: trusting everyone is the hole itself)."""
    if text is None:
        return None
    import ipaddress

    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise ValueError(text)
    for part in found:
        ipaddress.ip_network(part, strict=False)  # ValueError if it is not one
    return found


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


def load_participation(store: PortalStorage) -> None:
    """The participation forms (`kiosk.participation`, kinds vote and petition_*) in the
    catalog, and the demo season (`sync.portal.seasons`), with the bundled forms (not
    with ``--no-bundled``: a catalog of the test form alone)."""
    from kiosk import participation
    from sync.portal import seasons

    for form_id, spec in participation.FORMS.items():
        store.add_form(form_id, participation.FORM_VERSION, "participation", spec, "bundled")
    store.publish_season(seasons.read_file(seasons.DEMO_FILE))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.portal.app import create_app

    lang = cliutil.lang(args)
    if not 0 <= args.port <= 65535:
        return cliutil.fail(tr(lang, "The port must be between 0 and 65535."))
    problem = tls_problem(args)
    if problem:
        msgid, values = problem
        return cliutil.fail(tr(lang, msgid, **values))
    try:
        proxies = trusted_proxies(args.trust_proxy)
    except ValueError:
        return cliutil.fail(
            tr(
                lang,
                "--trust-proxy takes IP addresses or networks separated by commas, not {value}.",
                value=args.trust_proxy,
            )
        )
    if not 1 <= args.workers <= MAX_WORKERS:
        return cliutil.fail(tr(lang, "--workers must be between 1 and {most}.", most=MAX_WORKERS))
    if args.workers > 1 and database(args) is None:
        return cliutil.fail(
            tr(
                lang,
                "Several workers need a shared PostgreSQL database (--database "
                "postgresql://...): the SQLite backend serves from one process only.",
            )
        )
    tls_on = args.certfile is not None
    try:
        store = open_storage(args)
    except PortalUnusable as exc:
        return cliutil.fail(exc.message, 1)
    # Before any worker starts: the keys are made once, the forms added once.
    warnings = [] if args.no_bundled else load_bundled_forms(store)
    if not args.no_bundled:
        load_participation(store)  # votes and petitions travel as these forms' items
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
    app: object = None
    if args.workers == 1:
        app = create_app(portal_dir(args), revalidate=args.revalidate, store=store)
    else:
        from sync.portal import workers

        store.close()
        url = database(args)
        assert url is not None
        workers.export_settings(portal_dir(args).resolve(), url, args.revalidate)
        app = workers.APP
    config = uvicorn.Config(
        app,  # an ASGI app or, for workers, its import name
        factory=args.workers > 1,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        # Beyond this many connections at once, 503: a flood cannot exhaust the process.
        limit_concurrency=LIMIT_CONCURRENCY,
        ssl_certfile=str(args.certfile) if tls_on else None,
        ssl_keyfile=str(args.keyfile) if tls_on else None,
        # Off unless a proxy is named: uvicorn's default believes X-Forwarded-For from
        # 127.0.0.1, so anything reaching the portal through loopback picks its source.
        proxy_headers=proxies is not None,
        forwarded_allow_ips=proxies or [],
    )
    if args.workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
    else:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[sock]).run()
    return 0


def tls_problem(args: argparse.Namespace) -> tuple[str, dict[str, object]] | None:
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

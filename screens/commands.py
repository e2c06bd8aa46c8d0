"""`kiosk run` (also plain `kiosk`) and `kiosk demo`. Textual is imported in the handlers."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from kiosk import cliutil
from kiosk.cliutil import Subcommands, add_command, data_dir, fail, lang
from kiosk.config import ConfigError

DEMO_OPERATOR = "demo"


def register(sub: Subcommands) -> None:
    run = add_command(sub, "run", "run the kiosk (the default command)", _run)
    _add_ui_options(run)
    demo = add_command(
        sub,
        "demo",
        "start the reference portal on a free loopback port and a kiosk enrolled with it",
        _demo,
    )
    _add_ui_options(demo)


def _add_ui_options(parser: argparse.ArgumentParser) -> None:
    """Flags of `KioskConfig` options: None (not given) lets the environment or the
    data directory's kiosk.toml decide (see kiosk.config)."""
    parser.add_argument(
        "--mode",
        choices=("citizen", "operator"),
        default=None,
        help="citizen (default): self-service, locked down; operator: PIN login and dashboard",
    )
    parser.add_argument(
        "--high-contrast", action="store_true", default=None, help="start in high contrast"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="citizen idle wipe (default 120)",
    )


def _make_app(args: argparse.Namespace) -> Any:
    """The app for the configuration; ConfigError for a bad option."""
    from screens.app import KioskApp

    return KioskApp(cliutil.config(args))


def _lockdown(app: Any, args: argparse.Namespace) -> int | None:
    """Citizen mode only with an operator to let anyone out: else 2, with how to add one.

    Also keeps the terminal's signal keys off (ctrl+z, ctrl+c, ctrl+\\ reach the app
    as keys, which need the PIN), whatever TEXTUAL_ALLOW_SIGNALS says.
    """
    if app.mode != "citizen":
        return None
    import sqlite3

    from kiosk.config import db_path
    from kiosk.i18n import tr
    from kiosk.lockdown import any_operator

    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)
    try:
        if any_operator(db_path(app.data_dir)):
            return None
    except (sqlite3.Error, OSError) as exc:
        from kiosk.store import failure_message

        return fail(failure_message(exc, lang(args)), 1)
    return fail(
        tr(
            lang(args),
            "Citizen mode needs an operator who can close the kiosk, and there is none yet."
            " Add one from this machine's shell: kiosk operator add NAME",
        )
    )


def _run(args: argparse.Namespace) -> int:
    try:
        app = _make_app(args)
    except ConfigError as exc:
        return fail(exc.message(lang(args)))
    refused = _lockdown(app, args)
    if refused is not None:
        return refused
    return int(app.run() or 0)


def _demo_operator(directory: Path, language: str) -> None:
    """A demo operator with a random 6-digit PIN, printed, unless an operator exists."""
    import secrets

    from kiosk.i18n import tr
    from kiosk.operators import add_operator, has_operators
    from kiosk.store import Store

    with Store.open(directory) as store:
        if has_operators(store):
            return
        pin = f"{secrets.randbelow(10**6):06d}"
        add_operator(store, DEMO_OPERATOR, pin)
    print(
        tr(
            language,
            "Demo operator {name} created with PIN {pin}: it closes the kiosk (ctrl+q).",
            name=DEMO_OPERATOR,
            pin=pin,
        )
    )


DEMO_PEOPLE = 40


def _demo_registry(portal_dir: Path, language: str) -> None:
    """The demo portal's registry: SYNTHETIC people (`sync.portal.registry_synth`, never
    real data), so once-only prefill, votes and one-time codes can be tried; a few of
    their PINFLs are printed. Votes count only for people the registry holds."""
    from kiosk.i18n import tr
    from sync.portal import registry, registry_synth
    from sync.portal.store import PortalStore

    people = registry_synth.make_people(DEMO_PEOPLE)
    store = PortalStore(portal_dir)
    try:
        with store.transaction() as conn:
            registry.load(conn, people)
    finally:
        store.close()
    print(
        tr(
            language,
            "Synthetic people in the demo registry (PINFLs to try): {pinfls}",
            pinfls=", ".join(p.pinfl for p in people[:3]),
        )
    )


def _demo(args: argparse.Namespace) -> int:
    """A kiosk talking to a real (reference) portal on 127.0.0.1, for trying things out."""
    from sync.portal.process import create_enrolment_code, start_portal

    directory = data_dir(args)
    portal_dir = Path(tempfile.mkdtemp(prefix="kiosk-demo-portal-"))
    portal = start_portal(portal_dir, die_with_parent=True)
    try:
        code = create_enrolment_code(portal_dir)
        _enroll(directory, portal.url, code)
        _demo_operator(directory, lang(args))
        _demo_registry(portal_dir, lang(args))
        app = _make_app(args)
        refused = _lockdown(app, args)
        if refused is not None:
            return refused
        return int(app.run() or 0)
    except ConfigError as exc:
        return fail(exc.message(lang(args)))
    except ValueError as exc:
        return fail(str(exc))
    finally:
        portal.stop()


def _enroll(directory: Path, url: str, code: str) -> None:
    """Enrol through `kiosk enroll` itself, so the demo takes the real path."""
    import sync.commands
    from kiosk.cli import build_parser, dispatch

    argv = ["enroll", "--portal", url, "--code", code, "--data-dir", str(directory)]
    if dispatch(build_parser([sync.commands]), argv) != 0:
        raise ValueError(f"enrolment with the demo portal at {url} failed")

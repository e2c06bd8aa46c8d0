"""`kiosk run` (also plain `kiosk`) and `kiosk demo`. Textual is imported in the handlers."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from kiosk import cliutil
from kiosk.cliutil import Subcommands, add_command, data_dir, fail, lang
from kiosk.config import ConfigError


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


def _run(args: argparse.Namespace) -> int:
    try:
        app = _make_app(args)
    except ConfigError as exc:
        return fail(exc.message(lang(args)))
    return int(app.run() or 0)


def _demo(args: argparse.Namespace) -> int:
    """A kiosk talking to a real (reference) portal on 127.0.0.1, for trying things out."""
    from sync.portal.process import create_enrolment_code, start_portal

    directory = data_dir(args)
    portal_dir = Path(tempfile.mkdtemp(prefix="kiosk-demo-portal-"))
    portal = start_portal(portal_dir, die_with_parent=True)
    try:
        code = create_enrolment_code(portal_dir)
        _enroll(directory, portal.url, code)
        app = _make_app(args)
        return int(app.run() or 0)
    except ConfigError as exc:
        return fail(exc.message(lang(args)))
    except ValueError as exc:
        return fail(str(exc))
    finally:
        portal.stop()


def _enroll(directory: Path, url: str, code: str) -> None:
    """Enrol through `kiosk enroll` itself, so the demo takes the real path."""
    from kiosk.cli import build_parser, dispatch

    argv = ["enroll", "--portal", url, "--code", code, "--data-dir", str(directory)]
    if dispatch(build_parser(["sync.commands"]), argv) != 0:
        raise ValueError(f"enrolment with the demo portal at {url} failed")

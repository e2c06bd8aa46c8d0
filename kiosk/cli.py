"""The command line's machinery: a parser built from command modules, and dispatch.

The `kiosk` entry point (``mahalla.cli``) imports the command modules of every layer
and hands them over; this module imports only the domain's own (``DOMAIN_COMMANDS``),
so the domain never loads the layers above it, not even by name at run time (which
import-linter could not see). A command module exposes ``register(subparsers)`` and keeps its
heavy imports (textual, httpx, uvicorn) inside its handlers, so `kiosk --help` and
`kiosk submit` stay fast. Handlers take the parsed args and return an exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType

from kiosk import __version__, crashpoints
from kiosk.cliutil import add_common, lang
from kiosk.commands import (
    audit,
    catalog,
    district,
    drafts,
    key,
    operator,
    queue,
    say,
    submit,
    translit,
)
from kiosk.errors import os_error_text
from kiosk.i18n import tr

# Order is the order shown in --help.
DOMAIN_COMMANDS: tuple[ModuleType, ...] = (
    catalog,  # catalog list/show/check/sample
    submit,  # submit
    queue,  # queue
    audit,  # audit verify
    operator,  # operator add/list/reset
    district,  # district show/set/list
    drafts,  # drafts list/discard/purge
    key,  # key install
    say,  # say
    translit,  # translit
)


def build_parser(commands: Iterable[ModuleType]) -> argparse.ArgumentParser:
    """The `kiosk` parser with the subcommands of ``commands`` (imported command
    modules, each with ``register(subparsers)``), in order."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Mahalla Kiosk: public services, offline first."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in commands:
        module.register(sub)
    return parser


def dispatch(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
    *,
    default_command: str | None = None,
) -> int:
    """Parse ``argv`` and run its handler; ``default_command`` runs when none is named.

    Returns the exit code: an interrupt, a closed pipe and an unusable data directory
    end with a code and a plain message, never a traceback. A misspelt crash point
    (``KIOSK_CRASH_AT``) is refused first, before anything is done.
    """
    try:
        crashpoints.check_env()
    except crashpoints.CrashPointError as exc:
        print(exc, file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        if default_command is None:
            parser.print_usage(sys.stderr)
            return 2
        args = parser.parse_args([*(argv or sys.argv[1:]), default_command])
        handler = args.handler
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kiosk queue | head`: the reader left; not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        # An unusable data directory or a full disk: say so plainly, no traceback.
        language = lang(args)
        said = os_error_text(exc, language)
        print(tr(language, "Cannot use the data files: {error}", error=said), file=sys.stderr)
        return 1

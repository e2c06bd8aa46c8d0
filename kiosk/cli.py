"""The command line's machinery: a parser built from command modules, and dispatch.

The `kiosk` entry point (``mahalla.cli``) names the modules of every layer; this
module only knows the domain's own (``DOMAIN_COMMANDS``), so the domain never names
the layers above it. A command module exposes ``register(subparsers)`` and keeps its
heavy imports (textual, httpx, uvicorn) inside its handlers, so `kiosk --help` and
`kiosk submit` stay fast. Handlers take the parsed args and return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Iterable, Sequence

from kiosk import __version__, crashpoints
from kiosk.cliutil import add_common, lang
from kiosk.i18n import tr

DOMAIN_COMMANDS: tuple[str, ...] = (
    "kiosk.commands.catalog",  # catalog list/show/check/sample
    "kiosk.commands.submit",  # submit
    "kiosk.commands.queue",  # queue
    "kiosk.commands.audit",  # audit verify
    "kiosk.commands.operator",  # operator add/list
    "kiosk.commands.say",  # say
    "kiosk.commands.translit",  # translit
)


def build_parser(commands: Iterable[str]) -> argparse.ArgumentParser:
    """The `kiosk` parser with the subcommands of ``commands`` (module names), in order."""
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Mahalla Kiosk: public services, offline first."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        importlib.import_module(name).register(sub)
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
        print(tr(lang(args), "Cannot use the data files: {error}", error=exc), file=sys.stderr)
        return 1

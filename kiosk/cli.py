"""`kiosk ...`: the one entry point. Command modules register themselves lazily.

Each entry of COMMANDS names a module with ``register(subparsers)``; that module keeps
its heavy imports (textual, httpx, uvicorn) inside its handlers, so `kiosk --help`
and `kiosk submit` stay fast and the domain never pulls in the UI.
Handlers take the parsed args and return an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from kiosk import __version__
from kiosk.cliutil import add_common, lang
from kiosk.i18n import tr

# Order is the order shown in --help. Modules outside kiosk/ (sync, screens) are
# imported only here, lazily, so the layer rule (imports point down) holds.
COMMANDS: tuple[str, ...] = (
    "screens.commands",  # run, demo
    "kiosk.commands.catalog",  # catalog list/show/check/sample
    "kiosk.commands.submit",  # submit
    "kiosk.commands.queue",  # queue
    "kiosk.commands.audit",  # audit verify
    "kiosk.commands.operator",  # operator add/list
    "kiosk.commands.say",  # say
    "kiosk.commands.translit",  # translit
    "sync.commands",  # enroll, sync, export-bundle, import-bundle
    "sync.portal.commands",  # portal serve/enrolment-code/set-status/stats
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Mahalla Kiosk: public services, offline first."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        # Plain `kiosk` runs the kiosk, as the README's quick start promises.
        args = parser.parse_args([*(argv or sys.argv[1:]), "run"])
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


if __name__ == "__main__":
    raise SystemExit(main())

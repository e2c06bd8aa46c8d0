"""`kiosk ...`: the one entry point, the only place that names every layer's commands.

Command modules are imported here and handed to the domain's parser builder; each
keeps textual, httpx and uvicorn inside its handlers (see ``kiosk.cli``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from types import ModuleType

import screens.commands
import sync.commands
import sync.portal.commands
from kiosk.cli import DOMAIN_COMMANDS, build_parser, dispatch

# Order is the order shown in --help.
COMMANDS: tuple[ModuleType, ...] = (
    screens.commands,  # run, demo
    *DOMAIN_COMMANDS,  # catalog, submit, queue, audit, operator, say, translit
    sync.commands,  # enroll, sync, export-bundle, import-bundle
    sync.portal.commands,  # portal serve/enrolment-code/set-status/stats/...
)


def parser() -> argparse.ArgumentParser:
    return build_parser(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kiosk` with ``argv``; plain `kiosk` runs the kiosk, as the README promises.

    Checks of the environment at start-up belong here, before the parser is built.
    """
    return dispatch(parser(), argv, default_command="run")

"""Options and helpers every `kiosk` command shares."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from kiosk.config import ENV_LANG, OPTIONS, KioskConfig, load_config, resolve_data_dir
from kiosk.i18n import DEFAULT_LANG, LANGS

if TYPE_CHECKING:
    from kiosk.store import Store

# What `add_subparsers()` returns: argparse gives it no public name. A string, since
# the class is not subscriptable at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# A command's handler: the parsed arguments in, the exit code out.
Handler: TypeAlias = Callable[[argparse.Namespace], int]


def add_common(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """--data-dir and --lang, accepted before or after the subcommand.

    Subparsers use SUPPRESS defaults so a value given before the subcommand is not
    overwritten by the subparser's default.
    """
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument(
        "--data-dir",
        default=default,
        metavar="DIR",
        help="where the kiosk keeps its database (default: $KIOSK_DATA_DIR or ~/.local/share)",
    )
    parser.add_argument(
        "--lang",
        type=language_option,
        metavar="{" + ",".join(LANGS) + "}",
        default=None if top_level else argparse.SUPPRESS,
        help=f"language of messages: {', '.join(LANGS)} (or a tag: uz, uz-Cyrl, ru)",
    )


def language_option(tag: str) -> str:
    """--lang: a kiosk language code, or a tag people use for one (`uz` is uz_Latn)."""
    from kiosk.languages import normalize

    code = tag if tag in LANGS else normalize(tag)
    if code is None:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {tag!r} (choose from {', '.join(LANGS)})"
        )
    return code


def add_command(
    sub: Subcommands, name: str, help: str, handler: Handler
) -> argparse.ArgumentParser:
    """A subcommand with the common options and its handler attached."""
    parser = sub.add_parser(name, help=help, description=help)
    add_common(parser)
    parser.set_defaults(handler=handler)
    return parser


def data_dir(args: argparse.Namespace) -> Path:
    return resolve_data_dir(getattr(args, "data_dir", None))


def lang(args: argparse.Namespace) -> str:
    """The language of messages: --lang, else KIOSK_LANG, else the default."""
    return getattr(args, "lang", None) or os.environ.get(ENV_LANG) or DEFAULT_LANG


def config(args: argparse.Namespace) -> KioskConfig:
    """The kiosk's configuration: the flags ``args`` holds (None: not given) over the
    environment, the data directory's kiosk.toml and the defaults; ConfigError if bad."""
    flags = {name: getattr(args, name, None) for name in OPTIONS}
    return load_config(data_dir(args), flags)


def open_store(args: argparse.Namespace) -> Store:
    from kiosk.store import Store

    return Store.open(data_dir(args))


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code

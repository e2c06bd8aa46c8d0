"""`kiosk translit --to cyrl|latn TEXT`: Uzbek Latin <-> Cyrillic conversion."""

from __future__ import annotations

import argparse
import sys

from kiosk.cliutil import Subcommands, add_command, fail, lang
from kiosk.i18n import tr


def register(sub: Subcommands) -> None:
    parser = add_command(
        sub, "translit", "convert Uzbek text between Latin and Cyrillic script", _run
    )
    parser.add_argument(
        "--to",
        choices=("cyrl", "latn"),
        default=None,
        help="target script (default: the other script than the text's own)",
    )
    parser.add_argument("text", nargs="*", help="text to convert (default: read standard input)")


def _run(args: argparse.Namespace) -> int:
    from kiosk.translit import is_cyrillic, to_cyrillic, to_latin

    if not args.text and sys.stdin.isatty():
        return fail(tr(lang(args), "Give the text to convert, or pipe it in."))
    text = " ".join(args.text) if args.text else sys.stdin.read()
    if not text.strip():
        return fail(tr(lang(args), "Give the text to convert, or pipe it in."))
    target = args.to or ("latn" if is_cyrillic(text) else "cyrl")
    convert = to_cyrillic if target == "cyrl" else to_latin
    # Line by line, so a piped file keeps its line breaks.
    sys.stdout.write(convert(text) if args.text else "".join(map(convert, text.splitlines(True))))
    if args.text:
        sys.stdout.write("\n")
    return 0

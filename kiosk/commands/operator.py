"""`kiosk operator add NAME`, `kiosk operator list` and `kiosk operator reset NAME`.

`reset` is the way back when every operator is locked out or has forgotten the PIN:
it runs from the machine's own shell (whoever has that shell owns the kiosk's files
anyway), sets a new PIN, clears the lock-out, and is audited as ``operator_reset``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.i18n import tr

if TYPE_CHECKING:
    from kiosk.store import Store


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "operator", "manage operator accounts", _usage)
    actions = parser.add_subparsers(dest="operator_command", metavar="ACTION")
    add = add_command(actions, "add", "add an operator (asks for the PIN twice)", _add)
    add.add_argument("name", help="the operator's name as typed at login")
    add.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from the first line of stdin"
    )
    reset = add_command(
        actions, "reset", "set a new PIN and clear the lock-out (asks for the PIN twice)", _reset
    )
    reset.add_argument("name", help="the operator's name as typed at login")
    reset.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from the first line of stdin"
    )
    listing = add_command(actions, "list", "list operators", _list)
    listing.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(_operator_parser=parser)


def _usage(args: argparse.Namespace) -> int:
    args._operator_parser.print_help()
    return 2


def _read_pin(args: argparse.Namespace, language: str) -> str | None:
    """The PIN from stdin or typed twice without echo; None if the two differ."""
    if args.pin_stdin:
        return sys.stdin.readline().strip()
    import getpass

    first = getpass.getpass(tr(language, "PIN: "))
    second = getpass.getpass(tr(language, "PIN again: "))
    return first if first == second else None


def _with_pin(args: argparse.Namespace, act: Callable[[Store, str], str]) -> int:
    """Read the PIN twice, then ``act(store, pin)`` and print what it says; a wrong or
    missing PIN, a refused operator or an unusable store is a message, not a traceback."""
    from kiosk.operators import OperatorError
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        pin = _read_pin(args, language)
    except EOFError:
        return fail(tr(language, "No PIN was given."))
    if pin is None:
        return fail(tr(language, "The two PINs do not match. Nothing was saved."))
    try:
        with open_store(args) as store:
            said = act(store, pin)
    except OperatorError as exc:
        return fail(exc.message(language))
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    print(said)
    return 0


def _add(args: argparse.Namespace) -> int:
    from kiosk.operators import add_operator

    name = " ".join(args.name.split())

    def add(store: Store, pin: str) -> str:
        operator_id = add_operator(store, args.name, pin)
        return tr(lang(args), "Operator {name} added (id {id}).", name=name, id=operator_id)

    return _with_pin(args, add)


def _reset(args: argparse.Namespace) -> int:
    from kiosk.operators import reset_pin

    def reset(store: Store, pin: str) -> str:
        reset_pin(store, args.name, pin)
        return tr(lang(args), "New PIN set for {name}.", name=" ".join(args.name.split()))

    return _with_pin(args, reset)


def _list(args: argparse.Namespace) -> int:
    from kiosk.operators import list_operators
    from kiosk.store import StoreError, failure_message
    from kiosk.wire import now_iso

    language = lang(args)
    try:
        with open_store(args) as store:
            rows = list_operators(store)
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(tr(language, "No operators yet. Add one with: kiosk operator add NAME"))
        return 0
    now = now_iso()
    for row in rows:
        locked = row["locked_until"]
        suffix = ""
        if locked and locked > now:
            suffix = "  " + tr(language, "locked until {time}", time=locked[:19].replace("T", " "))
        print(f"{row['id']:>4}  {row['name']}{suffix}")
    return 0

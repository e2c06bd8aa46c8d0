"""`kiosk district show`, `kiosk district set CODE`, `kiosk district list [--region R]`.

The kiosk's district (kiosk/district.py) is set once at installation, from the
machine's own shell like `kiosk operator add`: `set` accepts a code of the bundled
districts.csv or its exact Latin name (any case), or `demo`; anything else is refused
with the reason and exit code 2. The change is audited (``district_set``).
"""

from __future__ import annotations

import argparse

from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.i18n import tr


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "district", "the district this kiosk serves", _usage)
    actions = parser.add_subparsers(dest="district_command", metavar="ACTION")
    show = add_command(actions, "show", "show the kiosk's district", _show)
    show.add_argument("--json", action="store_true", help="print as JSON")
    put = add_command(
        actions, "set", "set the kiosk's district (a code of `kiosk district list`)", _set
    )
    put.add_argument("code", help="the district's code or its Latin name; demo for the demo")
    listing = add_command(actions, "list", "list the districts a kiosk can serve", _list)
    listing.add_argument("--region", metavar="R", help="only the districts of region R")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    parser.set_defaults(_district_parser=parser)


def _usage(args: argparse.Namespace) -> int:
    args._district_parser.print_help()
    return 2


def _described(code: str, language: str) -> str:
    """ "Chilonzor tumani (chilanzar)", or "not set (demo)"."""
    from kiosk import district

    name = district.name(code, language)
    if name is None:
        return tr(language, "not set (demo)")
    return f"{name} ({code})"


def _show(args: argparse.Namespace) -> int:
    from kiosk import district
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            code = district.current(store)
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if args.json:
        found = district.place(code)
        print_json(
            {
                "district": code,
                "set": code != district.DEFAULT_DISTRICT,
                "name": district.name(code, language),
                "region": found.region if found is not None else None,
            }
        )
        return 0
    if code == district.DEFAULT_DISTRICT:
        print(
            tr(
                language,
                "District: not set (demo). Set it with: kiosk district set CODE",
            )
        )
        return 0
    print(tr(language, "District: {district}", district=_described(code, language)))
    return 0


def _set(args: argparse.Namespace) -> int:
    from kiosk import district
    from kiosk.store import StoreError, failure_message

    language = lang(args)
    try:
        with open_store(args) as store:
            old, new = district.set_district(store, args.code)
    except district.DistrictError as exc:
        return fail(exc.message(language))
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    if old == new == district.DEFAULT_DISTRICT:
        print(tr(language, "District: not set (demo). Set it with: kiosk district set CODE"))
        return 0
    if old == new:
        print(
            tr(language, "The kiosk already serves {district}.", district=_described(new, language))
        )
        return 0
    if new == district.DEFAULT_DISTRICT:
        print(
            tr(
                language,
                "District cleared: not set (demo). Before: {old}.",
                old=_described(old, language),
            )
        )
        return 0
    print(
        tr(
            language,
            "District set to {district}. Before: {old}.",
            district=_described(new, language),
            old=_described(old, language),
        )
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from kiosk import district

    language = lang(args)
    try:
        rows = district.in_region(args.region)
    except district.DistrictError as exc:
        return fail(exc.message(language))
    names = {region.code: region.name(language) for region in district.regions()}
    if args.json:
        print_json(
            [
                {
                    "code": row.code,
                    "name": row.name(language),
                    "region": row.region,
                    "region_name": names.get(row.region, row.region),
                }
                for row in rows
            ]
        )
        return 0
    width = max((len(row.code) for row in rows), default=0)
    name_width = max((len(row.name(language)) for row in rows), default=0)
    for row in rows:
        line = f"{row.code:<{width}}  {row.name(language)}"
        if not args.region:  # without --region, each district's region beside it
            line = f"{line:<{width + 2 + name_width}}  {names.get(row.region, row.region)}"
        print(line)
    return 0

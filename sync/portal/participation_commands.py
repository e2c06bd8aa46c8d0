"""`kiosk portal season publish|tally|batch|checks` and `kiosk portal petition
list|threshold`.

An administrator publishes a season's initiatives from a JSON file (checked whole
before anything is stored: `sync.portal.seasons.checked`) and may set a petition's
review threshold (`sync.portal.petitions`); both act on the portal's storage, next to
it, like the other admin commands. The tallies are printed from the same storage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import cliutil
from kiosk.i18n import tr
from sync.portal.open_portal import add_portal_dir, guarded, open_storage


def add_commands(psub: cliutil.Subcommands) -> None:
    """``season ...`` and ``petition ...`` under ``kiosk portal``."""
    season = cliutil.add_command(psub, "season", "open-budget seasons (Ochiq budjet)", _usage)
    season.set_defaults(_group=season)
    actions = season.add_subparsers(dest="season_command", metavar="ACTION")
    publish = cliutil.add_command(
        actions, "publish", "publish or update a season's initiatives from a JSON file", cmd_publish
    )
    add_portal_dir(publish)
    publish.add_argument("file", type=Path, metavar="FILE")
    tally = cliutil.add_command(actions, "tally", "a season's verified votes", cmd_tally)
    add_portal_dir(tally)
    tally.add_argument("season_id", metavar="SEASON")
    tally.add_argument("--json", action="store_true", help="print JSON")
    batch = cliutil.add_command(
        actions, "batch", "how many ballots are counted together (ballot secrecy)", cmd_batch
    )
    add_portal_dir(batch)
    batch.add_argument("size", type=int, metavar="N")
    checks = cliutil.add_command(
        actions, "checks", "ID checks each kiosk's operators attested, by day", cmd_checks
    )
    add_portal_dir(checks)
    checks.add_argument("--since", default=None, metavar="YYYY-MM-DD", help="from this day")
    checks.add_argument("--json", action="store_true", help="print JSON")

    petition = cliutil.add_command(psub, "petition", "petitions (Mening fikrim)", _usage)
    petition.set_defaults(_group=petition)
    pactions = petition.add_subparsers(dest="petition_command", metavar="ACTION")
    listing = cliutil.add_command(pactions, "list", "petitions and their progress", cmd_list)
    add_portal_dir(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    threshold = cliutil.add_command(
        pactions, "threshold", "set the signatures a petition needs for review", cmd_threshold
    )
    add_portal_dir(threshold)
    threshold.add_argument("petition_id", metavar="PETITION")
    threshold.add_argument("count", type=int, metavar="N")


def _usage(args: argparse.Namespace) -> int:
    args._group.print_help(sys.stderr)
    return 2


@guarded
def cmd_publish(args: argparse.Namespace) -> int:
    from sync.portal import seasons
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    try:
        season = seasons.read_file(args.file)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot publish the season: {reason}", reason=str(exc)))
    store = open_storage(args)
    try:
        count = store.publish_season(season)
    finally:
        store.close()
    print(
        tr(
            lang,
            "Season {season} published for {district}: {count} initiatives.",
            season=season["season_id"],
            district=season["district"],
            count=count,
        )
    )
    return 0


@guarded
def cmd_tally(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    store = open_storage(args)
    try:
        tally = store.vote_tally(args.season_id)
    except PortalStoreError as exc:
        return cliutil.fail(str(exc))
    finally:
        store.close()
    if args.json:
        cliutil.print_json(tally)
        return 0
    for initiative, votes in tally["votes"].items():
        print(f"{initiative}\t{votes}")
    lang = cliutil.lang(args)
    store = open_storage(args)
    try:
        waiting = store.ballots_waiting(args.season_id)
    finally:
        store.close()
    # The admin's view: how many ballots wait is never published (docs/participation.md).
    print(
        tr(
            lang,
            "Counted votes: {voters}; ballots waiting for their batch: {waiting}; "
            "unconfirmed votes: {pending}.",
            voters=tally["voters"],
            waiting=waiting,
            pending=tally["pending"],
        )
    )
    return 0


@guarded
def cmd_batch(args: argparse.Namespace) -> int:
    from sync.portal import ballot_box

    lang = cliutil.lang(args)
    if not ballot_box.MIN_SAFE_BATCH <= args.size <= ballot_box.MAX_BATCH:
        return cliutil.fail(
            tr(
                lang,
                "A batch is {least} to {most} ballots: fewer would let a change of the "
                "tally show one person's vote.",
                least=ballot_box.MIN_SAFE_BATCH,
                most=ballot_box.MAX_BATCH,
            )
        )
    store = open_storage(args)
    try:
        store.set_ballot_batch(args.size)
        store.mix_ballots()
    finally:
        store.close()
    print(tr(lang, "Ballots are now counted in batches of {size}.", size=args.size))
    return 0


@guarded
def cmd_checks(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    lang = cliutil.lang(args)
    since = args.since or (date.today() - timedelta(days=30)).isoformat()
    try:
        # Exactly YYYY-MM-DD: the days are compared as text, and fromisoformat also
        # takes 20261201 or 2026-W48-1, which would silently list nothing.
        if len(since) != 10 or date.fromisoformat(since).isoformat() != since:
            raise ValueError(since)
    except ValueError:
        return cliutil.fail(tr(lang, "A day is written YYYY-MM-DD, not {value}.", value=since))
    store = open_storage(args)
    try:
        rows = store.id_checks(since)
    finally:
        store.close()
    if args.json:
        cliutil.print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['day']}\t{row['device_name'] or row['device_id']}\t"
            f"{row['operator_id']}\t{row['checks']}"
        )
    return 0


@guarded
def cmd_list(args: argparse.Namespace) -> int:
    store = open_storage(args)
    try:
        rows = store.petitions()
    finally:
        store.close()
    if args.json:
        cliutil.print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['petition_id']}\t{row['state']}\t{row['signatures']}/{row['threshold']}\t"
            f"{row['title']}"
        )
    return 0


@guarded
def cmd_threshold(args: argparse.Namespace) -> int:
    from sync.portal.storage import PortalStoreError

    lang = cliutil.lang(args)
    store = open_storage(args)
    try:
        petition = store.set_petition_threshold(args.petition_id, args.count)
    except PortalStoreError as exc:
        return cliutil.fail(tr(lang, "Cannot set the threshold: {reason}", reason=str(exc)))
    finally:
        store.close()
    print(
        f"{petition['petition_id']}\t{petition['state']}\t{petition['signatures']}/{petition['threshold']}"
    )
    return 0

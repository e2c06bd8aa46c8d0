"""`kiosk queue`: what is waiting to be sent, what was sent, what was refused."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from kiosk import languages
from kiosk.cliutil import Subcommands, add_command, fail, lang, open_store, print_json
from kiosk.columns import aligned
from kiosk.i18n import tr

# The outbox states (kiosk.outbox.STATES), repeated so `kiosk --help` does not import
# the store and sqlite-utils; tests/test_cli_core.py keeps the two equal.
STATES: tuple[str, ...] = ("queued", "sent", "rejected")


def register(sub: Subcommands) -> None:
    parser = add_command(sub, "queue", "show the outbox (submissions waiting to sync)", _queue)
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    parser.add_argument("--state", choices=STATES, help="only rows in this state")


def human_age(delta: timedelta, language: str) -> str:
    """'3 minutes', '2 hours' in the given language (CLDR via Babel)."""
    from babel.dates import format_timedelta

    locale = languages.get(language).babel if language in languages.codes() else "en"
    return format_timedelta(max(delta, timedelta(0)), locale=locale, threshold=1.5)


def _age_seconds(created_at: str, now: datetime) -> float:
    try:
        return (now - datetime.fromisoformat(created_at)).total_seconds()
    except (TypeError, ValueError):
        return 0.0


def _queue(args: argparse.Namespace) -> int:
    from kiosk.store import StoreError, failure_message
    from kiosk.tracking import format_code

    language = lang(args)
    try:
        with open_store(args) as store:
            rows = store.queue(state=args.state)
            counts = store.queue_counts()
    except (StoreError, OSError) as exc:
        return fail(failure_message(exc, language), 1)
    now = datetime.now(UTC)
    if args.json:
        items = [
            {**row, "age_seconds": round(_age_seconds(row["created_at"], now), 3)} for row in rows
        ]
        print_json({"counts": counts, "items": items})
        return 0
    print(
        tr(
            language,
            "Queued: {queued}  Sent: {sent}  Rejected: {rejected}",
            queued=counts["queued"],
            sent=counts["sent"],
            rejected=counts["rejected"],
        )
    )
    if not rows:
        print(tr(language, "The queue is empty."))
        return 0
    state_names = {
        "queued": tr(language, "queued"),
        "sent": tr(language, "sent"),
        "rejected": tr(language, "rejected"),
    }
    table = []
    for row in rows:
        age = human_age(timedelta(seconds=_age_seconds(row["created_at"], now)), language)
        problem = row["reason"] or row["last_error"]
        table.append(
            [
                format_code(row["tracking_code"]),
                row["form_id"],
                state_names.get(row["state"], row["state"]),
                tr(language, "attempts: {n}", n=row["attempts"]),
                age,
                f"({problem})" if problem else "",
            ]
        )
    # Columns as wide as their widest cell, counted in terminal cells (kiosk/columns.py).
    for line in aligned(table):
        print(line)
    return 0

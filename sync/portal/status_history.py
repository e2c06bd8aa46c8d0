"""The SQL behind the citizen status page (docs/status-page.md) and the look-up limit.

Plain functions over the connection inside the caller's transaction, as
`sync.portal.enrolments` is, in portable SQL (``?`` placeholders, rows read by column
name, ISO-8601 UTC text times) so every backend can run them. What they read is
chosen for the page: a submission's form, its times and the status steps of
``status_log``; never its answers, device, application number or the steps' notes
(a note is written by staff to the citizen's kiosk and may name the citizen).
"""

from __future__ import annotations

import json
import math
from datetime import datetime

from kiosk.form import texts_by_lang
from kiosk.wire import now_iso
from sync.portal import registry_log
from sync.portal.db import Conn
from sync.portal.storage import (
    LOOKUP_SOURCE_LIMIT,
    LOOKUP_WINDOW,
    HistoryStep,
    LookupLimited,
    StatusHistory,
)


def count_lookup(conn: Conn, source: str, moment: datetime) -> None:
    """Count one look-up by ``source`` at ``moment``; `LookupLimited` (nothing counted)
    when it already made `LOOKUP_SOURCE_LIMIT` in the `LOOKUP_WINDOW` before.

    The counts are rows of ``status_lookups`` in the database, so every portal process
    sharing it applies the one limit; rows older than the window are deleted here.
    """
    conn.serialize(f"portal.lookup {source}")  # count-then-record as one step across processes
    conn.execute("DELETE FROM status_lookups WHERE at <= ?", (now_iso(moment - LOOKUP_WINDOW),))
    times = [
        row["at"]
        for row in conn.execute(
            "SELECT at FROM status_lookups WHERE source = ? ORDER BY at DESC LIMIT ?",
            (source, LOOKUP_SOURCE_LIMIT),
        )
    ]
    if len(times) >= LOOKUP_SOURCE_LIMIT:  # free when the oldest of them leaves
        freed = datetime.fromisoformat(times[-1]) + LOOKUP_WINDOW
        raise LookupLimited(max(1, math.ceil((freed - moment).total_seconds())))
    conn.execute("INSERT INTO status_lookups (source, at) VALUES (?, ?)", (source, now_iso(moment)))


def _titles(spec: str | None) -> dict[str, str]:
    """The form's title by language, from its stored spec ({} when it cannot be read)."""
    if not spec:
        return {}
    try:
        doc = json.loads(spec)
    except ValueError:
        return {}
    return texts_by_lang(doc.get("title")) if isinstance(doc, dict) else {}


def history(conn: Conn, code: str) -> StatusHistory | None:
    """The page's view of the application with tracking code ``code`` (canonical, as
    stored), or None. Steps oldest first, in the order they were logged."""
    row = conn.execute(
        "SELECT s.tracking_code, s.form_id, s.created_at, s.received_at, f.spec "
        "FROM submissions s LEFT JOIN forms f "
        "ON f.form_id = s.form_id AND f.version = s.form_version "
        "WHERE s.tracking_code = ?",
        (code,),
    ).fetchone()
    if row is None:
        return None
    steps: list[HistoryStep] = [
        {"status": step["status"], "at": step["at"]}
        for step in conn.execute(
            "SELECT status, at FROM status_log WHERE tracking_code = ? ORDER BY seq", (code,)
        )
    ]
    return {
        "tracking_code": row["tracking_code"],
        "form_id": row["form_id"],
        "titles": _titles(row["spec"]),
        # When the citizen submitted, on the kiosk's clock; the portal's receipt time
        # if the kiosk's cannot be read (the page shows a date).
        "submitted_at": row["created_at"] if _is_time(row["created_at"]) else row["received_at"],
        "steps": steps,
        # When and by which office the registry was consulted for it: no values.
        "registry_checks": registry_log.for_code(conn, code),
    }


def _is_time(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True

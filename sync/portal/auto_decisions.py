"""Decisions the portal's own rules make at ingest: automated, explained, appealable.

Issue 16 asks that automated decisions be explainable and open to appeal. The
reference portal has one rule, to show the whole path with real data, and a table to
add more (`RULES`, form id -> rule):

- **old-age pension age** (`old_age_pension`): the state registry's birth date for the
  applicant's PINFL (once-only: not the age the applicant typed) must reach the pension
  age (men 60, women 55; the PINFL's first digit says which, odd for men) by the day the
  application arrives, in Uzbekistan's date (UTC+5; born on 29 February, the birthday
  is the 28th in other years). Below it, the application is rejected at once with
  ``decision.not_eligible``, ``automated`` set, by the actor `ACTOR`. The citizen's
  kiosk says the reason, its plain explanation and "Decided automatically", and offers
  the appeal (docs/appeals.md).

A rule decides only on what the registry holds: a PINFL the registry does not know, or
a birth date it lacks, leaves the application to a person (no automated refusal on
missing data). `apply` runs inside the ingest transaction, after the ``received`` row,
through `sync.portal.status_log.record_decision`, as a person's decision is recorded.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone

from sync.portal import pinfl_key, registry
from sync.portal.db import Conn
from sync.portal.status_log import record_decision

ACTOR = "portal-rules"  # who an automated decision is recorded as
PENSION_AGE = {"male": 60, "female": 55}
UZBEKISTAN = timezone(timedelta(hours=5), "UZT")  # no daylight saving since 1992


class AutoDecision:
    """What a rule decided: the status and its registered reason code."""

    def __init__(self, status: str, reason_code: str, rule: str) -> None:
        self.status = status
        self.reason_code = reason_code
        self.rule = rule


Rule = Callable[[Conn, Mapping[str, object], date], AutoDecision | None]


def _age_on(born: date, day: date) -> int:
    """Full years from ``born`` to ``day``. Born on 29 February: in a year without it,
    the birthday is the 28th (the month's last day, as civil law counts a period)."""
    month, mday = born.month, born.day
    if (month, mday) == (2, 29) and not calendar.isleap(day.year):
        mday = 28
    return day.year - born.year - ((day.month, day.day) < (month, mday))


def local_day(moment: datetime) -> date:
    """The date in Uzbekistan (UTC+5 all year) at ``moment``: ages are counted by it, not
    by the UTC date, which is still yesterday until 05:00 in Tashkent."""
    return moment.astimezone(UZBEKISTAN).date()


def pension_age(conn: Conn, answers: Mapping[str, object], day: date) -> AutoDecision | None:
    """Rejected when the registry's birth date puts the applicant below pension age."""
    pinfl = pinfl_key.clean_pinfl(answers.get("pinfl"))
    if pinfl is None:
        return None
    person = registry.find(conn, pinfl)
    if person is None or not person.birth_date:
        return None
    try:
        born = date.fromisoformat(person.birth_date)
    except ValueError:
        return None
    sex = "male" if int(pinfl[0]) % 2 == 1 else "female"
    if _age_on(born, day) >= PENSION_AGE[sex]:
        return None
    return AutoDecision("rejected", "decision.not_eligible", "pension_age")


RULES: dict[str, Rule] = {"old_age_pension": pension_age}


def decide(
    conn: Conn, form_id: str, answers: Mapping[str, object], day: date
) -> AutoDecision | None:
    """The automated decision on a new application of ``form_id``, if a rule makes one."""
    rule = RULES.get(form_id)
    return rule(conn, answers, day) if rule is not None else None


def apply(
    conn: Conn,
    device_id: str,
    item: Mapping[str, object],
    answers: Mapping[str, object],
    number: str,
    now: str,
) -> AutoDecision | None:
    """Decide a just-stored application if a rule does: its status row (automated, with
    the reason), the submission's status, and the staff audit line, in the caller's
    transaction."""
    code = str(item["tracking_code"])
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    decided = decide(conn, str(item["form_id"]), answers, local_day(moment))
    if decided is None:
        return None
    record_decision(
        conn,
        device_id,
        code,
        decided.status,
        number,
        None,
        now,
        ACTOR,
        decided.reason_code,
        True,
        "status_set",
        {
            "status": decided.status,
            "reason_code": decided.reason_code,
            "automated": True,
            "rule": decided.rule,
        },
    )
    return decided

"""Checking one stored answer: required, type, choice, Uzbek validators, constraint;
each problem a `FieldError` in the session's language naming the field by its label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.engine_eval import Evaluator
from kiosk.engine_model import Scope, locate
from kiosk.engine_present import Presenter
from kiosk.engine_values import date_problem, has_type, is_empty
from kiosk.form import Question
from kiosk.formatting import date_pattern
from kiosk.i18n import N_, tr
from kiosk.validators import (
    explain,
    is_valid_passport,
    is_valid_phone,
    is_valid_pinfl,
    pinfl_birth_problem,
)

_KIND_CHECKS: dict[str, Callable[[str], bool]] = {
    "pinfl": is_valid_pinfl,
    "phone": is_valid_phone,
    "passport": is_valid_passport,
}

TYPE_MESSAGES: dict[str, str] = {
    "integer": N_("{field}: enter a whole number, for example 1500"),
    "decimal": N_("{field}: enter a number, for example 1,5"),
    "date": N_("{field}: enter a date as {pattern}"),
    "select_one": N_("{field}: choose one of the options"),
    "select_multiple": N_("{field}: choose from the options"),
    "acknowledge": N_("{field}: confirm to continue"),
    "text": N_("{field}: enter text"),
    "time": N_("{field}: enter a time as HH:MM, for example 09:30"),
    "dateTime": N_("{field}: enter a date and a time as {pattern} HH:MM"),
    "range": N_("{field}: enter a number"),
    "rank": N_("{field}: put every option in order"),
}
# A range question's answer off its scale, or between its steps.
OFF_RANGE = N_("{field}: enter a number from {start} to {end}")
OFF_STEP = N_("{field}: the number must go from {start} in steps of {step}")


# A date that reads as day, month and year but is not one: say which part is wrong.
NO_SUCH_DAY = N_("{field}: there is no date {date}: that month has {days} days")
NO_SUCH_MONTH = N_("{field}: there is no month {month}; months go from 01 to 12")
# A date of birth (appearance "birthdate"): before any rule of age, it cannot be ahead,
# and it must be the one the PINFL beside it encodes (digits 2 to 7, DDMMYY).
FUTURE_DATE = N_("{field}: the date {date} is in the future")
PINFL_BIRTH = N_(
    "{field}: does not match the PINFL: its digits 2 to 7 give the date of birth {date}"
)


def type_message(q: Question, value: object, lang: str, label: str) -> str:
    """What is wrong with ``value``, which does not parse as ``q``'s type, in ``lang``."""
    if q.type == "date":
        problem, params = date_problem(value)
        if problem == "day":
            return tr(lang, NO_SUCH_DAY, field=label, **params)
        if problem == "month":
            return tr(lang, NO_SUCH_MONTH, field=label, **params)
    msgid = TYPE_MESSAGES[q.type]
    return tr(lang, msgid, field=label, pattern=date_pattern(lang))


def range_problem(bounds: tuple[float, float, float], value: float) -> str | None:
    """OFF_RANGE or OFF_STEP when ``value`` is not on the range's scale, else None."""
    start, end, step = bounds
    if not start <= value <= end:
        return OFF_RANGE
    steps = (value - start) / step
    if abs(steps - round(steps)) > 1e-9:
        return OFF_STEP
    return None


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _dmy(d: dt.date) -> str:
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"


@dataclass(frozen=True)
class FieldError:
    field: str  # the ref ("" for the answers as a whole)
    message: str
    code: str  # required | constraint | type | choice | range | pinfl | phone | passport | birth_date | unknown | read_only | count | limit


class Checker:
    """The errors of answers as they stand, through the evaluator's expressions."""

    def __init__(self, evaluator: Evaluator, presenter: Presenter) -> None:
        self._eval = evaluator
        self._present = presenter

    def check(self, ref: str, lang: str) -> list[FieldError]:
        """The errors of the answer stored at `ref` (KeyError for an unknown ref)."""
        container, q, scope = locate(self._eval.form, self._eval.answers, ref)
        return self.check_value(ref, q, scope, container.get(q.name), lang)

    def check_value(
        self, ref: str, q: Question, scope: Scope, value: object, lang: str
    ) -> list[FieldError]:
        """The errors of `value` as the answer of `q` at `ref` (none when not relevant)."""
        if not self._eval.is_relevant(ref) or not q.is_input:
            return []
        if is_empty(value):
            if not self._eval.is_required(q, scope):
                return []
            custom = q.required_message(lang)
            if custom:
                return [FieldError(ref, self._present.fill(custom, scope, lang), "required")]
            msgid = N_("{field}: this answer is required")
            return [self.error(ref, q, scope, lang, "required", msgid)]
        if not has_type(q.type, value):
            label = self._present.fill(q.label(lang), scope, lang)
            return [FieldError(ref, type_message(q, value, lang, label), "type")]
        if q.type in ("select_one", "select_multiple", "rank"):
            allowed = {c.name for c in self._eval.choices(q, scope)}
            chosen = value if isinstance(value, list) else [value]
            if any(v not in allowed for v in chosen):
                return [self.error(ref, q, scope, lang, "choice", TYPE_MESSAGES[q.type])]
            if q.type == "rank" and set(chosen) != allowed:  # ODK ranks every option
                return [self.error(ref, q, scope, lang, "choice", TYPE_MESSAGES["rank"])]
        if q.type == "range" and q.bounds is not None and isinstance(value, int | float):
            off = range_problem(q.bounds, value)
            if off is not None:
                start, end, step = (_num(b) for b in q.bounds)
                return [
                    self.error(ref, q, scope, lang, "range", off, start=start, end=end, step=step)
                ]
        kind = q.kind or ""
        valid = _KIND_CHECKS.get(kind)
        if valid is not None and isinstance(value, str) and not valid(value):
            problem = explain(kind, value, lang) or tr(lang, "the format is not valid")
            msgid = N_("{field}: {problem}")
            return [self.error(ref, q, scope, lang, kind, msgid, problem=problem)]
        if q.is_birth_date and isinstance(value, dt.date):
            birth = self._birth_problem(ref, value)
            if birth is not None:
                return [
                    self.error(ref, q, scope, lang, "birth_date", birth[0], date=_dmy(birth[1]))
                ]
        if not self._eval.accepts(q, scope, value):
            custom = q.constraint_message(lang)
            if custom:
                return [FieldError(ref, self._present.fill(custom, scope, lang), "constraint")]
            msgid = N_("{field}: this answer is not accepted")
            return [self.error(ref, q, scope, lang, "constraint", msgid)]
        return []

    def _birth_problem(self, ref: str, born: dt.date) -> tuple[str, dt.date] | None:
        """A date of birth ahead of today, or not the one the PINFL beside it encodes (the
        first question of kind pinfl in the same group or repeat instance, answered)."""
        if born > (self._eval.today or dt.date.today()):
            return FUTURE_DATE, born
        container, _, _ = locate(self._eval.form, self._eval.answers, ref)
        for other in self._eval.form.walk():
            if other.kind == "pinfl" and other.name in container:
                pinfl = container[other.name]
                encoded = pinfl_birth_problem(pinfl, born) if isinstance(pinfl, str) else None
                return (PINFL_BIRTH, encoded) if encoded is not None else None
        return None

    def error(
        self, ref: str, q: Question, scope: Scope, lang: str, code: str, msgid: str, **kw: object
    ) -> FieldError:
        """A FieldError whose message names the field by its label (`${}` filled in)."""
        label = self._present.fill(q.label(lang), scope, lang)
        return FieldError(ref, tr(lang, msgid, field=label, **kw), code)

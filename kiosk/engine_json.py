"""`validate_answers`: JSON answers from outside the UI (`kiosk submit`, a portal),
checked by a FormSession exactly as the screens check them.

JSON values are coerced per type first (numbers as JSON numbers or strings, dates as
"YYYY-MM-DD", select_multiple as a list or a space-separated string, repeats as lists
of objects); unknown fields and values of the wrong type are errors, never exceptions.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping

from kiosk.engine import FormSession
from kiosk.engine_check import FieldError, type_message
from kiosk.engine_model import Answers, fields, instances_of, walk
from kiosk.engine_values import BadValue, parse_value
from kiosk.form import Form, Question
from kiosk.i18n import check_lang, ntr, tr


def validate_answers(
    form: Form, answers: object, lang: str, today: dt.date | None = None
) -> tuple[dict[str, object], list[FieldError]]:
    """JSON answers (as `kiosk submit` reads them) checked as the UI checks them.

    Returns the payload (as `FormSession.payload()` makes it) and the errors; unknown
    fields and values of the wrong type are errors, never exceptions. A checker running
    days later (the portal) passes the submission's date as `today`.
    """
    check_lang(lang)
    if not isinstance(answers, dict):
        return {}, [FieldError("", tr(lang, "The answers must be a JSON object"), "type")]
    errors: list[FieldError] = []
    values = _coerce(form.questions, answers, "", lang, errors)
    # The session may add the instances a repeat_count asks for; count against the input.
    session = FormSession(form, answers=copy.deepcopy(values), lang=lang, today=today)
    errors += session.validate_all()
    errors += _count_errors(session, form, values, lang)
    errors += [
        FieldError(ref, exc.say(lang), "limit") for ref, exc in session.limit_errors().items()
    ]
    return session.payload(), errors


def _coerce(
    questions: list[Question],
    data: Mapping[str, object],
    prefix: str,
    lang: str,
    errors: list[FieldError],
) -> Answers:
    """JSON values to engine values for the fields of one level (top or one instance)."""
    by_name = fields(questions)
    out: Answers = {}
    for key, value in data.items():
        ref = prefix + str(key)
        q = by_name.get(key)
        if q is None:
            errors.append(FieldError(ref, tr(lang, "{field}: unknown field", field=key), "unknown"))
            continue
        label = q.label(lang)
        if q.type == "repeat":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                errors.append(
                    FieldError(
                        ref, tr(lang, "{field}: expected a list of entries", field=label), "type"
                    )
                )
                continue
            out[key] = [
                _coerce(q.children, inst, f"{ref}[{i}]/", lang, errors)
                for i, inst in enumerate(value)
            ]
        elif q.type in ("calculate", "note") or q.calculation:
            continue  # computed or shown, never taken from outside
        elif value is None:
            continue
        else:
            try:
                parsed = parse_value(q.type, value, q.kind)
            except BadValue:
                errors.append(FieldError(ref, type_message(q, value, lang, label), "type"))
                continue
            if parsed is not None:
                out[key] = parsed
    return out


def _count_errors(session: FormSession, form: Form, values: Answers, lang: str) -> list[FieldError]:
    """A repeat whose repeat_count fixes the number of entries must have exactly that many
    (counted in the input, before the session made up the missing ones)."""
    errors: list[FieldError] = []
    for node in walk(
        form.questions,
        values,
        skip=lambda n: not session.is_relevant(n.ref),
        instances=lambda n: session.repeat_count(n.ref),
    ):
        q = node.question
        if q.type != "repeat" or not q.repeat_count:
            continue
        given = instances_of(node.container, q.name)  # _coerce keeps only lists
        expected = session.repeat_count(node.ref)
        if len(given) != expected:
            message = ntr(
                lang,
                "{field}: expected {n} entry",
                "{field}: expected {n} entries",
                expected,
                field=q.label(lang),
            )
            errors.append(FieldError(node.ref, message, "count"))
    return errors

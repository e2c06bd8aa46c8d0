"""Checking one stored answer: required, type, choice, Uzbek validators, constraint;
each problem a `FieldError` in the session's language naming the field by its label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.engine_eval import Evaluator
from kiosk.engine_model import Scope, locate
from kiosk.engine_present import Presenter
from kiosk.engine_values import has_type, is_empty
from kiosk.form import Question
from kiosk.i18n import N_, tr
from kiosk.validators import explain, is_valid_passport, is_valid_phone, is_valid_pinfl

_KIND_CHECKS: dict[str, Callable[[str], bool]] = {
    "pinfl": is_valid_pinfl,
    "phone": is_valid_phone,
    "passport": is_valid_passport,
}

TYPE_MESSAGES: dict[str, str] = {
    "integer": N_("{field}: enter a whole number, for example 1500"),
    "decimal": N_("{field}: enter a number, for example 1,5"),
    "date": N_("{field}: enter a date as DD.MM.YYYY"),
    "select_one": N_("{field}: choose one of the options"),
    "select_multiple": N_("{field}: choose from the options"),
    "acknowledge": N_("{field}: confirm to continue"),
    "text": N_("{field}: enter text"),
}


@dataclass(frozen=True)
class FieldError:
    field: str  # the ref ("" for the answers as a whole)
    message: str
    code: str  # required | constraint | type | choice | pinfl | phone | passport | unknown | read_only | count | limit


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
            return [self.error(ref, q, scope, lang, "type", TYPE_MESSAGES[q.type])]
        if q.type in ("select_one", "select_multiple"):
            allowed = {c.name for c in self._eval.choices(q, scope)}
            chosen = value if isinstance(value, list) else [value]
            if any(v not in allowed for v in chosen):
                return [self.error(ref, q, scope, lang, "choice", TYPE_MESSAGES[q.type])]
        if q.kind and isinstance(value, str) and not _KIND_CHECKS[q.kind](value):
            problem = explain(q.kind, value, lang) or tr(lang, "the format is not valid")
            msgid = N_("{field}: {problem}")
            return [self.error(ref, q, scope, lang, q.kind, msgid, problem=problem)]
        if not self._eval.accepts(q, scope, value):
            custom = q.constraint_message(lang)
            if custom:
                return [FieldError(ref, self._present.fill(custom, scope, lang), "constraint")]
            msgid = N_("{field}: this answer is not accepted")
            return [self.error(ref, q, scope, lang, "constraint", msgid)]
        return []

    def error(
        self, ref: str, q: Question, scope: Scope, lang: str, code: str, msgid: str, **kw: object
    ) -> FieldError:
        """A FieldError whose message names the field by its label (`${}` filled in)."""
        label = self._present.fill(q.label(lang), scope, lang)
        return FieldError(ref, tr(lang, msgid, field=label, **kw), code)

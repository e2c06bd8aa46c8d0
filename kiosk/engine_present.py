"""What a session shows people: labels and hints with `${name}` filled in, answers as
they read back (choice labels, local dates and numbers, spaced phones), review items.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk import expr
from kiosk.engine_eval import Evaluator
from kiosk.engine_model import Scope, locate, question_at
from kiosk.engine_nav import Step
from kiosk.engine_values import ACK, is_empty
from kiosk.form import LABEL_REF, Question
from kiosk.formatting import format_date, format_number
from kiosk.i18n import tr
from kiosk.validators import format_phone


@dataclass(frozen=True)
class ReviewItem:
    ref: str
    label: str
    display: str


class Presenter:
    """Texts of a session in a given language, read from the evaluator's answers."""

    def __init__(self, evaluator: Evaluator) -> None:
        self._eval = evaluator
        self._form = evaluator.form

    def label(self, ref: str, lang: str) -> str:
        """The label of the step at `ref`, `${x}` filled in."""
        q, scope = question_at(self._form, ref)
        return self.fill(q.label(lang), scope, lang)

    def hint(self, ref: str, lang: str) -> str:
        q, scope = question_at(self._form, ref)
        return self.fill(q.hint(lang), scope, lang)

    def fill(self, text: str, scope: Scope, lang: str) -> str:
        """`${name}` in a text replaced by that answer as seen from `scope`, displayed."""
        if "${" not in text:
            return text

        def sub(m: re.Match[str]) -> str:
            q = self._form.get(m.group(1))
            if q is None:
                return m.group(0)
            value = self._eval.resolver(scope)(q.name)
            if isinstance(value, list):
                return ", ".join(self.display(q, v, lang) for v in value if not isinstance(v, dict))
            return self.display(q, value, lang)

        return LABEL_REF.sub(sub, text)

    def display(self, q: Question, value: object, lang: str) -> str:
        """An answer as people read it back."""
        if is_empty(value):
            return tr(lang, "(no answer)")
        if q.type == "select_one":
            return next((c.label(lang) for c in q.choices if c.name == value), str(value))
        if q.type in ("select_multiple", "rank") and isinstance(value, list):
            labels = {c.name: c.label(lang) for c in q.choices}
            return ", ".join(
                labels.get(v, v) if isinstance(v, str) else str(v)
                for v in value
                if isinstance(v, str | int)
            )
        if isinstance(value, dt.date):
            return format_date(value, lang)
        if q.type == "dateTime" and isinstance(value, str) and len(value) == 19:
            try:
                day = dt.date.fromisoformat(value[:10])
            except ValueError:
                return value
            return f"{format_date(day, lang)} {value[11:16]}"
        if q.type == "time" and isinstance(value, str) and len(value) == 8:
            return value[:5]
        if q.type == "acknowledge" and value == ACK:
            return tr(lang, "Confirmed")
        if q.kind == "phone" and isinstance(value, str):
            return format_phone(value)  # +998 90 123 45 67: easier to read back
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return format_number(value, lang)
            except (ArithmeticError, ValueError):  # Babel refuses huge or odd numbers
                return expr.to_string(value)
        return str(value)

    def review(self, steps: Iterable[Step], lang: str) -> list[ReviewItem]:
        """One item per input question among the steps: label and answer as shown."""
        items = []
        for step in steps:
            q = step.question
            if step.kind != "question" or not q.is_input:
                continue
            container, _, scope = locate(self._form, self._eval.answers, step.ref)
            label = self._review_label(q, scope, lang)
            items.append(ReviewItem(step.ref, label, self.display(q, container.get(q.name), lang)))
        return items

    def _review_label(self, q: Question, scope: Scope, lang: str) -> str:
        """The label, with the repeat instance it belongs to: "Name (Member 2)"."""
        label = self.fill(q.label(lang), scope, lang)
        if not scope:
            return label
        rep, index = scope[-1]
        return tr(
            lang,
            "{label} ({group} {n})",
            label=label,
            group=self._form[rep].label(lang),
            n=index + 1,
        )

"""The form engine: one question at a time over a `Form`, and `validate_answers` for JSON.

State is the answers dict (field name -> value; a repeat is a list of dicts) plus a
position (a step ref). Everything else (relevance, calculations, repeat counts, the
list of steps) is derived by `_recompute()` after every change, so the session can be
rebuilt exactly from `draft_state()`.

Refs: `"name"` for a field outside repeats, `"rep[0]/child"` inside an instance,
`"rep[0]/inner[1]/child"` nested, `"rep[#]"` for the "add another?" prompt.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk import expr
from kiosk.engine_values import (
    ACK,
    BadValue,
    has_type,
    is_empty,
    parse_value,
    to_json,
)
from kiosk.expr.values import tidy_number
from kiosk.form import LABEL_REF, Choice, Form, Question
from kiosk.formatting import format_date, format_number
from kiosk.i18n import DEFAULT_LANG, LANGS, N_, check_lang, tr
from kiosk.validators import (
    explain,
    format_phone,
    is_valid_passport,
    is_valid_phone,
    is_valid_pinfl,
)

REVIEW = "#review"  # position past the last step; '#' cannot start a field name
_SEGMENT = re.compile(r"^([^\[\]/]+)\[(\d+|#)\]$")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
# Enough passes for any realistic chain of calculations depending on each other.
_MAX_PASSES = 12
_MAX_INSTANCES = 500  # repeat_count beyond this is a typo, not a family

Scope = tuple[tuple[str, int], ...]  # enclosing repeat instances: ((repeat, index), ...)

# What evaluating a form's expression may raise: the form's fault, never a crash.
_EVAL_ERRORS = (expr.ExprError, ArithmeticError, ValueError, TypeError, RecursionError)

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
class Step:
    """One screen: a question (or note) at `ref`, or the "add another?" prompt of a repeat."""

    ref: str
    question: Question
    kind: str  # "question" | "repeat_prompt"


@dataclass(frozen=True)
class FieldError:
    field: str  # the ref ("" for the answers as a whole)
    message: str
    code: str  # required | constraint | type | choice | pinfl | phone | passport | unknown | read_only | count


@dataclass(frozen=True)
class ReviewItem:
    ref: str
    label: str
    display: str


def _parse_ref(ref: str) -> tuple[list[tuple[str, int | None]], str]:
    """`"a[0]/b[1]/c"` -> ([("a", 0), ("b", 1)], "c"); a trailing `x[#]` -> ([...,], "x[#]")."""
    parts = ref.split("/")
    path: list[tuple[str, int | None]] = []
    for part in parts[:-1]:
        m = _SEGMENT.match(part)
        if not m or m.group(2) == "#":
            raise KeyError(ref)
        path.append((m.group(1), int(m.group(2))))
    return path, parts[-1]


class FormSession:
    """A citizen filling one form: answers, position, language."""

    def __init__(
        self,
        form: Form,
        answers: dict[str, Any] | None = None,
        lang: str = "uz_Latn",
        position: str | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.form = form
        self._lang = check_lang(lang)
        self.today = today
        fresh = answers is None
        self.answers: dict[str, Any] = answers if answers is not None else {}
        self._hidden: set[str] = set()  # refs of non-relevant nodes (and their insides)
        self._counts: dict[str, int] = {}  # repeat ref -> number of active instances
        self._steps: list[Step] = []
        if fresh:
            self._apply_defaults(form.questions, self.answers, ())
        self._recompute()
        self._position: str | None = position

    # ----- language ---------------------------------------------------------------

    @property
    def lang(self) -> str:
        return self._lang

    @lang.setter
    def lang(self, value: str) -> None:
        self._lang = check_lang(value)

    # ----- steps and navigation ------------------------------------------------------

    def steps(self) -> list[Step]:
        return list(self._steps)

    @property
    def at_review(self) -> bool:
        """Past the last step (also when the steps after the position all went away)."""
        return self._current_index() is None

    @property
    def current(self) -> Step | None:
        if self.at_review:
            return None
        index = self._current_index()
        return self._steps[index] if index is not None else None

    def _current_index(self) -> int | None:
        """Index of the position in the steps; a position that vanished (made non-relevant)
        falls to the next step after it in document order."""
        if not self._steps or self._position == REVIEW:
            return None
        if self._position is None:
            return 0
        for i, step in enumerate(self._steps):
            if step.ref == self._position:
                return i
        key = self._order_key(self._position)
        for i, step in enumerate(self._steps):
            if self._order_key(step.ref) > key:
                return i
        return None

    def progress(self) -> tuple[int, int]:
        total = len(self._steps)
        index = self._current_index()
        return (total if index is None else index + 1, total)

    def next(self) -> list[FieldError]:
        """Check the current step; move on only when it has no errors."""
        step = self.current
        if step is None:
            self._position = REVIEW
            return []
        errors = self._check_step(step)
        if errors:
            return errors
        index = self._current_index()
        assert index is not None
        self._position = self._steps[index + 1].ref if index + 1 < len(self._steps) else REVIEW
        return []

    def back(self) -> None:
        if not self._steps:
            return
        index = self._current_index()
        if index is None:  # at review (or past the end): the last step
            self._position = self._steps[-1].ref
        elif index > 0:
            self._position = self._steps[index - 1].ref
        else:
            self._position = self._steps[0].ref

    def jump(self, ref: str) -> None:
        """Go to a step (from the review); KeyError for a ref that is not a current step."""
        if ref == REVIEW:
            self._position = REVIEW
            return
        if not any(step.ref == ref for step in self._steps):
            raise KeyError(ref)
        self._position = ref

    def _order_key(self, ref: str) -> tuple[float, ...]:
        """Document order of a ref: question orders and instance indices, interleaved;
        a repeat's prompt sorts after all its instances."""
        try:
            path, last = _parse_ref(ref)
        except KeyError:
            return (float("inf"),)

        def order(name: str) -> float:
            q = self.form.get(name)
            return q.order if q is not None else float("inf")

        key: list[float] = []
        for name, index in path:
            key += [order(name), index or 0]
        m = _SEGMENT.match(last)
        key += [order(m.group(1)), float("inf")] if m else [order(last)]
        return tuple(key)

    # ----- answers ---------------------------------------------------------------

    def _locate(self, ref: str) -> tuple[dict[str, Any], Question, Scope]:
        """The dict holding `ref`'s answer, its question and its repeat scope."""
        path, name = _parse_ref(ref)
        q = self.form.get(name)
        if q is None:
            raise KeyError(ref)
        container, scope = self._walk(path, q, ref)
        return container, q, scope

    def _walk(
        self, path: list[tuple[str, int | None]], q: Question, ref: str
    ) -> tuple[dict[str, Any], Scope]:
        """Down the repeat instances named by `path` to the dict holding `q`'s answer."""
        if tuple(p for p, _ in path) != q.repeats:
            raise KeyError(ref)
        container = self.answers
        for rep, index in path:
            instances = container.get(rep)
            if not isinstance(instances, list) or index is None or index >= len(instances):
                raise KeyError(ref)
            container = instances[index]
        return container, tuple((p, i) for p, i in path if i is not None)

    def value(self, ref: str) -> Any:
        container, q, _ = self._locate(ref)
        return container.get(q.name)

    def set(self, ref: str, raw: Any) -> list[FieldError]:
        """Parse and store raw input (kept even when invalid, so the screen shows it)."""
        container, q, scope = self._locate(ref)
        if not q.is_input or q.read_only or q.calculation:
            return [self._error(ref, q, "read_only", N_("{field}: this answer cannot be changed"))]
        try:
            value = parse_value(q.type, raw, q.kind)
        except BadValue:
            value = raw if isinstance(raw, str) else str(raw)
        if value is None:
            container.pop(q.name, None)
        else:
            container[q.name] = value
        self._recompute()
        return self._check(ref, q, container.get(q.name), scope)

    def add_repeat(self, name: str, parent: str = "") -> int:
        """A new instance of repeat `name`; the position moves to its first step.

        `name` may be the prompt's ref ("rep[#]", "outer[0]/inner[#]"); for a nested
        repeat given by name, `parent` is the enclosing instance ("outer[0]").
        Returns the new instance's index. A repeat_count repeat cannot grow by hand.
        """
        name, parent = _split_repeat_ref(name, parent)
        q = self.form.get(name)
        if q is None or q.type != "repeat":
            raise KeyError(name)
        if q.repeat_count:
            raise ValueError(f"{name}: the number of entries is fixed by repeat_count")
        container, scope = self._container_of(parent, q)
        if not isinstance(container.get(name), list):
            container[name] = []
        instances = container[name]
        index = len(instances)
        instance: dict[str, Any] = {}
        self._apply_defaults(q.children, instance, (*scope, (name, index)))
        instances.append(instance)
        self._recompute()
        first = f"{_prefix(parent)}{name}[{index}]/"
        for step in self._steps:
            if step.ref.startswith(first):
                self._position = step.ref
                break
        return index

    def remove_repeat(self, name: str, index: int, parent: str = "") -> None:
        """Delete instance `index` of repeat `name` (named as in `add_repeat`).

        A position inside it moves to the instance that takes its place (or the prompt);
        a position in a later instance follows that instance's new index.
        """
        name, parent = _split_repeat_ref(name, parent)
        q = self.form.get(name)
        if q is None or q.type != "repeat":
            raise KeyError(name)
        container, _ = self._container_of(parent, q)
        instances = _instances(container, name)
        if not 0 <= index < len(instances):
            raise KeyError(f"{name}[{index}]")
        del instances[index]
        self._recompute()
        head = f"{_prefix(parent)}{name}["
        pos = self._position or ""
        if not pos.startswith(head):
            return
        number, _, tail = pos[len(head) :].partition("]")
        if not number.isdigit() or int(number) < index:
            return
        if int(number) > index:
            self._position = f"{head}{int(number) - 1}]{tail}"
            return
        # Inside the removed instance: the first step of the one now at its index.
        following = [s.ref for s in self._steps if s.ref.startswith(f"{head}{index}]/")]
        prompt = f"{head}#]"
        if following:
            self._position = following[0]
        elif any(s.ref == prompt for s in self._steps):
            self._position = prompt

    def _container_of(self, parent: str, q: Question) -> tuple[dict[str, Any], Scope]:
        """The dict holding repeat `q`'s instances, inside the instance `parent`."""
        if not parent:
            if q.repeats:
                raise KeyError(q.name)
            return self.answers, ()
        path, _ = _parse_ref(f"{parent}/{q.name}")
        return self._walk(path, q, parent)

    def check(self, ref: str) -> list[FieldError]:
        """The errors of the answer at `ref` as it stands (in the current language)."""
        container, q, scope = self._locate(ref)
        return self._check(ref, q, container.get(q.name), scope)

    def is_required(self, ref: str) -> bool:
        """Whether the question at `ref` must be answered now (required may be an expression)."""
        _, q, scope = self._locate(ref)
        return bool(q.required) and q.is_input and self._eval_bool(q.required, scope, default=True)

    def is_relevant(self, ref: str) -> bool:
        """Whether the field, group, repeat or instance at `ref` is relevant now."""
        return ref not in self._hidden

    def repeat_count(self, ref: str) -> int:
        """Active instances of the repeat at `ref` ("rep" or "rep[0]/inner")."""
        return self._counts.get(ref, 0)

    # ----- texts ------------------------------------------------------------------

    def label(self, ref: str) -> str:
        """The label of the step at `ref` in the session's language, `${x}` filled in."""
        q, scope = self._question_at(ref)
        return self._fill(q.label(self._lang), scope)

    def hint(self, ref: str) -> str:
        q, scope = self._question_at(ref)
        return self._fill(q.hint(self._lang), scope)

    def _question_at(self, ref: str) -> tuple[Question, Scope]:
        path, last = _parse_ref(ref)
        m = _SEGMENT.match(last)
        name = m.group(1) if m else last
        q = self.form.get(name)
        if q is None:
            raise KeyError(ref)
        return q, tuple((p, i) for p, i in path if i is not None)

    def _fill(self, text: str, scope: Scope) -> str:
        if "${" not in text:
            return text

        def sub(m: re.Match[str]) -> str:
            q = self.form.get(m.group(1))
            if q is None:
                return m.group(0)
            value = self._resolver(scope)(q.name)
            if isinstance(value, list):
                return ", ".join(self._display(q, v) for v in value if not isinstance(v, dict))
            return self._display(q, value)

        return LABEL_REF.sub(sub, text)

    def choices(self, ref: str) -> list[Choice]:
        """The choices of the select at `ref` that pass its choice_filter now."""
        q, scope = self._question_at(ref)
        return self._choices(q, scope)

    def _choices(self, q: Question, scope: Scope) -> list[Choice]:
        if not q.choice_filter:
            return list(q.choices)
        resolve = self._resolver(scope)
        kept = []
        for choice in q.choices:
            columns = {"name": choice.name, **choice.extra}
            ctx = expr.EvalContext(
                resolve,
                current=choice.name,
                today=self.today,
                resolve_bare=lambda col, c=columns: c.get(col),
            )
            try:
                if expr.to_bool(expr.evaluate(q.choice_filter, ctx)):
                    kept.append(choice)
            except _EVAL_ERRORS:
                kept.append(choice)  # a broken filter shows everything rather than nothing
        return kept

    # ----- review, validation, payload ---------------------------------------------

    def review(self) -> list[ReviewItem]:
        items = []
        for step in self._steps:
            q = step.question
            if step.kind != "question" or not q.is_input:
                continue
            container, _, scope = self._locate(step.ref)
            items.append(
                ReviewItem(
                    step.ref,
                    self._review_label(step.ref, q, scope),
                    self._display(q, container.get(q.name)),
                )
            )
        return items

    def _review_label(self, ref: str, q: Question, scope: Scope) -> str:
        label = self._fill(q.label(self._lang), scope)
        if not scope:
            return label
        rep, index = scope[-1]
        return tr(
            self._lang,
            "{label} ({group} {n})",
            label=label,
            group=self.form[rep].label(self._lang),
            n=index + 1,
        )

    def _display(self, q: Question, value: Any) -> str:
        if is_empty(value):
            return tr(self._lang, "(no answer)")
        if q.type == "select_one":
            return next((c.label(self._lang) for c in q.choices if c.name == value), str(value))
        if q.type == "select_multiple" and isinstance(value, list):
            labels = {c.name: c.label(self._lang) for c in q.choices}
            return ", ".join(labels.get(v, str(v)) for v in value if isinstance(v, str | int))
        if isinstance(value, dt.date):
            return format_date(value, self._lang)
        if q.type == "acknowledge" and value == ACK:
            return tr(self._lang, "Confirmed")
        if q.kind == "phone" and isinstance(value, str):
            return format_phone(value)  # +998 90 123 45 67: easier to read back
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return format_number(value, self._lang)
            except (ArithmeticError, ValueError):  # Babel refuses huge or odd numbers
                return expr.to_string(value)
        return str(value)

    def validate_all(self) -> list[FieldError]:
        errors: list[FieldError] = []
        for step in self._steps:
            if step.kind == "question":
                errors += self._check_step(step)
        return errors

    def payload(self) -> dict[str, Any]:
        """Relevant answers (and calculations) as JSON; groups flattened, empties left out."""
        return self._payload(self.form.questions, self.answers, "")

    def _payload(
        self, questions: list[Question], container: dict[str, Any], prefix: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for q in questions:
            ref = prefix + q.name
            if ref in self._hidden:
                continue
            if q.type == "group":
                out.update(self._payload(q.children, container, prefix))
            elif q.type == "repeat":
                count = self._counts.get(ref, 0)
                instances = _instances(container, q.name)
                out[q.name] = [
                    self._payload(q.children, inst, f"{ref}[{i}]/")
                    for i, inst in enumerate(instances[:count])
                ]
            elif q.type != "note":
                value = container.get(q.name)
                if not is_empty(value):
                    out[q.name] = to_json(value)
        return out

    # ----- drafts -------------------------------------------------------------------

    def draft_state(self) -> dict[str, Any]:
        return {
            "form_id": self.form.id,
            "form_version": self.form.version,
            "answers": to_json(self.answers),
            "position": self._position,
            "lang": self._lang,
        }

    @classmethod
    def from_draft(
        cls, form: Form, state: dict[str, Any], today: dt.date | None = None
    ) -> FormSession:
        """Resume a `draft_state()`. A damaged draft resumes what it can, never crashes."""
        if not isinstance(state, dict):
            state = {}
        raw = state.get("answers")
        answers = _answers_from_json(form.questions, raw if isinstance(raw, dict) else {})
        lang = state.get("lang")
        position = state.get("position")
        return cls(
            form,
            answers=answers,
            lang=lang if lang in LANGS else DEFAULT_LANG,
            position=position if isinstance(position, str) else None,
            today=today,
        )

    # ----- checks ---------------------------------------------------------------------

    def _check_step(self, step: Step) -> list[FieldError]:
        if step.kind != "question" or not step.question.is_input:
            return []
        container, q, scope = self._locate(step.ref)
        return self._check(step.ref, q, container.get(q.name), scope)

    def _error(self, ref: str, q: Question, code: str, msgid: str, **kw: Any) -> FieldError:
        _, scope = self._question_at(ref)
        field_label = self._fill(q.label(self._lang), scope)
        return FieldError(ref, tr(self._lang, msgid, field=field_label, **kw), code)

    def _check(self, ref: str, q: Question, value: Any, scope: Scope) -> list[FieldError]:
        if ref in self._hidden or not q.is_input:
            return []
        if is_empty(value):
            if q.required and self._eval_bool(q.required, scope, default=True):
                custom = q.required_message(self._lang)
                if custom:
                    return [FieldError(ref, self._fill(custom, scope), "required")]
                return [self._error(ref, q, "required", N_("{field}: this answer is required"))]
            return []
        if not has_type(q.type, value):
            return [self._error(ref, q, "type", TYPE_MESSAGES[q.type])]
        if q.type in ("select_one", "select_multiple"):
            allowed = {c.name for c in self._choices(q, scope)}
            chosen = value if isinstance(value, list) else [value]
            if any(v not in allowed for v in chosen):
                return [self._error(ref, q, "choice", TYPE_MESSAGES[q.type])]
        if q.kind and q.type == "text" and not _KIND_CHECKS[q.kind](value):
            problem = explain(q.kind, value, self._lang) or tr(
                self._lang, "the format is not valid"
            )
            return [self._error(ref, q, q.kind, N_("{field}: {problem}"), problem=problem)]
        if q.constraint and not self._eval_bool(q.constraint, scope, current=value, default=False):
            custom = q.constraint_message(self._lang)
            if custom:
                return [FieldError(ref, self._fill(custom, scope), "constraint")]
            return [self._error(ref, q, "constraint", N_("{field}: this answer is not accepted"))]
        return []

    # ----- expressions ------------------------------------------------------------------

    def _resolver(self, scope: Scope) -> Callable[[str], Any]:
        """`${name}` as seen from inside `scope` (see kiosk.expr's contract); a
        non-relevant answer is empty, as in ODK."""
        hidden_refs = self._hidden

        def resolve(name: str) -> Any:
            q = self.form.get(name)
            if q is None:
                return None
            # Containers (prefix ref, dict) reachable from the scope along q's repeats.
            containers: list[tuple[str, dict[str, Any]]] = [("", self.answers)]
            many = False
            for depth, rep in enumerate(q.repeats):
                pinned = scope[depth][1] if depth < len(scope) and scope[depth][0] == rep else None
                nxt: list[tuple[str, dict[str, Any]]] = []
                for prefix, c in containers:
                    rep_ref = prefix + rep
                    if rep_ref in hidden_refs:
                        continue
                    instances = _instances(c, rep)[: self._counts.get(rep_ref, 0)]
                    for i, inst in enumerate(instances):
                        if pinned is None or i == pinned:
                            nxt.append((f"{rep_ref}[{i}]/", inst))
                if pinned is None:
                    many = True
                containers = nxt
            if q.type == "repeat":
                found: list[Any] = []
                for prefix, c in containers:
                    ref = prefix + q.name
                    if ref not in hidden_refs:
                        found += _instances(c, q.name)[: self._counts.get(ref, 0)]
                return found
            values = [
                _answer_value(q, c.get(q.name))
                for prefix, c in containers
                if prefix + q.name not in hidden_refs
            ]
            if many:
                return [v for v in values if v is not None]
            return values[0] if values else None

        return resolve

    def _evaluate(self, text: str, scope: Scope, current: Any = None) -> Any:
        ctx = expr.EvalContext(
            self._resolver(scope), current=_expr_value(current), today=self.today
        )
        return expr.evaluate(text, ctx)

    def _eval_bool(
        self,
        text: str,
        scope: Scope,
        current: Any = None,
        default: bool = True,
    ) -> bool:
        try:
            return expr.to_bool(self._evaluate(text, scope, current))
        except _EVAL_ERRORS:
            return default

    # ----- derived state -------------------------------------------------------------

    def _apply_defaults(
        self, questions: list[Question], container: dict[str, Any], scope: Scope
    ) -> None:
        """Fill defaults of a new session or a new repeat instance (as ODK does on load)."""
        for q in questions:
            if q.type == "group":
                self._apply_defaults(q.children, container, scope)
            elif q.default is not None and q.is_input and q.name not in container:
                raw: Any = q.default
                if q.default_is_expression:
                    try:
                        raw = self._evaluate(q.default, scope)
                    except _EVAL_ERRORS:
                        continue
                    if isinstance(raw, bool):
                        continue
                try:
                    value = parse_value(
                        q.type, raw if not isinstance(raw, float) else expr.to_string(raw), q.kind
                    )
                except BadValue:
                    continue
                if value is not None:
                    container[q.name] = value

    def _recompute(self) -> None:
        """Relevance, calculations and repeat counts until they stop changing."""
        for _ in range(_MAX_PASSES):
            hidden: set[str] = set()
            counts: dict[str, int] = {}
            changed = self._pass(self.form.questions, self.answers, "", (), False, hidden, counts)
            settled = hidden == self._hidden and counts == self._counts and not changed
            self._hidden, self._counts = hidden, counts
            if settled:
                break
        self._steps = self._collect_steps(self.form.questions, self.answers, "")

    def _pass(
        self,
        questions: list[Question],
        container: dict[str, Any],
        prefix: str,
        scope: Scope,
        hidden_above: bool,
        hidden: set[str],
        counts: dict[str, int],
    ) -> bool:
        """One document-order pass; reads last pass's relevance, writes the new one."""
        changed = False
        for q in questions:
            ref = prefix + q.name
            relevant = not hidden_above and (
                not q.relevant or self._eval_bool(q.relevant, scope, default=True)
            )
            if not relevant:
                hidden.add(ref)
            if q.type == "group":
                changed |= self._pass(
                    q.children, container, prefix, scope, not relevant, hidden, counts
                )
            elif q.type == "repeat":
                instances = container.get(q.name)
                if not isinstance(instances, list):
                    instances = []
                    if relevant and q.repeat_count:
                        container[q.name] = instances
                count = len(instances)
                if q.repeat_count:
                    count = self._fixed_count(q, scope) if relevant else 0
                    while relevant and len(instances) < count:
                        instance: dict[str, Any] = {}
                        self._apply_defaults(q.children, instance, scope)
                        instances.append(instance)
                        changed = True
                    # Extra instances nobody typed into go; typed ones stay (hidden) so
                    # raising the count again brings them back.
                    while len(instances) > count and self._blank(q.children, instances[-1], scope):
                        instances.pop()
                        changed = True
                counts[ref] = count
                for i, inst in enumerate(instances):
                    inst_ref = f"{ref}[{i}]"
                    inst_hidden = not relevant or i >= count
                    if inst_hidden:
                        hidden.add(inst_ref)
                    changed |= self._pass(
                        q.children,
                        inst,
                        inst_ref + "/",
                        (*scope, (q.name, i)),
                        inst_hidden,
                        hidden,
                        counts,
                    )
            elif relevant and q.calculation:  # calculate, or a question computed by the form
                try:
                    value = _calc_value(self._evaluate(q.calculation, scope))
                    if q.is_input and value is not None:  # stored as the question's type
                        value = parse_value(q.type, expr.to_string(value), q.kind)
                except (*_EVAL_ERRORS, BadValue):
                    value = None  # a broken calculation is an empty value, not a crash
                if container.get(q.name) != value or type(container.get(q.name)) is not type(value):
                    changed = True
                    if value is None:
                        container.pop(q.name, None)
                    else:
                        container[q.name] = value
        return changed

    def _blank(self, questions: list[Question], instance: dict[str, Any], scope: Scope) -> bool:
        """Whether a repeat instance holds nothing but its defaults and calculations."""
        fresh: dict[str, Any] = {}
        self._apply_defaults(questions, fresh, scope)
        for q in questions:
            if q.type == "group":
                if not self._blank(q.children, instance, scope):
                    return False
            elif q.type == "repeat":
                inner = _instances(instance, q.name)
                if any(not self._blank(q.children, i, scope) for i in inner):
                    return False
            elif q.is_input and not is_empty(instance.get(q.name)):
                if instance.get(q.name) != fresh.get(q.name):
                    return False
        return True

    def _fixed_count(self, q: Question, scope: Scope) -> int:
        try:
            n = expr.to_number(self._evaluate(q.repeat_count or "0", scope))
        except _EVAL_ERRORS:
            return 0
        if n != n or n < 0:  # NaN (no answer yet) or negative
            return 0
        return int(min(n, _MAX_INSTANCES))  # a typo of 10000 must not freeze the kiosk

    def _collect_steps(
        self, questions: list[Question], container: dict[str, Any], prefix: str
    ) -> list[Step]:
        steps: list[Step] = []
        for q in questions:
            ref = prefix + q.name
            if ref in self._hidden or q.type == "calculate":
                continue
            if q.type == "group":
                steps += self._collect_steps(q.children, container, prefix)
            elif q.type == "repeat":
                instances = _instances(container, q.name)
                for i, inst in enumerate(instances[: self._counts.get(ref, 0)]):
                    steps += self._collect_steps(q.children, inst, f"{ref}[{i}]/")
                if not q.repeat_count:
                    steps.append(Step(f"{ref}[#]", q, "repeat_prompt"))
            else:
                steps.append(Step(ref, q, "question"))
        return steps


def _instances(container: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A repeat's instances as stored (a list), or none when the value is not a list."""
    value = container.get(name)
    return value if isinstance(value, list) else []


def _prefix(parent: str) -> str:
    return f"{parent}/" if parent else ""


def _split_repeat_ref(name: str, parent: str) -> tuple[str, str]:
    """ "outer[0]/inner[#]" -> ("inner", "outer[0]"); a plain name passes through."""
    if "/" in name:
        parent, name = name.rsplit("/", 1)
    m = _SEGMENT.match(name)
    return (m.group(1) if m else name), parent


def _answer_value(q: Question, value: Any) -> Any:
    """A stored answer for expressions: input kept as typed because it did not parse
    ("abc" for a number) is no answer yet, so it feeds no calculation or count."""
    if q.is_input and value is not None and not has_type(q.type, value):
        return None
    return _expr_value(value)


def _expr_value(value: Any) -> Any:
    """An answer as kiosk.expr sees it: a select_multiple list becomes ODK's spaced string
    (a list there means "values across repeat instances")."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " ".join(value)
    return value


def _calc_value(value: Any) -> Any:
    """A calculation's result as stored: ODK keeps strings; numbers stay numbers here."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return tidy_number(value)
    if isinstance(value, list):
        text = expr.to_string(value)
        return text or None
    if isinstance(value, str):
        return value or None
    return value


def _answers_from_json(questions: list[Question], data: dict[str, Any]) -> dict[str, Any]:
    """JSON answers (a draft) back to engine values: ISO dates to `date`, repeats recursively.
    Anything else stays as stored (raw invalid input included), so drafts round-trip."""
    out: dict[str, Any] = {}
    by_name: dict[str, Question] = {}

    def index(qs: list[Question]) -> None:
        for q in qs:
            if q.type == "group":
                index(q.children)
            else:
                by_name[q.name] = q

    index(questions)
    for key, value in data.items():
        q = by_name.get(key)
        if q is not None and q.type == "repeat":
            # Only objects can be instances; anything else in a damaged draft is dropped.
            if isinstance(value, list):
                out[key] = [_answers_from_json(q.children, v) for v in value if isinstance(v, dict)]
        elif (
            q is not None and q.type == "date" and isinstance(value, str) and _ISO.fullmatch(value)
        ):
            try:
                out[key] = dt.date.fromisoformat(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


def validate_answers(
    form: Form, answers: Any, lang: str, today: dt.date | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """JSON answers (as `kiosk submit` reads them) checked as the UI checks them.

    Returns (payload, errors); see `kiosk.engine_json`.
    """
    from kiosk.engine_json import validate_json  # it builds on FormSession, defined here

    return validate_json(form, answers, lang, today)

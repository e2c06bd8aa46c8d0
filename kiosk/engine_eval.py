"""The form's expressions over a session's answers: relevance, calculations, repeat
counts, defaults, required, constraints and choice filters.

`Evaluator.recompute()` brings the derived state (which refs are hidden, how many
instances each repeat has, calculated answers) up to date after every change; it runs
passes until nothing moves, so calculations settle in dependency order. An expression
that fails to evaluate is the form's fault, never a crash: calculation empty, relevant
true, constraint false.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from kiosk import expr
from kiosk.calc_chain import of_questions
from kiosk.engine_model import (
    Answers,
    Node,
    Scope,
    descend,
    instances_of,
    walk,
)
from kiosk.engine_values import BadValue, Parsed, has_type, is_empty, parse_value
from kiosk.expr.limits import (
    MAX_CHAIN,
    MAX_INSTANCES,
    MAX_STEPS_RECOMPUTE,
    TOO_MANY_INSTANCES,
    Budget,
    LimitError,
)
from kiosk.expr.values import tidy_number
from kiosk.form import Choice, Form, Question, pick_text, texts_by_lang

# Passes of recompute(): at least this many, and as many as the form's longest chain of
# calculations needs (each pass settles at least one more link), up to MAX_CHAIN + 2.
_MIN_PASSES = 12
_MAX_INSTANCES = 500  # repeat_count beyond this is a typo, not a family

# What evaluating a form's expression may raise: the form's fault, never a crash.
EVAL_ERRORS = (expr.ExprError, ArithmeticError, ValueError, TypeError, RecursionError)


class Evaluator:
    """The answers and what the form's expressions derive from them."""

    def __init__(
        self,
        form: Form,
        answers: Answers,
        today: dt.date | None = None,
        seed: int | None = None,
    ) -> None:
        self.form = form
        self.answers = answers
        self.today = today
        self.seed = seed  # random(): the same numbers for the same session (kiosk.expr.odk)
        self.lang = "uz_Latn"  # jr:choice-name() and label lookups (FormSession sets it)
        self._rows: dict[str, list[dict[str, object]]] | None = None
        self._rows_lang = self.lang
        self.hidden: set[str] = set()  # refs of non-relevant nodes (and their insides)
        self.counts: dict[str, int] = {}  # repeat ref -> number of active instances
        # Limits hit by the last recompute (ref -> error, "" for no one field): the form's
        # fault, reported by `kiosk submit` (engine_json) rather than silently empty.
        self.limit_errors: dict[str, LimitError] = {}
        self._budget: Budget | None = None  # shared by one recompute's expressions
        self._instances = 0  # repeat entries met so far in this pass (MAX_INSTANCES)
        self._passes = min(max(_MIN_PASSES, _longest_chain(form) + 2), MAX_CHAIN + 2)

    def is_relevant(self, ref: str) -> bool:
        return ref not in self.hidden

    def repeat_count(self, ref: str) -> int:
        return self.counts.get(ref, 0)

    # ----- expressions ---------------------------------------------------------------

    def resolver(self, scope: Scope) -> Callable[[str], object]:
        """`${name}` as seen from inside `scope` (see kiosk.expr's contract); a
        non-relevant answer is empty, as in ODK."""
        hidden = self.hidden

        def count(rep_ref: str) -> int:
            return 0 if rep_ref in hidden else self.counts.get(rep_ref, 0)

        def resolve(name: str) -> object:
            q = self.form.get(name)
            if q is None:
                return None
            # Along q's repeats: the instance the scope pins, else every active one.
            path = [
                (rep, scope[depth][1] if depth < len(scope) and scope[depth][0] == rep else None)
                for depth, rep in enumerate(q.repeats)
            ]
            reached = descend(self.answers, path, count)
            if q.type == "repeat":
                found: list[Any] = []
                for prefix, c in reached:
                    found += instances_of(c, q.name)[: count(prefix + q.name)]
                return found
            values = [
                _answer_value(q, c.get(q.name))
                for prefix, c in reached
                if prefix + q.name not in hidden
            ]
            if any(index is None for _, index in path):
                return [v for v in values if v is not None]
            return values[0] if values else None

        return resolve

    def evaluate(self, text: str, scope: Scope, current: object = None, site: str = "") -> object:
        ctx = expr.EvalContext(
            self.resolver(scope),
            current=expr_value(current),
            today=self.today,
            budget=self._budget,
            instance=self.instance,
            position=scope[-1][1] + 1 if scope else None,
            choice_label=self.choice_label,
            seed=self.seed,
            site=site,
        )
        return expr.evaluate(text, ctx)

    def instance(self, name: str) -> list[dict[str, object]] | None:
        """The rows of a choice list or a CSV beside the form (instance('x'), pulldata),
        labels in the session's language."""
        if self._rows is None or self._rows_lang != self.lang:
            self._rows = secondary_instances(self.form, self.lang)
            self._rows_lang = self.lang
        return self._rows.get(name)

    def choice_label(self, field: str, value: str) -> str | None:
        q = self.form.get(field)
        if q is None:
            return None
        choice = next((c for c in q.choices if c.name == value), None)
        return choice.label(self.lang) if choice is not None else None

    def eval_bool(
        self, text: str, scope: Scope, current: object = None, default: bool = True
    ) -> bool:
        try:
            return expr.to_bool(self.evaluate(text, scope, current))
        except LimitError as exc:
            self.limit_errors.setdefault("", exc)
            return default
        except EVAL_ERRORS:
            return default

    def is_required(self, q: Question, scope: Scope) -> bool:
        """Whether `q` must be answered now (`required` may be an expression)."""
        if not q.required or not q.is_input:
            return False
        return self.eval_bool(q.required, scope)

    def accepts(self, q: Question, scope: Scope, value: object) -> bool:
        """Whether `value` passes `q`'s constraint (a broken constraint refuses)."""
        return not q.constraint or self.eval_bool(q.constraint, scope, value, default=False)

    def choices(self, q: Question, scope: Scope) -> list[Choice]:
        """The choices of `q` that pass its choice_filter now."""
        if not q.choice_filter:
            return list(q.choices)
        resolve = self.resolver(scope)
        # One budget for every choice of this look (not one per choice: 2,000 choices
        # times a 5,000-node filter ran 10 s); out of steps, the filter is broken.
        budget = Budget(MAX_STEPS_RECOMPUTE)
        kept = []
        for choice in q.choices:
            columns = {"name": choice.name, **choice.extra}
            ctx = expr.EvalContext(
                resolve,
                current=choice.name,
                today=self.today,
                resolve_bare=columns.get,
                budget=budget,
            )
            try:
                if expr.to_bool(expr.evaluate(q.choice_filter, ctx)):
                    kept.append(choice)
            except LimitError:
                return list(q.choices)  # a broken filter shows everything, not nothing
            except EVAL_ERRORS:
                kept.append(choice)  # a broken filter shows everything rather than nothing
        return kept

    # ----- defaults ------------------------------------------------------------------

    def default(self, q: Question, scope: Scope) -> Parsed:
        """`q`'s default as an answer (None when it has none or it does not parse)."""
        if q.default is None or not q.is_input:
            return None
        raw: Any = q.default
        if q.default_is_expression:
            try:
                raw = self.evaluate(q.default, scope)
            except EVAL_ERRORS:
                return None
            if isinstance(raw, bool):
                return None
        try:
            return parse_value(
                q.type, raw if not isinstance(raw, float) else expr.to_string(raw), q.kind
            )
        except BadValue:
            return None

    def apply_defaults(
        self, questions: Sequence[Question], container: Answers, scope: Scope
    ) -> None:
        """Fill defaults of a new session or a new repeat instance (as ODK does on load)."""
        for node in walk(questions, container, scope=scope, instances=_none):
            q = node.question
            if q.type != "group" and q.name not in container:
                value = self.default(q, scope)
                if value is not None:
                    container[q.name] = value

    # ----- derived state -------------------------------------------------------------

    def recompute(self) -> None:
        """Relevance, calculations and repeat counts until they stop changing."""
        self.limit_errors = {}
        self._budget = Budget(MAX_STEPS_RECOMPUTE)
        try:
            for _ in range(self._passes):
                hidden: set[str] = set()
                counts: dict[str, int] = {}
                try:
                    changed = self._pass(hidden, counts)
                except LimitError as exc:  # out of steps walking the form: keep what was done
                    self.limit_errors.setdefault("", exc)
                    break
                settled = hidden == self.hidden and counts == self.counts and not changed
                self.hidden, self.counts = hidden, counts
                if settled or self._budget.left < 0:  # out of steps: keep what was done
                    break
        finally:
            self._budget = None

    def _pass(self, hidden: set[str], counts: dict[str, int]) -> bool:
        """One document-order pass; reads last pass's relevance, writes the new one."""
        changed = False
        self._instances = 0
        for node in walk(self.form.questions, self.answers):
            if self._budget is not None:
                self._budget.spend()  # the walk is work too: a step per node met
            q = node.question
            relevant = node.parent not in hidden and (
                not q.relevant or self.eval_bool(q.relevant, node.scope)
            )
            if not relevant:
                hidden.add(node.ref)
            if q.type == "repeat":
                changed |= self._size(node, relevant, hidden, counts)
            elif q.type != "group" and relevant and q.calculation:
                changed |= self._calculate(node)
        return changed

    def _size(self, node: Node, relevant: bool, hidden: set[str], counts: dict[str, int]) -> bool:
        """A repeat's active count; a repeat_count repeat gets (or loses) instances to it."""
        q, container = node.question, node.container
        changed = False
        instances = container.get(q.name)
        if not isinstance(instances, list):
            instances = []
            if relevant and q.repeat_count:
                container[q.name] = instances
        count = len(instances)
        if q.repeat_count:
            count = self._fixed_count(q, node.scope) if relevant else 0
            while relevant and len(instances) < count:
                if self._instances + len(instances) >= MAX_INSTANCES:
                    # Said once, at the first repeat left short (not at each after it).
                    if not any(e.msgid == TOO_MANY_INSTANCES for e in self.limit_errors.values()):
                        self.limit_errors[node.ref] = LimitError(
                            TOO_MANY_INSTANCES, limit=MAX_INSTANCES
                        )
                    count = len(instances)
                    break
                instance: Answers = {}
                self.apply_defaults(q.children, instance, node.scope)
                instances.append(instance)
                changed = True
            # Extra instances nobody typed into go; typed ones stay (hidden) so
            # raising the count again brings them back.
            while len(instances) > count and self._blank(q.children, instances[-1], node.scope):
                instances.pop()
                changed = True
        self._instances += len(instances)
        counts[node.ref] = count
        for i in range(len(instances)):
            if not relevant or i >= count:
                hidden.add(node.instance_ref(i))
        return changed

    def _calculate(self, node: Node) -> bool:
        """Store a calculation's value (a calculate, or a question computed by the form)."""
        q, container = node.question, node.container
        try:
            old = container.get(q.name)  # `.` of the calculation: once() keeps it
            value = _calc_value(self.evaluate(q.calculation or "", node.scope, old, node.ref))
            if q.type == "integer" and isinstance(value, float):
                value = int(value)  # JavaRosa stores int(x), toward zero: 18 * 1.12 -> 20
            if q.is_input and value is not None:  # stored as the question's type
                value = parse_value(q.type, expr.to_string(value), q.kind)
        except LimitError as exc:
            self.limit_errors.setdefault(node.ref, exc)
            value = None
        except (*EVAL_ERRORS, BadValue):
            value = None  # a broken calculation is an empty value, not a crash
        old = container.get(q.name)
        if old == value and type(old) is type(value):
            return False
        if value is None:
            container.pop(q.name, None)
        else:
            container[q.name] = value
        return True

    def _blank(self, questions: Sequence[Question], instance: Answers, scope: Scope) -> bool:
        """Whether a repeat instance holds nothing but its defaults and calculations."""
        for node in walk(questions, instance, scope=scope):
            q = node.question
            value = node.container.get(q.name)
            if q.type in ("group", "repeat") or not q.is_input or is_empty(value):
                continue
            if value != self.default(q, scope):
                return False
        return True

    def _fixed_count(self, q: Question, scope: Scope) -> int:
        try:
            n = expr.to_number(self.evaluate(q.repeat_count or "0", scope))
        except EVAL_ERRORS:
            return 0
        if n != n or n < 0:  # NaN (no answer yet) or negative
            return 0
        return int(min(n, _MAX_INSTANCES))  # a typo of 10000 must not freeze the kiosk


def secondary_instances(form: Form, lang: str) -> dict[str, list[dict[str, object]]]:
    """Each choice list of the form and each CSV file its expressions read
    (``spec["kiosk_csv"]``, by xlsform_load), as rows of text by column."""
    out: dict[str, list[dict[str, object]]] = {}
    csv_files = form.spec.get("kiosk_csv") or {}
    if isinstance(csv_files, dict):
        for name, rows in csv_files.items():
            if isinstance(rows, list):
                out[str(name)] = [dict(r) for r in rows if isinstance(r, dict)]
    choices = form.spec.get("choices") or {}
    if isinstance(choices, dict):
        for name, rows in choices.items():
            if not isinstance(rows, list):
                continue
            # pyxform gives each choice of a translated list an itextId, "list-index",
            # which jr:itext() turns into the label (kiosk.expr.odk).
            translated = any(isinstance(r, dict) and isinstance(r.get("label"), dict) for r in rows)
            table = []
            for i, row in enumerate(r for r in rows if isinstance(r, dict)):
                label = pick_text(texts_by_lang(row.get("label")), lang)
                item = {**row, "label": label}
                if translated:
                    item["itextId"] = f"{name}-{i}"
                table.append(item)
            out[str(name)] = table
    return out


def _longest_chain(form: Form) -> int:
    """The longest chain of calculations reading calculations (kiosk.calc_chain)."""
    return of_questions(form.walk()).longest


def _none(_: Node) -> int:
    return 0


def _answer_value(q: Question, value: Any) -> Any:
    """A stored answer for expressions: input kept as typed because it did not parse
    ("abc" for a number) is no answer yet, so it feeds no calculation or count."""
    if q.is_input and value is not None and not has_type(q.type, value):
        return None
    return expr_value(value)


def expr_value(value: object) -> object:
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

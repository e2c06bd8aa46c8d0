"""Evaluating a syntax tree against a form's answers, with XPath 1.0 semantics."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from kiosk.expr.errors import ExplainedError, ExprError
from kiosk.expr.functions import FUNCTIONS
from kiosk.expr.limits import MAX_STEPS_EXPRESSION, Budget, work_of
from kiosk.expr.nodes import Bare, Binary, Call, Current, Literal, Lookup, Node, Ref, Unary
from kiosk.expr.values import parse_iso, tidy_number, to_bool, to_number, to_string


@dataclass
class EvalContext:
    """Where an expression's names get their values.

    ``resolve(name)`` gives the answer to ``${name}`` (None when unanswered; a list for
    a repeat child seen from outside the repeat). ``current`` is ``.``. ``today``
    pins today() for tests and replays. ``resolve_bare`` gives bare names, such as the
    choice columns a choice_filter compares (``region = ${region}``).
    """

    resolve: Callable[[str], object]
    current: object = None
    today: date | None = None
    resolve_bare: Callable[[str], object] | None = None
    # Evaluation steps left (kiosk.expr.limits): one budget per expression unless the
    # caller shares one across a whole recalculation.
    budget: Budget | None = None
    # The rows of a secondary instance (a choice list, a CSV beside the form) by name,
    # for instance('x')/root/item[...] and pulldata(); None: the form has none.
    instance: Callable[[str], Sequence[Mapping[str, object]] | None] | None = None
    # position(..): the 1-based number of the repeat entry being evaluated (None outside).
    position: int | None = None
    # jr:choice-name(value, '${field}'): the label of a choice of a select, by field name.
    choice_label: Callable[[str, str], str | None] | None = None
    # random(): a seed per submission and the place evaluated (a field's ref), so the
    # same session gives the same numbers on every recalculation (kiosk.expr.odk).
    seed: int | None = None
    site: str = ""
    draws: list[int] = field(default_factory=lambda: [0])


_RELATIONAL: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_dateish(v: Any) -> bool:
    return isinstance(v, date) or (isinstance(v, str) and parse_iso(v) is not None)


def _equal(a: Any, b: Any) -> bool:
    """XPath `=`: as booleans if either is one, else as numbers if either is one (or a
    date), else as strings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if (
        _is_number(a)
        or _is_number(b)
        or (isinstance(a, date) and _is_dateish(b))
        or (isinstance(b, date) and _is_dateish(a))
    ):
        return to_number(a) == to_number(b)
    return to_string(a) == to_string(b)


def _arith(op: str, x: float, y: float) -> int | float:
    if op == "+":
        r = x + y
    elif op == "-":
        r = x - y
    elif op == "*":
        r = x * y
    elif op == "div":
        if y == 0:  # IEEE 754, as XPath says: ±Infinity, or NaN for 0 div 0
            sign = x * math.copysign(1, y)
            r = math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, sign)
        else:
            r = x / y
    else:  # mod: XPath takes the sign of the dividend, like C's fmod
        r = math.nan if y == 0 or math.isinf(x) else math.fmod(x, y)
    return tidy_number(r)


def _combine(op: str, a: Any, right: Node, ctx: EvalContext) -> Any:
    """``a op right``, with `and`/`or` evaluating ``right`` only when needed."""
    if op == "and":
        return to_bool(a) and to_bool(_eval(right, ctx))
    if op == "or":
        return to_bool(a) or to_bool(_eval(right, ctx))
    b = _eval(right, ctx)
    if op == "=":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in _RELATIONAL:
        return _RELATIONAL[op](to_number(a), to_number(b))  # NaN compares false
    return _arith(op, to_number(a), to_number(b))


def _binary(node: Binary, ctx: EvalContext) -> Any:
    # Left-associative chains (`a + b + c + ...`) are folded in a loop rather than by
    # recursion, so a long sum of fields costs no stack depth.
    spine = [node]
    while isinstance(spine[-1].left, Binary):
        spine.append(spine[-1].left)
    acc = _eval(spine[-1].left, ctx)
    for n in reversed(spine):
        acc = _combine(n.op, acc, n.right, ctx)
    return acc


def _call(node: Call, ctx: EvalContext) -> Any:
    spec = FUNCTIONS.get(node.name)
    if spec is None:  # only if a registered function was removed after parsing
        raise ExprError(f"unknown function {node.name}()", None, node.pos)
    if spec.lazy:
        return spec.fn(ctx, node.args, _eval)
    args = [_eval(a, ctx) for a in node.args]
    if ctx.budget is not None:
        # Charged before the call: the work is in reading what the arguments hold.
        ctx.budget.spend(work_of(args))
    try:
        return spec.fn(ctx, *args) if spec.takes_ctx else spec.fn(*args)
    except ExplainedError:
        raise
    except ExprError as e:
        if e.pos is None:
            raise ExprError(f"{node.name}(): {e.message}", None, node.pos) from None
        raise
    except Exception as e:  # a registered function's own bug must not crash a form
        raise ExprError(f"{node.name}() failed: {e}", None, node.pos) from e


def _ref(node: Ref, ctx: EvalContext) -> Any:
    try:
        return ctx.resolve(node.name)
    except LookupError:  # a resolver that raises KeyError for a name it lacks
        raise ExprError(f"unknown field ${{{node.name}}}", None, node.pos) from None


def _bare(node: Bare, ctx: EvalContext) -> Any:
    if ctx.resolve_bare is None:
        raise ExprError(
            f"bare name {node.name!r} is not allowed here; write ${{{node.name}}}",
            None,
            node.pos,
        )
    return ctx.resolve_bare(node.name)


def _lookup(node: Lookup, ctx: EvalContext) -> Any:
    rows = ctx.instance(node.list_name) if ctx.instance is not None else None
    if rows is None:
        raise ExprError(f"no list or file named {node.list_name!r}", None, node.pos)
    found: list[Any] = []
    for index, row in enumerate(rows, 1):
        if node.predicate is not None:
            if ctx.budget is not None:
                ctx.budget.spend()
            kept = _eval(node.predicate, replace(ctx, resolve_bare=row.get))
            # XPath: a number in [ ] is a position (item[1]), anything else a condition.
            if not (kept == index if _is_number(kept) else to_bool(kept)):
                continue
        found.append(row.get(node.column or "name", ""))
    return found


# One entry per node type: a dict lookup is cheaper than a chain of isinstance tests,
# and the engine evaluates every relevant/constraint/calculate on each change.
_DISPATCH: dict[type, Callable[[Any, EvalContext], Any]] = {
    Literal: lambda node, ctx: node.value,
    Ref: _ref,
    Binary: _binary,
    Call: _call,
    Current: lambda node, ctx: ctx.current,
    Unary: lambda node, ctx: tidy_number(-to_number(_eval(node.operand, ctx))),
    Bare: _bare,
    Lookup: _lookup,
}


def _eval(node: Node, ctx: EvalContext) -> Any:
    if ctx.budget is not None:
        ctx.budget.spend()
    handler = _DISPATCH.get(type(node))
    if handler is None:
        raise ExprError(f"not an expression node: {node!r}")
    return handler(node, ctx)


def evaluate_node(node: Node, ctx: EvalContext) -> object:
    """The value of a parsed tree (``kiosk.expr.evaluate`` adds the text to errors).

    Without a shared budget, the expression gets MAX_STEPS_EXPRESSION steps of its own.
    """
    if ctx.budget is None:
        ctx = replace(ctx, budget=Budget(MAX_STEPS_EXPRESSION))
    return _eval(node, ctx)

"""The XLSForm expression language (XPath 1.0 as ODK implements it), never Python eval.

``parse(text)`` gives a cached syntax tree; ``evaluate(expr, ctx)`` computes it against
the answers an ``EvalContext`` resolves; ``references(text)`` lists the ``${name}``s an
expression reads (the form engine's dependency graph). Errors are ``ExprError``.
"""

from __future__ import annotations

from functools import lru_cache

from kiosk.expr import functions, odk  # noqa: F401 - odk registers its functions
from kiosk.expr.errors import ExplainedError, ExprError
from kiosk.expr.evaluator import EvalContext, evaluate_node
from kiosk.expr.functions import FUNCTIONS, FuncSpec, register_function
from kiosk.expr.nodes import Node, Ref, walk
from kiosk.expr.parser import MAX_DEPTH, MAX_LENGTH, parse_text
from kiosk.expr.values import to_bool, to_number, to_string

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "EvalContext",
    "ExplainedError",
    "ExprError",
    "FuncSpec",
    "Node",
    "evaluate",
    "parse",
    "references",
    "register_function",
    "to_bool",
    "to_number",
    "to_string",
]


def parse(text: str) -> Node:
    """The syntax tree of ``text`` (cached); raises ExprError saying what and where."""
    if not isinstance(text, str):  # before the cache, which would fail to hash a list
        raise ExprError(f"an expression must be text, not {type(text).__name__}")
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Node:
    return parse_text(text)


functions.ON_REGISTER.append(_parse_cached.cache_clear)


def references(text: str) -> set[str]:
    """The field names an expression reads through ``${name}``."""
    return {n.name for n in walk(parse(text)) if isinstance(n, Ref)}


def evaluate(expr: str | Node, ctx: EvalContext) -> object:
    """The value of ``expr``: str, int/float, bool, date or list. Raises ExprError."""
    node = parse(expr) if isinstance(expr, str) else expr
    try:
        return evaluate_node(node, ctx)
    except ExplainedError:
        raise
    except ExprError as e:
        if e.text is None and isinstance(expr, str):
            raise ExprError(e.message, expr, e.pos) from None
        raise

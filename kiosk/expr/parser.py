"""A Pratt parser from tokens to the syntax tree, with depth and size limits.

The limits keep both parsing and the (recursive) evaluator far from Python's
recursion limit, so hostile or broken forms raise ExprError, never RecursionError.
"""

from __future__ import annotations

from kiosk.expr.errors import ExplainedError, ExprError
from kiosk.expr.functions import FUNCTIONS, FuncSpec
from kiosk.expr.lexer import (
    COMMA,
    DOT,
    EOF,
    LOOKUP,
    LPAREN,
    NAME,
    NUM,
    OP,
    PARENT,
    REF,
    RPAREN,
    STR,
    Token,
    tokenize,
)
from kiosk.expr.nodes import Bare, Binary, Call, Current, Literal, Lookup, Node, Ref, Unary
from kiosk.expr.values import tidy_number
from kiosk.i18n import N_

MAX_LENGTH = 20_000
MAX_DEPTH = 100
TOO_DEEP = N_("expression is nested too deeply (more than {limit} levels)")
TOO_LONG = N_("expression is too long ({length} characters; at most {limit})")

# Binding powers, XPath 1.0 precedence from loosest to tightest.
_BINARY = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}
_UNARY_BP = 7


def _describe(tok: Token) -> str:
    return tok.kind if tok.kind in (EOF, NUM, STR, REF, NAME) else repr(tok.value)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0
        # Tree depth of each node built, tracked beside the tree (nodes stay plain).
        self.depth: dict[int, int] = {}

    def error(self, message: str, pos: int) -> ExprError:
        return ExprError(message, self.text, pos)

    def too_deep(self, pos: int) -> ExprError:
        error = ExplainedError(TOO_DEEP, limit=MAX_DEPTH)
        error.text, error.pos = self.text, pos
        return error

    def peek(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        tok = self.peek()
        if tok.kind != kind:
            raise self.error(f"expected {what}, found {_describe(tok)}", tok.pos)
        return self.advance()

    def node(self, n: Node, *children: Node) -> Node:
        # A binary node's left operand costs the evaluator no depth (it folds the left
        # spine in a loop), so only the other children count.
        if isinstance(n, Binary):
            d = max(self.depth.get(id(children[0]), 1), 1 + self.depth.get(id(children[1]), 1))
        else:
            d = 1 + max((self.depth.get(id(c), 1) for c in children), default=0)
        if d > MAX_DEPTH:
            raise self.too_deep(n.pos)
        self.depth[id(n)] = d
        return n

    def parse(self) -> Node:
        tree = self.expression(0)
        tok = self.peek()
        if tok.kind != EOF:
            raise self.error(f"unexpected {_describe(tok)}", tok.pos)
        return tree

    def expression(self, min_bp: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.too_deep(self.peek().pos)
        left = self.prefix()
        while True:
            tok = self.peek()
            bp = _BINARY.get(tok.value) if tok.kind == OP else None
            if bp is None or bp <= min_bp:
                break
            self.advance()
            right = self.expression(bp)
            left = self.node(Binary(tok.value, left, right, tok.pos), left, right)
        self.nesting -= 1
        return left

    def prefix(self) -> Node:
        tok = self.advance()
        if tok.kind == NUM:
            value = float(tok.value) if "." in tok.value else tidy_number(float(tok.value))
            return Literal(value, tok.pos)
        if tok.kind == STR:
            return Literal(tok.value, tok.pos)
        if tok.kind == REF:
            return Ref(tok.value, tok.pos)
        if tok.kind == DOT:
            return Current(tok.pos)
        if tok.kind == LPAREN:
            inner = self.expression(0)
            self.expect(RPAREN, "')'")
            return inner
        if tok.kind == OP and tok.value == "-":
            operand = self.expression(_UNARY_BP)
            return self.node(Unary("-", operand, tok.pos), operand)
        if tok.kind == NAME:
            if self.peek().kind == LPAREN:
                return self.call(tok)
            return Bare(tok.value, tok.pos)
        if tok.kind == LOOKUP:
            return self.lookup(tok)
        if tok.kind == PARENT:
            raise self.error("'..' is only supported in position(..); use ${name}", tok.pos)
        if tok.kind == EOF:
            raise self.error("expression ends too early", tok.pos)
        raise self.error(f"unexpected {_describe(tok)}", tok.pos)

    def lookup(self, tok: Token) -> Node:
        list_name, predicate, column = tok.value.split("\x00")
        pred: Node | None = None
        if predicate.strip():
            sub = _Parser(predicate)
            sub.depth = self.depth  # depth counts across the predicate (MAX_DEPTH)
            try:
                pred = sub.parse()
            except ExplainedError:
                raise
            except ExprError as e:
                raise self.error(f"in [{predicate}]: {e.message}", tok.pos) from None
        return self.node(Lookup(list_name, pred, column, tok.pos), *([pred] if pred else []))

    def call(self, name: Token) -> Node:
        spec = FUNCTIONS.get(name.value)
        if spec is None:
            raise self.error(f"unknown function {name.value}()", name.pos)
        self.advance()  # (
        if name.value == "position" and self.peek().kind == PARENT:
            self.advance()  # position(..): the enclosing repeat entry, as position()
            self.expect(RPAREN, "')'")
            return Call(name.value, (), name.pos)
        args: list[Node] = []
        if self.peek().kind != RPAREN:
            args.append(self.expression(0))
            while self.peek().kind == COMMA:
                self.advance()
                args.append(self.expression(0))
        self.expect(RPAREN, "',' or ')'")
        n = len(args)
        if n < spec.min_args or (spec.max_args is not None and n > spec.max_args):
            raise self.error(f"{name.value}() takes {_arity_text(spec)}, not {n}", name.pos)
        return self.node(Call(name.value, tuple(args), name.pos), *args)


def _arity_text(spec: FuncSpec) -> str:
    lo, hi = spec.min_args, spec.max_args
    if hi is None:
        return f"at least {lo} argument{'s' if lo != 1 else ''}"
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"


def parse_text(text: str) -> Node:
    """Parse an expression; raises ExprError with the position of the problem."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExplainedError(TOO_LONG, length=len(text), limit=MAX_LENGTH)
    if not text.strip():
        raise ExprError("empty expression", text, 0)
    return _Parser(text).parse()

"""Tokens of XLSForm expressions (XPath 1.0 lexical rules, plus ``${name}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.expr.errors import ExprError

# Token kinds.
NUM, STR, REF, NAME, DOT, OP, LPAREN, RPAREN, COMMA, EOF, PARENT, LOOKUP = (
    "number",
    "string",
    "reference",
    "name",
    "'.'",
    "operator",
    "'('",
    "')'",
    "','",
    "end of expression",
    "'..'",
    "instance(...) path",
)

# XLSForm field names: letters, digits, _ - . (Unicode letters allowed, as pyxform does).
_REF = re.compile(r"\$\{\s*([^\W\d][\w.\-]*)\s*\}")
# ${last-saved#name}: the answer of the last form saved on this device. A kiosk serves
# strangers one after another, so it is always empty here (docs/javarosa.md).
_LAST_SAVED = re.compile(r"\$\{\s*last-saved#[^\W\d][\w.\-]*\s*\}")
# A relative path to a field (`../name`, `current()/../name`): field names are unique in
# a form, so it is that field, as ${name}. A bare `..` (position(..)) is the enclosing
# repeat entry.
_RELATIVE = re.compile(r"(?:current\(\s*\)/)?(?:\.\./)+([^\W\d][\w.\-]*)")
_PARENT = re.compile(r"(?:current\(\s*\)/)?\.\.(?![\w/])")
# instance('list')/root/item[predicate]/column: a row lookup in a choice list or CSV.
_INSTANCE = re.compile(r"instance\(\s*(['\"])([^'\"]*)\1\s*\)/root/item")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
# ASCII digits only: str.isdigit() also takes "٣" or "²", which _NUMBER does not.
_DIGITS = frozenset("0123456789")
# An XPath QName: NCName (letters, digits, . - _) with an optional prefix (jr:choice-name).
NAME_PATTERN = re.compile(r"[^\W\d][\w.\-]*(?::[^\W\d][\w.\-]*)?")
_WORD_OPS = {"and", "or", "div", "mod"}
_SYMBOL_OPS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*")
# After one of these, `*` is multiplication and `and/or/div/mod` are operators (XPath 3.7).
_OPERAND_END = {NUM, STR, REF, NAME, DOT, RPAREN, PARENT, LOOKUP}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raises ExprError naming the position of a bad character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        prev_operand = bool(tokens) and tokens[-1].kind in _OPERAND_END
        if m := _LAST_SAVED.match(text, i):
            tokens.append(Token(STR, "", i))
            i = m.end()
        elif m := (_RELATIVE.match(text, i) if c in ".c" else None):
            tokens.append(Token(REF, m.group(1), i))
            i = m.end()
        elif m := (_PARENT.match(text, i) if c in ".c" else None):
            tokens.append(Token(PARENT, "..", i))
            i = m.end()
        elif m := (_INSTANCE.match(text, i) if c == "i" else None):
            i = _lookup(text, i, m, tokens)
        elif c == "$":
            m = _REF.match(text, i)
            if not m:
                raise ExprError("malformed ${...} reference", text, i)
            tokens.append(Token(REF, m.group(1), i))
            i = m.end()
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise ExprError("unterminated string", text, i)
            tokens.append(Token(STR, text[i + 1 : end], i))
            i = end + 1
        elif c in _DIGITS or (c == "." and text[i + 1 : i + 2] in _DIGITS):
            m = _NUMBER.match(text, i)
            assert m is not None  # the first character is a digit or ".digit"
            tokens.append(Token(NUM, m.group(), i))
            i = m.end()
        elif c == ".":
            if text.startswith("..", i):
                raise ExprError("this '..' path is not supported; use ${name}", text, i)
            tokens.append(Token(DOT, ".", i))
            i += 1
        elif c == "(":
            tokens.append(Token(LPAREN, c, i))
            i += 1
        elif c == ")":
            tokens.append(Token(RPAREN, c, i))
            i += 1
        elif c == ",":
            tokens.append(Token(COMMA, c, i))
            i += 1
        elif c == "*" and not prev_operand:
            raise ExprError("'*' needs a value on its left", text, i)
        elif op := next((o for o in _SYMBOL_OPS if text.startswith(o, i)), None):
            tokens.append(Token(OP, op, i))
            i += len(op)
        else:
            m = NAME_PATTERN.match(text, i)
            if not m:
                if c == "/":
                    raise ExprError("paths with '/' are not supported; use ${name}", text, i)
                if c in "\u2018\u2019\u201c\u201d":  # a spreadsheet's "smart" quotes
                    raise ExprError(f"curly quote {c!r}: use straight quotes ' or \"", text, i)
                raise ExprError(f"unexpected character {c!r}", text, i)
            word = m.group()
            if prev_operand and word in _WORD_OPS:
                tokens.append(Token(OP, word, i))
            else:
                tokens.append(Token(NAME, word, i))
            i = m.end()
    tokens.append(Token(EOF, "", n))
    return tokens


_COLUMN = re.compile(r"/([^\W\d][\w.\-]*)")


def _lookup(text: str, start: int, m: re.Match[str], tokens: list[Token]) -> int:
    """One LOOKUP token for ``instance('x')/root/item[pred]/column``: its value is
    ``list \x00 predicate \x00 column`` (the parser parses the predicate)."""
    i = m.end()
    predicate = ""
    if text.startswith("[", i):
        end = _closing_bracket(text, i)
        if end < 0:
            raise ExprError("'[' is not closed", text, i)
        predicate = text[i + 1 : end]
        i = end + 1
    column = ""
    if col := _COLUMN.match(text, i):
        column = col.group(1)
        i = col.end()
    if text.startswith(("/", "["), i):
        raise ExprError("only instance('list')/root/item[...]/column is supported", text, i)
    tokens.append(Token(LOOKUP, "\x00".join((m.group(2), predicate, column)), start))
    return i


def _closing_bracket(text: str, i: int) -> int:
    depth, quote = 0, ""
    for j in range(i, len(text)):
        c = text[j]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return j
    return -1

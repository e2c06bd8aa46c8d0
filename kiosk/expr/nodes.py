"""The syntax tree: small immutable nodes, so parsed expressions can be cached and shared."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Ref:
    """``${name}``: an answer of the form."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Current:
    """``.``: the value being checked (a constraint) or the current choice."""

    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Bare:
    """A bare name such as a choice column in a choice_filter: ``region = ${region}``."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # only "-": XPath's not() is a function
    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Lookup:
    """``instance('list')/root/item[predicate]/column``: rows of a choice list or a CSV
    beside the form; inside ``predicate`` bare names are the row's columns."""

    list_name: str
    predicate: Node | None
    column: str
    pos: int = field(default=0, compare=False)


Node = Literal | Ref | Current | Bare | Unary | Binary | Call | Lookup


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, iteratively (trees are depth-bounded, but cheap anyway)."""
    stack: list[Node] = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, Unary):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack.extend((n.right, n.left))
        elif isinstance(n, Call):
            stack.extend(reversed(n.args))
        elif isinstance(n, Lookup) and n.predicate is not None:
            stack.append(n.predicate)

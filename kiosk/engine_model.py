"""The answers tree of a form session: refs, the one walk over it, and lookups.

Answers are a dict from field name to value; groups do not nest answers, a repeat's
value is a list of instance dicts. Every pass over the tree (relevance and
calculations, steps, payload, defaults, repeat counts of JSON input) is `walk()`;
every lookup down a path of repeat instances is `descend()`.

Refs: `"name"` for a field outside repeats, `"rep[0]/child"` inside an instance,
`"rep[0]/inner[1]/child"` nested, `"rep[#]"` for a repeat's "add another?" prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from kiosk.form import Form, Question

SEGMENT = re.compile(r"^([^\[\]/]+)\[(\d+|#)\]$")

Scope = tuple[tuple[str, int], ...]  # enclosing repeat instances: ((repeat, index), ...)
Answers = dict[str, object]


@dataclass(frozen=True)
class Node:
    """One question met by `walk()`, where it stands in the answers."""

    question: Question
    ref: str  # a group's ref is its name inside the current instance
    container: Answers  # the dict holding the answer (a repeat: its list of instances)
    scope: Scope
    parent: str  # ref of the enclosing group or repeat instance; "" at the top
    end: bool = False  # the close of a repeat, after its instances (see `walk`)

    def instance_ref(self, index: int) -> str:
        return f"{self.ref}[{index}]"


def walk(
    questions: Sequence[Question],
    container: Answers,
    *,
    scope: Scope = (),
    skip: Callable[[Node], bool] | None = None,
    instances: Callable[[Node], int] | None = None,
    repeat_ends: bool = False,
) -> Iterator[Node]:
    """Every question in document order, groups and repeat instances entered.

    `skip(node)` true leaves a node and everything inside it out; `instances(node)`
    limits how many of a repeat's instances are entered (all stored ones by default).
    A repeat's instances are read after its node is yielded, so the consumer may add or
    drop instances there. `repeat_ends` also yields a repeat again, with `end=True`,
    after its instances. `scope` is the repeat scope of `container` (refs stay relative).
    """

    def level(
        qs: Sequence[Question], container: Answers, prefix: str, scope: Scope, parent: str
    ) -> Iterator[Node]:
        for q in qs:
            node = Node(q, prefix + q.name, container, scope, parent)
            if skip is not None and skip(node):
                continue
            yield node
            if q.type == "group":
                yield from level(q.children, container, prefix, scope, node.ref)
            elif q.type == "repeat":
                stored = instances_of(container, q.name)
                if instances is not None:
                    stored = stored[: instances(node)]
                for i, instance in enumerate(stored):
                    ref = node.instance_ref(i)
                    yield from level(q.children, instance, f"{ref}/", (*scope, (q.name, i)), ref)
                if repeat_ends:
                    yield Node(q, node.ref, container, scope, parent, end=True)

    return level(questions, container, "", scope, "")


def fields(questions: Sequence[Question]) -> dict[str, Question]:
    """The questions answered at one level (top or one instance), groups flattened."""
    return {n.question.name: n.question for n in walk(questions, {}) if n.question.type != "group"}


def instances_of(container: Answers, name: str) -> list[Answers]:
    """A repeat's instances as stored (a list), or none when the value is not a list."""
    value = container.get(name)
    return value if isinstance(value, list) else []


def descend(
    answers: Answers,
    path: Sequence[tuple[str, int | None]],
    count: Callable[[str], int] | None = None,
) -> list[tuple[str, Answers]]:
    """The instance dicts reached from the top down the repeats of `path`, with their
    ref prefixes. A pinned index takes that instance, None every instance (only the
    first `count(repeat_ref)` when `count` is given)."""
    reached: list[tuple[str, Answers]] = [("", answers)]
    for rep, pinned in path:
        deeper: list[tuple[str, Answers]] = []
        for prefix, container in reached:
            rep_ref = prefix + rep
            stored = instances_of(container, rep)
            if count is not None:
                stored = stored[: count(rep_ref)]
            for i, instance in enumerate(stored):
                if pinned is None or i == pinned:
                    deeper.append((f"{rep_ref}[{i}]/", instance))
        reached = deeper
    return reached


def parse_ref(ref: str) -> tuple[list[tuple[str, int]], str]:
    """`"a[0]/b[1]/c"` -> ([("a", 0), ("b", 1)], "c"); a trailing `x[#]` stays as is."""
    parts = ref.split("/")
    path: list[tuple[str, int]] = []
    for part in parts[:-1]:
        m = SEGMENT.match(part)
        if not m or m.group(2) == "#":
            raise KeyError(ref)
        path.append((m.group(1), int(m.group(2))))
    return path, parts[-1]


def question_at(form: Form, ref: str) -> tuple[Question, Scope]:
    """The question of a step ref (a prompt `rep[#]` gives the repeat) and its scope."""
    path, last = parse_ref(ref)
    m = SEGMENT.match(last)
    q = form.get(m.group(1) if m else last)
    if q is None:
        raise KeyError(ref)
    return q, tuple(path)


def locate(form: Form, answers: Answers, ref: str) -> tuple[Answers, Question, Scope]:
    """The dict holding `ref`'s answer, its question and its repeat scope (KeyError if none)."""
    path, name = parse_ref(ref)
    q = form.get(name)
    if q is None:
        raise KeyError(ref)
    return _instance(answers, path, q, ref), q, tuple(path)


def repeat_container(form: Form, answers: Answers, name: str, parent: str) -> tuple[Answers, Scope]:
    """The dict holding repeat `name`'s instances, inside the instance `parent` ("" at the top)."""
    q = form.get(name)
    if q is None or q.type != "repeat":
        raise KeyError(name)
    if not parent:
        if q.repeats:
            raise KeyError(name)
        return answers, ()
    path, _ = parse_ref(f"{parent}/{name}")
    return _instance(answers, path, q, parent), tuple(path)


def _instance(answers: Answers, path: list[tuple[str, int]], q: Question, ref: str) -> Answers:
    if tuple(rep for rep, _ in path) != q.repeats:
        raise KeyError(ref)
    reached = descend(answers, path)
    if not reached:
        raise KeyError(ref)
    return reached[0][1]


def split_repeat_ref(name: str, parent: str) -> tuple[str, str]:
    """ "outer[0]/inner[#]" -> ("inner", "outer[0]"); a plain name passes through."""
    if "/" in name:
        parent, name = name.rsplit("/", 1)
    m = SEGMENT.match(name)
    return (m.group(1) if m else name), parent


def prefix_of(parent: str) -> str:
    return f"{parent}/" if parent else ""

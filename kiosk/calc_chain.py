"""How calculations depend on calculations: cycles and chain depth, found iteratively.

A form whose ``${k1}`` reads ``${k0}``, ``${k2}`` reads ``${k1}`` ... 3,000 times must get
a clear error, not a RecursionError from a recursive walk, so everything here is a loop
(Kahn's topological sort). Used by ``kiosk catalog check`` (kiosk.xlsform_check), by the
catalog when it loads a form, and by the engine to know how many passes settle a form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Protocol

from kiosk.expr.limits import MAX_CHAIN


@dataclass(frozen=True)
class Chains:
    """``depth[name]``: calculations in the longest chain ending at ``name`` (1 when it
    reads no calculation); ``cycles``: each cycle once, as the names along it."""

    depth: dict[str, int]
    cycles: list[list[str]]

    @property
    def longest(self) -> int:
        return max(self.depth.values(), default=0)

    def too_long(self, limit: int = MAX_CHAIN) -> tuple[str, int] | None:
        """The field ending the longest chain and its depth, when over ``limit``."""
        if self.longest <= limit:
            return None
        name = max(self.depth, key=lambda n: self.depth[n])
        return name, self.depth[name]


class Calculated(Protocol):
    """What `of_questions` reads of a form's question (kiosk.form.Question)."""

    @property
    def name(self) -> str: ...

    @property
    def calculation(self) -> str | None: ...


def of_questions(questions: Iterable[Calculated]) -> Chains:
    """`chains` of a form's questions (``form.walk()``); a calculation that does not
    parse is left out: the form checks report it."""
    from kiosk import expr  # the expression language loads only when a form is checked

    deps: dict[str, set[str]] = {}
    for q in questions:
        if q.calculation:
            try:
                deps[q.name] = expr.references(q.calculation)
            except expr.ExprError:
                continue
    return chains(deps)


def chains(deps: Mapping[str, Set[str]]) -> Chains:
    """Depths and cycles of calculations; ``deps[name]`` is what ``name`` reads (names
    that are not keys, the answers people type, are ignored)."""
    calc_deps = {name: {d for d in ds if d in deps} for name, ds in deps.items()}
    readers: dict[str, list[str]] = {name: [] for name in calc_deps}
    waiting = {name: len(ds) for name, ds in calc_deps.items()}
    for name, ds in calc_deps.items():
        for d in ds:
            readers[d].append(name)
    depth: dict[str, int] = {}
    ready = [name for name, n in waiting.items() if n == 0]
    while ready:
        name = ready.pop()
        depth[name] = 1 + max((depth[d] for d in calc_deps[name]), default=0)
        for reader in readers[name]:
            waiting[reader] -= 1
            if waiting[reader] == 0:
                ready.append(reader)
    return Chains(depth, _cycles({n: calc_deps[n] for n in calc_deps if n not in depth}))


def _cycles(stuck: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle among the names a topological sort could not order, found by walking
    from each unvisited name along its (sorted) first stuck dependency."""
    found: list[list[str]] = []
    seen_cycles: set[frozenset[str]] = set()
    visited: set[str] = set()
    for start in stuck:
        path: list[str] = []
        where: dict[str, int] = {}
        name = start
        while name not in visited:
            visited.add(name)
            where[name] = len(path)
            path.append(name)
            name = min(d for d in stuck[name] if d in stuck)
        if name in where:  # closed a cycle on this walk
            cycle = path[where[name] :]
            if frozenset(cycle) not in seen_cycles:
                seen_cycles.add(frozenset(cycle))
                found.append(cycle)
    return found

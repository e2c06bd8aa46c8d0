"""The bounds every form expression runs within, so a hostile or broken form stops with a
clear error instead of hanging, eating memory or overflowing the stack.

Each limit is a step count, a size or a depth, never a timer, so the outcome is the same
on a fast laptop and a slow kiosk. ``LimitError`` is an ``ExprError`` (callers that treat
a broken expression as the form's fault keep doing so) carrying an English ``msgid`` and
its parameters, so the CLI and the form checker can say it in the user's language.
docs/ARCHITECTURE.md ("Bounded evaluation") lists the limits and why each is where it is.
"""

from __future__ import annotations

from kiosk.expr.errors import ExplainedError
from kiosk.i18n import N_

# The longest string an expression may build (characters). A form's longest honest text
# is a few hundred characters; 64 Ki leaves room and stops a concat doubling chain at its
# 15th step instead of at gigabytes.
MAX_STRING = 65_536
# Nodes evaluated by one expression on its own, and by one recalculation of a whole form
# (every relevant, calculate and repeat_count, all passes). A 3,000-question form with a
# few nodes per expression stays far below; a pathological one stops.
MAX_STEPS_EXPRESSION = 100_000
MAX_STEPS_RECOMPUTE = 500_000
# A function call also costs a step per this many characters (or list items) it reads:
# a node is not one step when it scans a 64 Ki string (200 substring() calls on one
# took minutes in Python while counting 1,000 steps). Honest texts cost a step or two.
CHARS_PER_STEP = 64
# Repeat entries in all the form's repeats together (each repeat_count is also capped at
# 500): three repeats nested 500 deep made 250,000 entries (235 MB). A family's form
# has tens.
MAX_INSTANCES = 10_000
# Calculations depending on calculations: ${a} <- ${b} <- ... this many links at most.
MAX_CHAIN = 200
# Nesting of answers JSON (`kiosk submit`, drafts, bundles): repeats need 2-3 levels.
MAX_JSON_DEPTH = 32
# A regex() pattern, in characters, and the memory RE2 may use to compile and run one
# (its program and its DFA cache: RE2's default of 8 MiB, times the compiled patterns
# kept, took 700 MB for a form of 300 patterns; honest patterns need a few KiB).
MAX_PATTERN = 2_000
REGEX_MAX_MEM = 1 << 20
# RE2 runs in time linear in the text, times the size of the pattern's program (when its
# DFA gives up, the NFA steps every instruction for every character): (a|b|c|d){1000}
# (3,004 instructions) took 1.5 s to search 100,000 characters. A program is at most
# MAX_PROGRAM instructions (an honest pattern has tens), and a search costs a step per
# REGEX_WORK_PER_STEP characters-times-instructions.
MAX_PROGRAM = 2_000
REGEX_WORK_PER_STEP = 256


class LimitError(ExplainedError):
    """An expression went past one of the limits above; ``say(lang)`` translates it."""


STRING_TOO_LONG = N_("a text result would be longer than {limit} characters")
TOO_MANY_STEPS = N_("the form's expressions need more than {limit} evaluation steps")
TOO_MANY_INSTANCES = N_("the form's repeats would hold more than {limit} entries in all")
CHAIN_TOO_LONG = N_(
    "calculation chain too long: ${{{field}}} ends a chain of {depth} calculations, "
    "each reading the one before (at most {limit})"
)


class Budget:
    """Evaluation steps left; shared by every expression of one recalculation."""

    __slots__ = ("left", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise LimitError(TOO_MANY_STEPS, limit=self.limit)


def work_of(args: list[object]) -> int:
    """The extra steps a call costs for the size of what it reads (strings, lists)."""
    size = sum(len(a) for a in args if isinstance(a, str | list | tuple))
    return size // CHARS_PER_STEP


def check_length(n: int) -> None:
    """Refuse, before building it, a string of ``n`` characters over MAX_STRING."""
    if n > MAX_STRING:
        raise LimitError(STRING_TOO_LONG, limit=MAX_STRING)

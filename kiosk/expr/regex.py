"""regex() on RE2: Java/JavaScript-style patterns, run in linear time.

Forms come from the ODK world, whose regex() is Java's ``java.util.regex``, and a full
match (getodk/javarosa's ``Pattern.matches``): the kiosk matches the whole text too
(``matches``), which the differential test checks against JavaRosa (docs/javarosa.md).
Python's ``re`` backtracks (``^(a+)+$`` ran for minutes) and refuses some patterns Java
accepts (``[\\w-\\.]``), and its ``\\d``/``\\w`` match Arabic-Indic digits and Cyrillic
letters. RE2 (google-re2) runs in time linear in the input, with ASCII ``\\d \\w \\s`` as
Java's, and its memory capped (``limits.REGEX_MAX_MEM``).

``translate`` rewrites what means the same in both but RE2 spells differently (an
unescaped ``-`` at a class edge or after ``\\w``, ``\\uXXXX``, ``(?<name>``, ``\\Z``) and
refuses, with a translatable reason, what RE2 cannot do: back-references, lookaround,
atomic groups, possessive quantifiers, Java's class intersection and nesting.

``java_problems`` and ``catastrophic`` serve ``kiosk catalog check``: patterns ODK Collect
(Java) would not compile, as far as a cheap scan can tell (the list is in
docs/ARCHITECTURE.md), and nested repetition that RE2 runs safely but a phone's
backtracking engine would hang on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import re2

from kiosk.expr.errors import ExplainedError
from kiosk.expr.limits import MAX_PATTERN, MAX_PROGRAM, REGEX_MAX_MEM, REGEX_WORK_PER_STEP
from kiosk.i18n import N_, tr

CACHE_SIZE = 64  # compiled patterns kept (a form has a handful; LRU beyond): at most
# CACHE_SIZE * REGEX_MAX_MEM = 64 MiB

BACKREFERENCE = N_("back-references such as \\1 or \\k<name> cannot be run in linear time")
LOOKAROUND = N_("lookahead and lookbehind such as (?=...) or (?<!...) cannot be run in linear time")
ATOMIC = N_("atomic groups (?>...) and possessive quantifiers such as a*+ are not supported")
CLASS_SET = N_("character class intersection or nesting such as [a-z&&[^x]] is not supported")
COMMENT = N_("comments (?#...) are not supported")
TOO_LONG = N_("the pattern is longer than {limit} characters")
RE2_ERROR = N_("the pattern cannot be compiled: {reason}")
TOO_COMPLEX = N_(
    "the pattern is too complex: {size} steps per character of the answer (at most {limit})"
)
# What Java would refuse (kiosk catalog check).
UNBALANCED = N_("unbalanced parentheses")
UNCLOSED_CLASS = N_("a character class [ is not closed")
TRAILING_BACKSLASH = N_("the pattern ends with a backslash")
BAD_ESCAPE = N_("\\{char} is not an escape Java knows")
PYTHON_ONLY = N_("{syntax} is Python-only syntax")
BAD_BRACE = N_(
    "'{brace}' must start a repetition such as {example}; write \\{brace} for the character"
)
NOTHING_TO_REPEAT = N_("'{char}' has nothing to repeat")
CATASTROPHIC = N_(
    "nested repetition {part} can make ODK Collect hang on a phone (the kiosk is safe)"
)

# Letters Java's Pattern accepts after a backslash (outside \Q...\E).
_JAVA_ESCAPES = frozenset("tnrfaecxu0dDsSwWbBAGZzQEpPhHvVRXNk123456789")


class RegexRefused(ExplainedError):
    """A pattern the kiosk will not run; ``say(lang)`` says why in any language."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid, "regex(): ", **params)


@dataclass(frozen=True)
class Problem:
    """A finding of the form checker about one pattern."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    def say(self, lang: str) -> str:
        return tr(lang, self.msgid, **self.params)


def _hex4(p: str, i: int) -> bool:
    return len(p) >= i + 4 and all(c in "0123456789abcdefABCDEF" for c in p[i : i + 4])


def translate(pattern: str) -> str:
    """The RE2 spelling of a Java/JavaScript pattern; RegexRefused for what RE2 lacks."""
    if len(pattern) > MAX_PATTERN:
        raise RegexRefused(TOO_LONG, limit=MAX_PATTERN)
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = False  # just after [ or [^
    after_class_escape = False  # just after \w \d \s ... inside a class
    after_quantifier = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            if nxt in "123456789" or nxt == "k":
                raise RegexRefused(BACKREFERENCE)
            if nxt == "u" and _hex4(pattern, i + 2):
                out.append("\\x{" + pattern[i + 2 : i + 6] + "}")
                i += 6
            elif nxt == "Q":
                end = pattern.find("\\E", i + 2)
                end = n if end < 0 else end
                out.append(re2.escape(pattern[i + 2 : end]))
                i = end + 2
            elif nxt == "Z" and not in_class:
                out.append("(?:\\n?\\z)")
                i += 2
            elif nxt == "s" or (nxt == "S" and not in_class):
                # Java's \s is [ \t\n\x0B\f\r]; RE2's lacks the vertical tab \x0B.
                spaces = "\\t\\n\\x0B\\f\\r "
                out.append(spaces if in_class else f"[{'^' if nxt == 'S' else ''}{spaces}]")
                i += 2
            else:
                out.append(pattern[i : i + 2])
                i += 2
            after_class_escape = in_class and nxt in "dDwWsS"
            class_start = after_quantifier = False
            continue
        if in_class:
            if c == "]" and not class_start:
                in_class = False
                out.append(c)
            elif c == "[":
                raise RegexRefused(CLASS_SET)
            elif c == "&" and pattern.startswith("&&", i):
                raise RegexRefused(CLASS_SET)
            elif c == "-" and (class_start or after_class_escape or pattern.startswith("]", i + 1)):
                out.append("\\-")  # a literal '-' in Java and JavaScript
            else:
                out.append(c)
            class_start = after_class_escape = False
            i += 1
            continue
        if c == "[":
            in_class = class_start = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            after_quantifier = False
            continue
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2 : i + 4]
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                raise RegexRefused(LOOKAROUND)
            if rest[:1] == ">":
                raise RegexRefused(ATOMIC)
            if rest[:1] == "#":
                raise RegexRefused(COMMENT)
            if rest == "P=":
                raise RegexRefused(BACKREFERENCE)
            if rest[:1] == "<":  # Java's named group
                out.append("(?P<")
                i += 3
                after_quantifier = False
                continue
        if c == "+" and after_quantifier:
            raise RegexRefused(ATOMIC)
        out.append(c)
        after_quantifier = c in "*+?}" and not (c == "?" and after_quantifier)
        if c == "?" and out[-2:-1] == ["("]:
            after_quantifier = False
        i += 1
    return "".join(out)


@lru_cache(maxsize=CACHE_SIZE)
def _compile(pattern: str) -> re2._Regexp | RegexRefused:
    try:
        rewritten = translate(pattern)
    except RegexRefused as exc:
        return exc
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM
    options.log_errors = False
    try:
        compiled = re2.compile(rewritten, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else str(exc)
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        return RegexRefused(RE2_ERROR, reason=str(reason))
    if compiled.programsize > MAX_PROGRAM:
        return RegexRefused(TOO_COMPLEX, size=compiled.programsize, limit=MAX_PROGRAM)
    return compiled


def _compiled(pattern: str) -> re2._Regexp:
    """The compiled pattern (cached, LRU); RegexRefused when it cannot be run."""
    result = _compile(pattern)
    if isinstance(result, RegexRefused):
        raise RegexRefused(result.msgid, **result.params)
    return result


def matches(pattern: str, text: str, spend: Callable[[int], None] | None = None) -> bool:
    """regex(): whether the pattern matches the WHOLE of ``text``, as JavaRosa's
    ``Pattern.matches`` (so ``regex('x12y', '[0-9]+')`` is false, as in ODK Collect;
    docs/javarosa.md). ``spend`` is charged, before matching, its work: the text's
    length times the program's size, in steps."""
    compiled = _compiled(pattern)
    if spend is not None:
        spend(len(text) * compiled.programsize // REGEX_WORK_PER_STEP)
    return compiled.fullmatch(text) is not None


def refusal(pattern: str) -> RegexRefused | None:
    """Why the kiosk cannot run ``pattern`` (None when it can)."""
    result = _compile(pattern)
    return result if isinstance(result, RegexRefused) else None


def _brace_end(p: str, i: int) -> int:
    """The index after a valid ``{n}``, ``{n,}`` or ``{n,m}`` starting at ``i``, else -1."""
    j = i + 1
    start = j
    while j < len(p) and p[j].isdigit():
        j += 1
    if j == start:
        return -1
    if j < len(p) and p[j] == ",":
        j += 1
        while j < len(p) and p[j].isdigit():
            j += 1
    return j + 1 if j < len(p) and p[j] == "}" else -1


def java_problems(pattern: str) -> list[Problem]:
    """What would stop Java's Pattern.compile, found by one cheap scan (not a full parser)."""
    found: list[Problem] = []
    depth = 0
    in_class = False
    can_repeat = False  # an atom precedes (a quantifier here has something to repeat)
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                found.append(Problem(TRAILING_BACKSLASH))
                break
            nxt = pattern[i + 1]
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                can_repeat = True
                continue
            if nxt.isascii() and nxt.isalpha() and nxt not in _JAVA_ESCAPES:
                found.append(Problem(BAD_ESCAPE, {"char": nxt}))
            i += 2
            if nxt in "pPx" and pattern.startswith("{", i):  # \p{Lu}, \x{41}
                end = pattern.find("}", i)
                i = n if end < 0 else end + 1
            can_repeat = not in_class or can_repeat
            continue
        if in_class:
            if c == "]" and not pattern.startswith(("[", "[^"), i - 1):
                in_class = False
                can_repeat = True
            i += 1
            continue
        if c == "[":
            in_class = True
            i += 2 if pattern.startswith(("[]", "[^"), i) else 1
            if pattern.startswith("[^]", i - 2):
                i += 1
            continue
        if c == "(":
            for syntax in ("(?P<", "(?P=", "(?#"):
                if pattern.startswith(syntax, i):
                    found.append(Problem(PYTHON_ONLY, {"syntax": syntax}))
            depth += 1
            can_repeat = False
            i += 2 if pattern.startswith("(?", i) else 1
            continue
        if c == ")":
            depth -= 1
            if depth < 0:
                found.append(Problem(UNBALANCED))
                depth = 0
            can_repeat = True
        elif c == "|":
            can_repeat = False
        elif c == "{":
            end = _brace_end(pattern, i)
            if end < 0:
                found.append(Problem(BAD_BRACE, {"brace": "{", "example": "{2}, {2,}, {2,5}"}))
            elif not can_repeat:
                found.append(Problem(NOTHING_TO_REPEAT, {"char": "{"}))
            i = max(end, i + 1)
            continue
        elif c in "*+?":
            if not can_repeat:
                found.append(Problem(NOTHING_TO_REPEAT, {"char": c}))
            # a following ? or + (lazy, possessive) is part of this quantifier
            if i + 1 < n and pattern[i + 1] in "?+":
                i += 1
        else:
            can_repeat = True
        i += 1
    if in_class:
        found.append(Problem(UNCLOSED_CLASS))
    if depth > 0:
        found.append(Problem(UNBALANCED))
    return found


@dataclass
class _Group:
    start: int
    unbounded_inside: bool = False
    alternatives: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)


def _unbounded_at(p: str, i: int) -> int:
    """The length of an unbounded quantifier (``*``, ``+``, ``{n,}``) at ``i``, else 0."""
    if i < len(p) and p[i] in "*+":
        return 1
    if i < len(p) and p[i] == "{":
        end = _brace_end(p, i)
        if end > 0 and p[end - 2] == ",":
            return end - i
    return 0


def catastrophic(pattern: str) -> Problem | None:
    """Nested unbounded repetition (``(a+)+``) or a repeated group whose alternatives
    overlap (``(a|a)*``, ``(a|ab)+``): exponential for a backtracking engine."""
    stack: list[_Group] = [_Group(0)]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        top = stack[-1]
        if c == "\\":
            top.current.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            end = pattern.find("]", i + 2)
            end = n if end < 0 else end + 1
            top.current.append(pattern[i:end])
            i = end
            continue
        if c == "(":
            stack.append(_Group(i))
            i += 1
            continue
        if c == "|":
            top.alternatives.append("".join(top.current))
            top.current = []
            i += 1
            continue
        if c == ")" and len(stack) > 1:
            group = stack.pop()
            group.alternatives.append("".join(group.current))
            q = _unbounded_at(pattern, i + 1)
            if q and (group.unbounded_inside or _overlap(group.alternatives)):
                return Problem(CATASTROPHIC, {"part": pattern[group.start : i + 1 + q]})
            parent = stack[-1]
            parent.unbounded_inside |= group.unbounded_inside or bool(q)
            parent.current.append(pattern[group.start : i + 1])
            i += 1
            continue
        if _unbounded_at(pattern, i):
            top.unbounded_inside = True
        top.current.append(c)
        i += 1
    return None


def _overlap(alternatives: list[str]) -> bool:
    alts = [a for a in alternatives if a]
    return any(
        a.startswith(b) or b.startswith(a) for k, a in enumerate(alts) for b in alts[k + 1 :]
    )

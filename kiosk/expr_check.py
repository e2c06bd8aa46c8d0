"""Form-checker rules about bounded evaluation (`kiosk catalog check`), apart from
kiosk.xlsform_check so each stays small: regex() patterns the kiosk cannot run, that ODK
Collect (Java) would not compile, or that would hang a backtracking engine; and
calculations whose text obviously outgrows the string cap (a concat doubling chain);
repeats nested with fixed counts whose entries together pass MAX_INSTANCES.
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from kiosk import expr
from kiosk.calc_chain import chains
from kiosk.expr import regex
from kiosk.expr.limits import MAX_INSTANCES, MAX_STRING, TOO_MANY_INSTANCES
from kiosk.expr.nodes import Bare, Call, Current, Literal, Node, Ref, walk
from kiosk.i18n import N_, tr

# What an answer typed by a person is assumed to weigh when estimating (characters).
ANSWER_ESTIMATE = 256
_NUMBER = 24  # a number, boolean or date as text
_SUM = frozenset({"concat", "join"})
_LONGEST = frozenset(
    {
        "if",
        "coalesce",
        "once",
        "string",
        "substr",
        "substring",
        "substring-before",
        "substring-after",
        "normalize-space",
        "upper-case",
        "lower-case",
        "translate",
        "indexed-repeat",
    }
)
_CEILING = MAX_STRING * 1024  # estimates stop growing here (a doubling chain is 2**n)

CANNOT_RUN = N_("regex(): the kiosk cannot run this pattern: {reason}")
NOT_JAVA = N_("regex(): ODK Collect (Java) would not accept this pattern: {reason}")
TOO_BIG = N_(
    "the text of ${{{field}}} can grow to about {size} characters, past the limit of {limit}"
)


def check_regexes(tree: Node, lang: str) -> list[tuple[str, bool]]:
    """(message, is_warning) for each literal pattern of a regex() call in ``tree``."""
    found: list[tuple[str, bool]] = []
    for node in walk(tree):
        if not (isinstance(node, Call) and node.name == "regex" and len(node.args) == 2):
            continue
        pattern = node.args[1]
        if not (isinstance(pattern, Literal) and isinstance(pattern.value, str)):
            continue
        text = pattern.value
        refused = regex.refusal(text)
        if refused is not None:
            found.append((tr(lang, CANNOT_RUN, reason=refused.say(lang)), False))
        for problem in regex.java_problems(text):
            found.append((tr(lang, NOT_JAVA, reason=problem.say(lang)), False))
        bad = regex.catastrophic(text)
        if bad is not None:
            found.append((bad.say(lang), True))
    return found


def _estimate(node: Node, sizes: Mapping[str, int]) -> int:
    if isinstance(node, Literal):
        return len(node.value) if isinstance(node.value, str) else _NUMBER
    if isinstance(node, Ref):
        return sizes.get(node.name, ANSWER_ESTIMATE)
    if isinstance(node, Call):
        args = [_estimate(a, sizes) for a in node.args]
        if node.name in _SUM:
            return min(sum(args), _CEILING)
        if node.name in _LONGEST:
            return max(args, default=0)
        return _NUMBER
    if isinstance(node, Current | Bare):
        return ANSWER_ESTIMATE
    return _NUMBER  # arithmetic, comparisons


def check_string_sizes(
    survey: list[dict[str, object]],
    deps: Mapping[str, Set[str]],
    rows: Mapping[str, int],
    lang: str,
) -> list[tuple[int, str]]:
    """(row, message) of the first calculation (in dependency order) whose text can
    obviously outgrow MAX_STRING, estimating each typed answer at ANSWER_ESTIMATE
    characters."""
    texts = {
        str(r.get("name") or "").strip(): str(r.get("calculation") or "").strip() for r in survey
    }
    depth = chains(deps).depth
    sizes: dict[str, int] = {}
    for name in sorted(depth, key=lambda n: depth[n]):
        sizes[name] = _estimate(expr.parse(texts[name]), sizes)
        if sizes[name] > MAX_STRING:
            message = tr(lang, TOO_BIG, field=name, size=sizes[name], limit=MAX_STRING)
            return [(rows[name], message)]
    return []


_REPEAT_CAP = 500  # each repeat_count is capped here by the engine (engine_eval)


def check_repeat_sizes(survey: list[dict[str, object]], lang: str) -> list[tuple[int, str]]:
    """(row, message) of the first begin_repeat whose fixed repeat_count, times those of
    the repeats around it, passes MAX_INSTANCES entries. Only literal counts are judged:
    a count from an answer (``${members}``) is the citizen's, and the engine's cap holds."""
    sizes = [1]  # entries of the enclosing repeats, multiplied
    for i, row in enumerate(survey):
        kind = " ".join(str(row.get("type") or "").split()).replace(" ", "_")
        if kind == "end_repeat" and len(sizes) > 1:
            sizes.pop()
        if kind != "begin_repeat":
            continue
        count = str(row.get("repeat_count") or "").strip()
        n = min(int(count), _REPEAT_CAP) if count.isdigit() else 1
        sizes.append(sizes[-1] * max(n, 1))
        if sizes[-1] > MAX_INSTANCES:
            return [(i + 2, tr(lang, TOO_MANY_INSTANCES, limit=MAX_INSTANCES))]
    return []

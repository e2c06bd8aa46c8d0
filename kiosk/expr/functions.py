"""The function library: XPath 1.0, ODK's additions, and the kiosk's Uzbek validators."""

from __future__ import annotations

import inspect
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from kiosk.expr import regex
from kiosk.expr.errors import ExprError
from kiosk.expr.lexer import NAME_PATTERN
from kiosk.expr.limits import check_length
from kiosk.expr.values import (
    as_items,
    as_nodes,
    date_to_days,
    tidy_number,
    to_bool,
    to_date,
    to_number,
    to_string,
)


@dataclass(frozen=True, slots=True)
class FuncSpec:
    """How to call a function: arity bounds (``max_args=None``: any number) and style.

    ``takes_ctx`` functions get the EvalContext first (today(), defaults to ``.``);
    ``lazy`` functions get the unevaluated argument nodes and an evaluator (if()).
    """

    fn: Callable[..., object]
    min_args: int
    max_args: int | None
    takes_ctx: bool = False
    lazy: bool = False


FUNCTIONS: dict[str, FuncSpec] = {}
# Called after each register_function: a parse cache forgets trees checked against an
# older arity (kiosk.expr adds its cache here).
ON_REGISTER: list[Callable[[], object]] = []


def _arity(fn: Callable[..., object]) -> tuple[int, int | None]:
    params = inspect.signature(fn).parameters.values()
    lo = hi = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return lo, None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            hi += 1
            if p.default is p.empty:
                lo += 1
    return lo, hi


def register_function(
    name: str,
    fn: Callable[..., object],
    *,
    min_args: int | None = None,
    max_args: int | None = -1,
) -> None:
    """Make ``fn`` callable from expressions as ``name(...)``.

    ``fn`` receives the evaluated argument values (Python values as answers hold them)
    and returns a str, number, bool, date or list. The arity comes from its signature
    unless given (``max_args=None`` means any number); calls with another number of
    arguments are refused at parse time. Trees parsed before are parsed again.
    """
    if not NAME_PATTERN.fullmatch(name):  # else no expression could call it
        raise ValueError(f"{name!r} cannot be written as a function name in an expression")
    lo, hi = _arity(fn)
    FUNCTIONS[name] = FuncSpec(
        fn,
        lo if min_args is None else min_args,
        hi if max_args == -1 else max_args,
    )
    for hook in ON_REGISTER:
        hook()


_F = TypeVar("_F", bound=Callable[..., Any])


def _builtin(
    name: str, lo: int, hi: int | None, *, ctx: bool = False, lazy: bool = False
) -> Callable[[_F], _F]:
    def deco(fn: _F) -> _F:
        FUNCTIONS[name] = FuncSpec(fn, lo, hi, takes_ctx=ctx, lazy=lazy)
        return fn

    return deco


# --- logic ---------------------------------------------------------------------------


@_builtin("if", 3, 3, lazy=True)
def _if(ctx: Any, args: tuple[Any, ...], ev: Callable[[Any, Any], Any]) -> Any:
    # Only the chosen branch is evaluated, so `if(${n} > 0, 100 div ${n}, 0)` is safe.
    return ev(args[1], ctx) if to_bool(ev(args[0], ctx)) else ev(args[2], ctx)


@_builtin("coalesce", 2, None, lazy=True)
def _coalesce(ctx: Any, args: tuple[Any, ...], ev: Callable[[Any, Any], Any]) -> Any:
    for a in args:
        v = ev(a, ctx)
        if to_string(v) != "":
            return v
    return ""


@_builtin("once", 1, 1, ctx=True)
def _once(ctx: Any, v: Any) -> Any:
    # ODK: keep the value once set (a calculate's `.`), compute it otherwise.
    return ctx.current if to_string(ctx.current) != "" else v


_builtin("not", 1, 1)(lambda v: not to_bool(v))
_builtin("true", 0, 0)(lambda: True)
_builtin("false", 0, 0)(lambda: False)
_builtin("boolean", 1, 1)(to_bool)


@_builtin("boolean-from-string", 1, 1)
def _boolean_from_string(v: Any) -> bool:
    return to_string(v).strip().lower() in ("true", "1")


@_builtin("checklist", 2, None)
def _checklist(lo: Any, hi: Any, *values: Any) -> bool:
    # ODK: true when the number of true values is within [lo, hi]; -1 means no bound.
    n = sum(to_bool(v) for a in values for v in as_nodes(a))
    low, high = to_number(lo), to_number(hi)
    return (low == -1 or n >= low) and (high == -1 or n <= high)


# --- selects -------------------------------------------------------------------------


@_builtin("selected", 2, 2)
def _selected(value: Any, choice: Any) -> bool:
    return to_string(choice).strip() in as_items(value)


@_builtin("count-selected", 1, 1)
def _count_selected(value: Any) -> int:
    return len(as_items(value))


@_builtin("selected-at", 2, 2)
def _selected_at(value: Any, index: Any) -> str:
    items, i = as_items(value), to_number(index)
    if not math.isfinite(i) or i != int(i) or not 0 <= i < len(items):
        return ""
    return items[int(i)]


# --- strings -------------------------------------------------------------------------


def _dot_or(ctx: Any, args: tuple[Any, ...]) -> Any:
    return args[0] if args else ctx.current


@_builtin("string", 0, 1, ctx=True)
def _string(ctx: Any, *args: Any) -> str:
    return to_string(_dot_or(ctx, args))


@_builtin("string-length", 0, 1, ctx=True)
def _string_length(ctx: Any, *args: Any) -> int:
    return len(to_string(_dot_or(ctx, args)))


@_builtin("normalize-space", 0, 1, ctx=True)
def _normalize_space(ctx: Any, *args: Any) -> str:
    return " ".join(to_string(_dot_or(ctx, args)).split())


@_builtin("concat", 0, None)
def _concat(*args: Any) -> str:
    parts = [to_string(a) for a in args]
    check_length(sum(map(len, parts)))  # before joining: a doubling chain stops here
    return "".join(parts)


@_builtin("regex", 2, 2, ctx=True)
def _regex(ctx: Any, value: Any, pattern: Any) -> bool:
    # A full match, as JavaRosa's Pattern.matches (docs/javarosa.md). RE2 runs in linear
    # time (times the pattern's size, charged to the step budget); a pattern it cannot
    # run is refused.
    spend = ctx.budget.spend if ctx.budget is not None else None
    return regex.matches(to_string(pattern), to_string(value), spend)


_builtin("contains", 2, 2)(lambda s, t: to_string(t) in to_string(s))
_builtin("starts-with", 2, 2)(lambda s, t: to_string(s).startswith(to_string(t)))
_builtin("ends-with", 2, 2)(lambda s, t: to_string(s).endswith(to_string(t)))
_builtin("upper-case", 1, 1)(lambda s: _capped(to_string(s).upper()))
_builtin("lower-case", 1, 1)(lambda s: _capped(to_string(s).lower()))


def _capped(text: str) -> str:
    # Case mapping may lengthen a string a little ("ß" -> "SS"): at most 3 times its input,
    # which the cap on inputs already bounds; refuse the result past the cap all the same.
    check_length(len(text))
    return text


@_builtin("substring-before", 2, 2)
def _substring_before(s: Any, t: Any) -> str:
    s, t = to_string(s), to_string(t)
    i = s.find(t)
    return s[:i] if i >= 0 else ""


@_builtin("substring-after", 2, 2)
def _substring_after(s: Any, t: Any) -> str:
    s, t = to_string(s), to_string(t)
    i = s.find(t)
    return s[i + len(t) :] if i >= 0 else ""


def _index(v: Any, default: int) -> int:
    x = to_number(v)
    if math.isnan(x):
        return default
    if math.isinf(x):
        return 10**9 if x > 0 else -(10**9)
    return int(x)


@_builtin("substr", 2, 3)
def _substr(s: Any, start: Any, *end: Any) -> str:
    # ODK substr(): 0-based start, exclusive end, negative counts from the end.
    text = to_string(s)
    stop = _index(end[0], len(text)) if end else len(text)
    return text[_index(start, 0) : stop]


@_builtin("substring", 2, 3)
def _substring(s: Any, start: Any, *length: Any) -> str:
    # XPath substring(): 1-based, with round() on positions as the spec says.
    # The characters at positions i with first <= i < last, as a slice (linear in the
    # result, not in the text); NaN anywhere selects nothing, as the spec's comparisons.
    text = to_string(s)
    first = _round_half_up(to_number(start))
    last = first + _round_half_up(to_number(length[0])) if length else math.inf
    if math.isnan(first) or math.isnan(last):
        return ""
    lo, hi = max(first, 1), min(last, len(text) + 1)
    return text[int(lo) - 1 : int(hi) - 1] if hi > lo else ""


@_builtin("translate", 3, 3)
def _translate(s: Any, src: Any, dst: Any) -> str:
    source, target = to_string(src), to_string(dst)
    table: dict[int, int | None] = {}
    for i, ch in enumerate(source):
        table.setdefault(ord(ch), ord(target[i]) if i < len(target) else None)
    return to_string(s).translate(table)


# --- numbers -------------------------------------------------------------------------


def _round_half_up(x: float) -> float:
    return x if not math.isfinite(x) else math.floor(x + 0.5)


@_builtin("number", 0, 1, ctx=True)
def _number(ctx: Any, *args: Any) -> int | float:
    return tidy_number(to_number(_dot_or(ctx, args)))


@_builtin("int", 1, 1)
def _int(v: Any) -> int | float:
    x = to_number(v)
    return tidy_number(float(math.trunc(x))) if math.isfinite(x) else x


@_builtin("round", 1, 2)
def _round(v: Any, *digits: Any) -> int | float:
    x = to_number(v)
    if not math.isfinite(x):
        return x
    if not digits:
        return tidy_number(_round_half_up(x))
    d = to_number(digits[0])
    if not math.isfinite(d) or abs(d) > 300:
        return math.nan
    try:
        q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-int(d)), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than Decimal's precision: nothing to round
        return tidy_number(x)
    return tidy_number(float(q))


def _math1(fn: Callable[[float], float]) -> Callable[[Any], int | float]:
    def wrapped(v: Any) -> int | float:
        x = to_number(v)
        if math.isnan(x):
            return x
        try:
            return tidy_number(float(fn(x)))
        except (ValueError, OverflowError):  # log(-1), exp(1000)
            return math.nan if fn is not math.exp else math.inf

    return wrapped


_builtin("floor", 1, 1)(_math1(lambda x: x if math.isinf(x) else math.floor(x)))
_builtin("ceiling", 1, 1)(_math1(lambda x: x if math.isinf(x) else math.ceil(x)))
_builtin("abs", 1, 1)(_math1(abs))
_builtin("sqrt", 1, 1)(_math1(math.sqrt))
_builtin("exp", 1, 1)(_math1(math.exp))
_builtin("log", 1, 1)(_math1(math.log))
_builtin("log10", 1, 1)(_math1(math.log10))
_builtin("pi", 0, 0)(lambda: math.pi)


@_builtin("pow", 2, 2)
def _pow(a: Any, b: Any) -> int | float:
    x, y = to_number(a), to_number(b)
    try:
        return tidy_number(math.pow(x, y))
    except OverflowError:
        return math.inf
    except ValueError:  # pow(-8, 1/3), pow(0, -1)
        return math.inf if x == 0 else math.nan


@_builtin("count", 1, 1)
def _count(nodes: Any) -> int:
    return len(as_nodes(nodes))


def _numbers(args: tuple[Any, ...]) -> list[float]:
    return [to_number(v) for a in args for v in as_nodes(a)]


@_builtin("sum", 1, 1)
def _sum(nodes: Any) -> int | float:
    return tidy_number(math.fsum(_numbers((nodes,)))) if as_nodes(nodes) else 0


def _extreme(pick: Callable[[list[float]], float]) -> Callable[..., int | float]:
    def fn(*args: Any) -> int | float:
        xs = _numbers(args)
        if not xs or any(math.isnan(x) for x in xs):
            return math.nan  # ODK: empty or non-numeric input gives NaN
        return tidy_number(pick(xs))

    return fn


_builtin("min", 1, None)(_extreme(min))
_builtin("max", 1, None)(_extreme(max))


@_builtin("join", 1, None)
def _join(sep: Any, *values: Any) -> str:
    glue = to_string(sep)
    parts = [to_string(v) for a in values for v in as_nodes(a)]
    check_length(sum(map(len, parts)) + len(glue) * max(len(parts) - 1, 0))
    return glue.join(parts)


@_builtin("indexed-repeat", 3, 3)
def _indexed_repeat(values: Any, _repeat: Any, index: Any) -> Any:
    # A repeat child seen from outside is the list of its values; index is 1-based.
    nodes, i = as_nodes(values), to_number(index)
    if not math.isfinite(i) or i != int(i) or not 1 <= i <= len(nodes):
        return ""
    return nodes[int(i) - 1]


# --- dates ---------------------------------------------------------------------------


@_builtin("today", 0, 0, ctx=True)
def _today(ctx: Any) -> date:
    return ctx.today or date.today()


@_builtin("now", 0, 0, ctx=True)
def _now(ctx: Any) -> datetime:
    now = datetime.now()
    return datetime.combine(ctx.today, now.time()) if ctx.today else now


@_builtin("date", 1, 1)
def _date(v: Any) -> date | str:
    if to_string(v).strip() == "":
        return ""  # an unanswered date stays unanswered
    d = to_date(v)
    if d is None:
        raise ExprError(f"not a date: {to_string(v)!r}")
    return d


_builtin("date-time", 1, 1)(_date)


@_builtin("decimal-date-time", 1, 1)
def _decimal_date_time(v: Any) -> float:
    d = to_date(v)
    return date_to_days(d) if d is not None else math.nan


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()


@_builtin("format-date", 2, 2)
def _format_date(v: Any, fmt: Any) -> str:
    d = to_date(v)
    if d is None:
        return ""
    dt = d if isinstance(d, datetime) else datetime(d.year, d.month, d.day)
    fields = {
        "Y": f"{dt.year:04d}",
        "y": f"{dt.year % 100:02d}",
        "m": f"{dt.month:02d}",
        "n": str(dt.month),
        "d": f"{dt.day:02d}",
        "e": str(dt.day),
        "b": _MONTHS[dt.month - 1],
        "a": _DAYS[dt.weekday()],
        "H": f"{dt.hour:02d}",
        "h": str(dt.hour),
        "M": f"{dt.minute:02d}",
        "S": f"{dt.second:02d}",
        "%": "%",
    }
    return re.sub(r"%(.)", lambda m: fields.get(m.group(1), m.group(0)), to_string(fmt))


_builtin("format-date-time", 2, 2)(_format_date)
_builtin("uuid", 0, 0)(lambda: str(uuid.uuid4()))

# --- Uzbek validators (kiosk.validators), for constraints like `pinfl(.)` ------------


def _validator(name: str) -> Callable[[Any], Any]:
    def fn(v: Any) -> Any:
        from kiosk import validators  # lazily: validators imports phonenumbers

        return getattr(validators, name)(to_string(v))

    return fn


_builtin("pinfl", 1, 1)(_validator("is_valid_pinfl"))
_builtin("phone", 1, 1)(_validator("is_valid_phone"))
_builtin("passport", 1, 1)(_validator("is_valid_passport"))


@_builtin("pinfl-birthdate", 1, 1)
def _pinfl_birthdate(v: Any) -> date | str:
    from kiosk.validators import pinfl_birth_date

    return pinfl_birth_date(to_string(v)) or ""

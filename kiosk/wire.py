"""The byte forms kiosk and portal must agree on: canonical JSON, hashes, timestamps.

A submission's content hash is the SHA-256 of its canonical JSON; the portal
recomputes it from the payload it receives to tell a resend (``duplicate``) from a
different submission under the same id (``conflict``), and the audit chain hashes its
rows the same way. So there is exactly one canonical form, here in the domain, where
the store and the audit log use it without importing ``sync/``.

One rule says which parsed JSON values can travel (`json_problem`): numbers must be
finite (NaN, Infinity and ``1e999999``, which parses to infinity, cannot be written
back) and text must be valid Unicode (``"\\ud800"`` parses to a lone surrogate, which
UTF-8 cannot encode, so it could be neither hashed nor stored). `canonical_json`
raises ValueError for both, `loads` refuses both, and the portal rejects an item
holding either (reason ``item.value``) without failing the rest of its batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, date, datetime

# Tracking-code symbols (device prefixes, enrolment codes): no 0/O, 1/I/L confusables.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX_LEN = 3  # symbols of the device prefix the portal assigns at enrolment
# Submission and device ids: lowercase canonical UUIDs (the kiosk makes them with
# uuid4; the portal adopts a device id, and accepts an item id, only in this form).
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def _json_default(value: object) -> str:
    """Dates (a draft may hold one) as ISO text; anything else is not JSON."""
    if isinstance(value, date):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(obj: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept, dates as ISO text; ValueError for a number
    that is not finite or text that is not valid Unicode (`json_problem`)."""
    text = json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    if not text.isascii() and not _valid_unicode(text):
        raise ValueError("text that is not valid Unicode (a lone surrogate)")
    return text


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_problem(value: object) -> str | None:
    """Why a parsed JSON value cannot travel, or None: "number" for one that is not
    finite, "text" for text holding a lone surrogate (keys included). The one rule of
    what kiosk and portal accept, whoever parsed the value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _valid_unicode(item):
                return "text"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "number"
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def text_hash(text: str) -> str:
    """SHA-256 hex of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_and_hash(payload: object) -> tuple[str, str]:
    """The payload's canonical JSON and its content hash, serialising once."""
    body = canonical_json(payload)
    return body, text_hash(body)


def content_hash(payload: object) -> str:
    """SHA-256 hex of the payload's canonical JSON: what tells a duplicate from a conflict."""
    return canonical_and_hash(payload)[1]


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(text: str | bytes) -> int:
    """How deeply JSON text nests arrays and objects, by a scan of its brackets outside
    strings, so that nesting too deep for ``json.loads`` (which raises RecursionError near
    1,000 levels on Python 3.11: 900 parse, 1,100 do not; and whose callers walk values
    recursively) is refused before parsing."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = deepest = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b"", data)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes, *, check: bool = True) -> object:
    """`json.loads`, but a value `json_problem` names (NaN, Infinity, 1e999999, a lone
    surrogate: Python accepts them all) is a ValueError.

    ``check=False`` parses them anyway, for a body of many items where each item is
    judged on its own (`json_problem`), so one bad item never fails the others.
    """
    if not check:
        return json.loads(text)
    value = json.loads(text, parse_constant=_refuse_constant)
    problem = json_problem(value)
    if problem == "number":
        raise ValueError("a number out of range is not JSON")
    if problem == "text":
        raise ValueError("text that is not valid Unicode (a lone surrogate)")
    return value


def now_iso(moment: datetime | None = None) -> str:
    """UTC timestamp as stored everywhere (sortable text; compare strings from here only)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")

"""Every XLSForm question type, and what a kiosk does with it: one table, read by the
form model (`kiosk.form`) and by `kiosk catalog check` (`kiosk.xlsform_check`).

A kiosk is a public screen with a keyboard and a touch screen: no camera, no microphone,
no GPS, no file upload, no server lookups while a citizen waits. So each type either
runs (as one of the engine's types), is filled by the kiosk itself (metadata), is
ignored with a warning (audit), or is refused with what to use instead. The table
covers every type name pyxform knows (tests/test_xlsform_types.py checks it against
pyxform's own list), so an outside form never meets "unknown type".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.i18n import N_

# Metadata the kiosk fills itself: name -> the calculation that fills it (None: filled by
# the session, or left empty because a kiosk has no such thing about a citizen).
# The session (kiosk.engine) sets start when it begins and end when the payload is made;
# today is the kiosk's date; deviceid is a per-form pseudonym of the kiosk, so two
# forms' answers cannot be joined by it. username, phone number, SIM and e-mail are
# personal data a kiosk never reads off anyone: they stay empty.
META: dict[str, str | None] = {
    "start": None,
    "end": None,
    "today": "today()",
    "deviceid": None,
    "username": None,
    "phonenumber": None,
    "simserial": None,
    "subscriberid": None,
    "email": None,
}

# Every other type name pyxform accepts (lower case, single spaces) -> engine type.
_RUNS: dict[str, str] = {
    "text": "text",
    "string": "text",
    "q string": "text",
    "add text prompt": "text",
    # A hand-held scanner types what it reads, so a barcode is a text answer.
    "barcode": "text",
    "q barcode": "text",
    "add barcode prompt": "text",
    "integer": "integer",
    "int": "integer",
    "q int": "integer",
    "add integer prompt": "integer",
    "percentage": "integer",
    "number of days in last month": "integer",
    "number of days in last six months": "integer",
    "number of days in last year": "integer",
    "decimal": "decimal",
    "q decimal": "decimal",
    "add decimal prompt": "decimal",
    "date": "date",
    "q date": "date",
    "add date prompt": "date",
    "time": "time",
    "datetime": "dateTime",
    "date time": "dateTime",
    "q datetime": "dateTime",
    "q date time": "dateTime",
    "add datetime prompt": "dateTime",
    "add date time prompt": "dateTime",
    "range": "range",
    "rank": "rank",
    "note": "note",
    "q note": "note",
    "add note prompt": "note",
    "calculate": "calculate",
    "q calculate": "calculate",
    "add calculate prompt": "calculate",
    "hidden": "calculate",
    # pyxform's JSON names a select's type without its list.
    "select one": "select_one",
    "select1": "select_one",
    "q select1": "select_one",
    "add select one prompt using": "select_one",
    "select one from file": "select_one",
    "select all that apply": "select_multiple",
    "q select": "select_multiple",
    "add select multiple prompt using": "select_multiple",
    "select all that apply from file": "select_multiple",
    "acknowledge": "acknowledge",
    "trigger": "acknowledge",
    "q acknowledge": "acknowledge",
    "add acknowledge prompt": "acknowledge",
}
_META_ALIASES: dict[str, str] = {
    "start time": "start",
    "get start time": "start",
    "end time": "end",
    "get end time": "end",
    "get today": "today",
    "device id": "deviceid",
    "get device id": "deviceid",
    "imei": "deviceid",
    "uri:deviceid": "deviceid",
    "uri:username": "username",
    "phone number": "phonenumber",
    "get phone number": "phonenumber",
    "uri:phonenumber": "phonenumber",
    "sim id": "simserial",
    "get sim id": "simserial",
    "uri:simserial": "simserial",
    "subscriber id": "subscriberid",
    "get subscriber id": "subscriberid",
    "uri:subscriberid": "subscriberid",
    "uri:email": "email",
}
# Ignored with a warning: nobody is asked anything, and the kiosk has nothing to give
# (it keeps its own audit log, kiosk.audit; it has no GPS or microphone in the background).
IGNORED: frozenset[str] = frozenset(
    {"audit", "start-geopoint", "background-geopoint", "background-audio"}
)


@dataclass(frozen=True)
class Refusal:
    """A type a kiosk cannot serve: what it is, and what to use instead (msgids)."""

    feature: str
    instead: str


_GPS = Refusal(
    N_("a GPS location"),
    N_("a kiosk has no GPS: ask for the address (select_one region and district, text street)"),
)
_PHOTO = Refusal(
    N_("a photo or a scanned document"),
    N_(
        "a kiosk has no camera: ask for the document's number as text and for the document"
        " itself at the office (the form's documents list)"
    ),
)
_SIGNATURE = Refusal(
    N_("a drawn signature"),
    N_("the citizen confirms with an acknowledge question; the operator's PIN is recorded"),
)
_SOUND = Refusal(
    N_("a sound or video recording"),
    N_("a kiosk records no sound or video: use a text question"),
)
_FILE = Refusal(
    N_("a file upload"),
    N_("a kiosk takes no files: ask for the document's number as text"),
)
_EXTERNAL = Refusal(
    N_("choices looked up outside the form"),
    N_("put the choices in the choices sheet, or in a .csv beside the form (select_one_from_file)"),
)
_MAP = Refusal(
    N_("a map (.geojson choices)"),
    N_("a kiosk shows no maps: use select_one_from_file with a .csv list of places"),
)
_INCLUDE = Refusal(
    N_("another form included by name"),
    N_("copy that form's rows into this one"),
)
REFUSED: dict[str, Refusal] = {
    "geopoint": _GPS,
    "geotrace": _GPS,
    "geoshape": _GPS,
    "gps": _GPS,
    "location": _GPS,
    "q geopoint": _GPS,
    "q geoshape": _GPS,
    "q geotrace": _GPS,
    "q location": _GPS,
    "add location prompt": _GPS,
    "osm": _GPS,
    "image": _PHOTO,
    "photo": _PHOTO,
    "q image": _PHOTO,
    "q picture": _PHOTO,
    "add image prompt": _PHOTO,
    "signature": _SIGNATURE,
    "audio": _SOUND,
    "q audio": _SOUND,
    "add audio prompt": _SOUND,
    "video": _SOUND,
    "q video": _SOUND,
    "add video prompt": _SOUND,
    "file": _FILE,
    "add file prompt": _FILE,
    "select_one_external": _EXTERNAL,
    "select one external": _EXTERNAL,
    "select_multiple_external": _EXTERNAL,
    "csv-external": _EXTERNAL,
    "xml-external": _EXTERNAL,
    "geojson": _MAP,
    "include": _INCLUDE,
}
# Structure rows, in both spellings pyxform accepts.
STRUCTURE: dict[str, str] = {
    "begin group": "begin_group",
    "begin_group": "begin_group",
    "end group": "end_group",
    "end_group": "end_group",
    "begin repeat": "begin_repeat",
    "begin_repeat": "begin_repeat",
    "end repeat": "end_repeat",
    "end_repeat": "end_repeat",
    "begin loop": "begin_repeat",
    "begin_loop": "begin_repeat",
    "end loop": "end_repeat",
    "end_loop": "end_repeat",
}
_SELECTS = re.compile(
    r"^(select_one_from_file|select one from file|select_multiple_from_file|"
    r"select all that apply from file|select multiple from file|"
    r"select_one_external|select one external|"
    r"select one from|select one using|select all that apply from|select multiple from|"
    r"select multiple using|add select one prompt using|add select multiple prompt using|"
    r"q select1|q select|select1|"
    r"select_one|select one|select_multiple|select all that apply|select multiple|rank)"
    r"\s+(\S+)(\s+or_other|\s+or specify other)?$"
)


def normal(type_name: str) -> str:
    """A type cell as pyxform reads it: lower case, single spaces, trimmed."""
    return re.sub(r"\s+", " ", type_name.strip()).lower()


@dataclass(frozen=True)
class TypeInfo:
    """What the kiosk does with one type cell."""

    engine: str | None  # the engine's type; None when refused, ignored or structure
    meta: str | None = None  # the metadata name (start, deviceid, ...)
    refusal: Refusal | None = None
    ignored: bool = False
    structure: str | None = None  # begin_group, end_group, begin_repeat, end_repeat
    list_name: str | None = None  # a select's list (or file)
    known: bool = True


def classify(type_name: str, appearance: str = "") -> TypeInfo:
    """What the kiosk does with a `type` cell (and its `appearance`, for signatures)."""
    t = normal(type_name)
    if t in STRUCTURE:
        return TypeInfo(None, structure=STRUCTURE[t])
    if t.startswith(("begin loop ", "begin_loop ")):  # begin loop over <list>
        return TypeInfo(None, structure="begin_repeat")
    if t.split(" ")[0] == "include":
        return TypeInfo(None, refusal=_INCLUDE)
    if m := _SELECTS.match(t):
        head, list_name = m.group(1), m.group(2)
        if "external" in head:
            return TypeInfo(None, refusal=_EXTERNAL, list_name=list_name)
        if list_name.lower().endswith(".geojson"):
            return TypeInfo(None, refusal=_MAP, list_name=list_name)
        if head == "rank":
            return TypeInfo("rank", list_name=list_name)
        one = head.startswith(
            ("select_one", "select one", "select1", "q select1", "add select one")
        )
        return TypeInfo("select_one" if one else "select_multiple", list_name=list_name)
    meta = _META_ALIASES.get(t, t)
    if meta in META:
        return TypeInfo("calculate", meta=meta)
    if t in IGNORED:
        return TypeInfo(None, ignored=True)
    if t in ("image", "photo") and "signature" in appearance.lower().split():
        return TypeInfo(None, refusal=_SIGNATURE)
    if t in REFUSED:
        return TypeInfo(None, refusal=REFUSED[t])
    if t in _RUNS:
        return TypeInfo(_RUNS[t])
    return TypeInfo(None, known=False)

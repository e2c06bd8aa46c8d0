"""The kiosk's district: which open-budget seasons and petitions it shows (issue 16).

A kiosk at a mahalla office serves one district, set once at installation with
`kiosk district set CODE` (docs/participation.md). The codes are the ``name`` column
of the bundled ``districts.csv`` (the same list the forms' district questions use),
plus ``demo``, the demo season's district and the value until one is set. The names
come from that file's label columns (Uzbek Latin, Uzbek Cyrillic, Russian); Karakalpak
and English read the Latin one.

Setting the district writes the setting, empties the kept copies of the last
district's seasons and petitions (so a kiosk moved elsewhere never shows them
offline) and appends ``district_set`` with the old and new codes to the audit chain,
all in one transaction. ``sync.participation`` reads the same setting and keeps its
copies under the same keys (tests/test_district.py checks they agree).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from kiosk import audit, languages
from kiosk.catalog import BUNDLED_DIR
from kiosk.errors import TranslatableError
from kiosk.form import column_lang
from kiosk.i18n import N_
from kiosk.textnorm import fold_apostrophes

if TYPE_CHECKING:
    from kiosk.store import Store

DISTRICT_SETTING = "district"  # the kiosk's district (its seasons and petitions)
DEFAULT_DISTRICT = "demo"  # the demo season's, until one is set
SEASONS_CACHE = "participation_seasons"  # the last seasons pulled, for offline voting
PETITIONS_CACHE = "participation_petitions"
KEPT_COPIES = (SEASONS_CACHE, PETITIONS_CACHE)  # the district's, emptied on a change

LATIN, CYRILLIC = "uz_Latn", "uz_Cyrl"  # the names other languages fall back on
# A district's Latin name ends in one of these; the name without it is accepted too.
SUFFIXES = (" tumani", " shahri")


class DistrictError(TranslatableError, ValueError):
    """A district or region that is not in the bundled list; `message(lang)` says so."""


@dataclass(frozen=True)
class Place:
    """One row of districts.csv or regions.csv."""

    code: str
    labels: dict[str, str]  # kiosk language (uz_Latn, uz_Cyrl, ru) -> name
    region: str = ""  # a district's region code; "" for a region

    def name(self, lang: str) -> str:
        """The name in ``lang``: its own column, else the column of its script."""
        if self.labels.get(lang):
            return self.labels[lang]
        fallback = CYRILLIC if languages.get(lang).script == "Cyrl" else LATIN
        return self.labels.get(fallback) or self.labels.get(LATIN) or self.code

    @property
    def latin(self) -> str:
        return self.labels.get(LATIN, "")


def _read(file_name: str) -> tuple[Place, ...]:
    with (BUNDLED_DIR / file_name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    places = []
    for row in rows:
        labels = {}
        for key, value in row.items():
            lang = column_lang(key.removeprefix("label::")) if key.startswith("label::") else None
            if lang is not None and value:
                labels[lang] = value
        places.append(Place(row["name"], labels, row.get("region") or ""))
    return tuple(places)


@cache
def districts() -> tuple[Place, ...]:
    """Every district of the bundled list, in its order (by region)."""
    return _read("districts.csv")


@cache
def regions() -> tuple[Place, ...]:
    return _read("regions.csv")


def _key(text: str) -> str:
    return fold_apostrophes(" ".join(text.split())).casefold()


def _match(text: str, places: tuple[Place, ...], unknown: str, several: str) -> Place:
    """The place ``text`` names: its code (any case) or its exact Latin name (any case,
    any apostrophe), or that name without "tumani"/"shahri" when only one has it.
    DistrictError(``unknown``) if none, (``several``) if more than one."""
    key = _key(text)
    for found in places:
        if found.code.casefold() == key or _key(found.latin) == key:
            return found
    short = [p for p in places if _short(p.latin) == key]
    if len(short) == 1:
        return short[0]
    if short:
        codes = ", ".join(p.code for p in short)
        raise DistrictError(several, text=text.strip(), codes=codes)
    codes = ", ".join(p.code for p in places)
    raise DistrictError(unknown, text=text.strip(), codes=codes)


def _short(latin: str) -> str:
    key = _key(latin)
    for suffix in SUFFIXES:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def find(text: str) -> str:
    """The district code ``text`` names (``demo`` included); DistrictError if none or
    more than one."""
    if _key(text) == DEFAULT_DISTRICT:
        return DEFAULT_DISTRICT
    found = _match(
        text,
        districts(),
        N_("Unknown district: “{text}”. See the list with: kiosk district list"),
        N_("“{text}” is the name of more than one district: {codes}. Give its code."),
    )
    return found.code


def find_region(text: str) -> Place:
    return _match(
        text,
        regions(),
        N_("Unknown region: “{text}”. The regions: {codes}."),
        N_("“{text}” is the name of more than one region: {codes}. Give its code."),
    )


def in_region(region: str | None) -> tuple[Place, ...]:
    """The districts of ``region`` (a code or Latin name), or all of them."""
    if region is None:
        return districts()
    code = find_region(region).code
    return tuple(d for d in districts() if d.region == code)


def place(code: str) -> Place | None:
    """The district of ``code`` (as stored), or None (``demo``, or an unknown code)."""
    for district in districts():
        if district.code == code:
            return district
    return None


def region_of(district: Place) -> Place | None:
    for region in regions():
        if region.code == district.region:
            return region
    return None


def name(code: str, lang: str) -> str | None:
    """The district's name in ``lang``; None for ``demo`` (not set). An unknown code
    (set before this list had it) is shown as it is."""
    if code == DEFAULT_DISTRICT:
        return None
    found = place(code)
    return found.name(lang) if found is not None else code


def current(store: Store) -> str:
    """The kiosk's district code: the setting, else ``demo``."""
    return store.get_setting(DISTRICT_SETTING) or DEFAULT_DISTRICT


def set_district(store: Store, text: str, actor: str = "admin") -> tuple[str, str]:
    """Serve the district ``text`` names; (old code, new code). DistrictError if it is
    not one; nothing is written when it is the current one.

    One transaction: the setting, the kept seasons and petitions emptied, and the
    audit entry ``district_set`` (subject: the new code; details: old and new).
    """
    new = find(text)
    with store.transaction() as db:
        old = current(store)
        if old != new:
            store.set_setting(DISTRICT_SETTING, new)
            for key in KEPT_COPIES:
                store.set_setting(key, None)
            audit.append(db, actor, "district_set", new, {"old": old, "new": new})
    return old, new

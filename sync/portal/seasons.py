"""Open-budget seasons and their initiatives, per district: published by an admin
(`kiosk portal season publish FILE`), listed to kiosks, with a bundled demo season.

A season file is JSON (docs/participation.md): ``season_id``, ``district``,
``opens_on``/``closes_on`` (YYYY-MM-DD, inclusive, the portal's UTC day), ``titles``
and, for each initiative, ``id``, ``titles`` and ``descriptions``, each text in
uz_Latn, uz_Cyrl and ru (the kiosk reads them aloud). Publishing again updates the
texts and adds initiatives; it never removes one (votes may count for it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from kiosk.wire import canonical_json
from sync.portal.db import Conn
from sync.portal.storage import PortalStoreError
from sync.transport import Initiative, Season

LANGS = ("uz_Latn", "uz_Cyrl", "ru")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DAY_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_TEXT = 2000
MAX_INITIATIVES = 200
DEMO_FILE = Path(__file__).with_name("demo_season.json")


def _texts(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PortalStoreError(f"{where}: an object of texts by language is needed")
    texts: dict[str, str] = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise PortalStoreError(f"{where}: a {lang} text of 1-{MAX_TEXT} characters is needed")
        texts[lang] = text.strip()
    return texts


def _ident(value: object, where: str) -> str:
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise PortalStoreError(f"{where}: an id of a-z, 0-9, _ and - (1-64) is needed")
    return value


def checked(doc: object) -> Season:
    """A season document as published; PortalStoreError naming the first problem."""
    if not isinstance(doc, Mapping):
        raise PortalStoreError("a season is a JSON object")
    opens, closes = doc.get("opens_on"), doc.get("closes_on")
    if not (
        isinstance(opens, str)
        and isinstance(closes, str)
        and DAY_RE.fullmatch(opens)
        and DAY_RE.fullmatch(closes)
        and opens <= closes
    ):
        raise PortalStoreError("opens_on and closes_on are days (YYYY-MM-DD), in order")
    raw = doc.get("initiatives")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_INITIATIVES:
        raise PortalStoreError(f"a season has 1-{MAX_INITIATIVES} initiatives")
    initiatives: list[Initiative] = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise PortalStoreError(f"initiative {n}: an object is needed")
        initiatives.append(
            {
                "id": _ident(item.get("id"), f"initiative {n}"),
                "titles": _texts(item.get("titles"), f"initiative {n} titles"),
                "descriptions": _texts(item.get("descriptions"), f"initiative {n} descriptions"),
            }
        )
    if len({i["id"] for i in initiatives}) != len(initiatives):
        raise PortalStoreError("initiative ids must differ")
    return {
        "season_id": _ident(doc.get("season_id"), "season_id"),
        "district": _ident(doc.get("district"), "district"),
        "opens_on": opens,
        "closes_on": closes,
        "titles": _texts(doc.get("titles"), "season titles"),
        "initiatives": initiatives,
    }


def read_file(path: Path) -> Season:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PortalStoreError(f"{path}: cannot be read as JSON ({exc})") from None
    return checked(doc)


def publish(conn: Conn, season: Season, now: str) -> int:
    """Store ``season`` (texts updated, initiatives added); the number of initiatives."""
    conn.execute(
        "INSERT INTO vote_seasons (season_id, district, titles, opens_on, closes_on, "
        "published_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (season_id) DO UPDATE SET "
        "titles = excluded.titles, opens_on = excluded.opens_on, "
        "closes_on = excluded.closes_on, published_at = excluded.published_at",
        (
            season["season_id"],
            season["district"],
            canonical_json(season["titles"]),
            season["opens_on"],
            season["closes_on"],
            now,
        ),
    )
    for position, item in enumerate(season["initiatives"]):
        conn.execute(
            "INSERT INTO vote_initiatives (season_id, initiative_id, titles, descriptions, "
            "position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (season_id, initiative_id) DO UPDATE "
            "SET titles = excluded.titles, descriptions = excluded.descriptions, "
            "position = excluded.position",
            (
                season["season_id"],
                item["id"],
                canonical_json(item["titles"]),
                canonical_json(item["descriptions"]),
                position,
            ),
        )
        conn.execute(
            "INSERT INTO vote_tally (season_id, initiative_id, votes) VALUES (?, ?, 0) "
            "ON CONFLICT (season_id, initiative_id) DO NOTHING",
            (season["season_id"], item["id"]),
        )
    return len(season["initiatives"])


def current(conn: Conn, day: str, district: str | None) -> list[Season]:
    """The seasons open on ``day`` (of ``district``, or all), with their initiatives."""
    sql = "SELECT * FROM vote_seasons WHERE opens_on <= ? AND closes_on >= ?"
    params: list[object] = [day, day]
    if district:
        sql += " AND district = ?"
        params.append(district)
    seasons: list[Season] = []
    for row in conn.execute(sql + " ORDER BY season_id", params).fetchall():
        items = conn.execute(
            "SELECT initiative_id, titles, descriptions FROM vote_initiatives "
            "WHERE season_id = ? ORDER BY position, initiative_id",
            (row["season_id"],),
        ).fetchall()
        seasons.append(
            {
                "season_id": row["season_id"],
                "district": row["district"],
                "opens_on": row["opens_on"],
                "closes_on": row["closes_on"],
                "titles": json.loads(row["titles"]),
                "initiatives": [
                    {
                        "id": i["initiative_id"],
                        "titles": json.loads(i["titles"]),
                        "descriptions": json.loads(i["descriptions"]),
                    }
                    for i in items
                ],
            }
        )
    return seasons

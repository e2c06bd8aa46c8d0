"""`kiosk district show/set/list`: the real CLI in a subprocess over a real data dir.

The kiosk's district decides which open-budget seasons and petitions it shows
(docs/participation.md); it is set once at installation, audited, and a change
empties the kept copies of the last district's seasons and petitions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk import audit, district
from kiosk.store import Store


def setting(data_dir: Path, key: str) -> str | None:
    with Store.open(data_dir) as store:
        return store.get_setting(key)


def district_entries(data_dir: Path) -> list[dict]:
    with Store.open(data_dir) as store:
        rows = store.db.query("SELECT * FROM audit WHERE action = 'district_set' ORDER BY seq")
        return [{**row, "details": json.loads(row["details"])} for row in rows]


def test_a_new_kiosk_shows_the_demo_until_a_district_is_set(run_kiosk, data_dir: Path) -> None:
    shown = run_kiosk("district", "show")
    assert shown.returncode == 0, shown.stderr
    assert "not set (demo)" in shown.stdout and "kiosk district set" in shown.stdout
    as_json = json.loads(run_kiosk("district", "show", "--json").stdout)
    assert as_json["district"] == "demo" and as_json["set"] is False


def test_set_stores_the_code_audits_it_and_show_names_it(run_kiosk, data_dir: Path) -> None:
    done = run_kiosk("district", "set", "CHILANZAR")  # a code, any case
    assert done.returncode == 0, done.stderr
    assert "Chilonzor tumani (chilanzar)" in done.stdout
    assert setting(data_dir, "district") == "chilanzar"
    shown = run_kiosk("district", "show", "--lang", "ru")
    assert shown.stdout.strip() == "Район: Чиланзарский район (chilanzar)"
    shown = run_kiosk("district", "show", "--lang", "uz_Cyrl")
    assert shown.stdout.strip() == "Туман: Чилонзор тумани (chilanzar)"
    # The exact Latin name (any case, any apostrophe), and the name without "tumani"
    # when only one district has it.
    assert run_kiosk("district", "set", "qo'qon shahri").returncode == 0
    assert setting(data_dir, "district") == "kokand_city"
    assert run_kiosk("district", "set", "Urgut").returncode == 0
    assert setting(data_dir, "district") == "urgut"
    (first, second, third) = district_entries(data_dir)
    assert first["actor"] == "admin" and first["subject"] == "chilanzar"
    assert first["details"] == {"old": "demo", "new": "chilanzar"}
    assert second["details"] == {"old": "chilanzar", "new": "kokand_city"}
    assert third["details"] == {"old": "kokand_city", "new": "urgut"}
    with Store.open(data_dir) as store:
        assert audit.verify(store.db).ok
    # The same district again changes nothing and is not audited again.
    again = run_kiosk("district", "set", "urgut")
    assert again.returncode == 0 and "already" in again.stdout
    assert len(district_entries(data_dir)) == 3
    # Back to the demo: allowed.
    demo = run_kiosk("district", "set", "demo")
    assert demo.returncode == 0, demo.stderr
    assert setting(data_dir, "district") == "demo"
    assert district_entries(data_dir)[-1]["details"] == {"old": "urgut", "new": "demo"}


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("uz_Cyrl", "Номаълум туман: “Atlantis”. Рўйхатни кўринг: kiosk district list"),
        ("ru", "Неизвестный район: «Atlantis». Список: kiosk district list"),
    ],
    ids=["uz_Cyrl", "ru"],
)
def test_an_unknown_district_is_refused_in_the_operators_language(
    run_kiosk, data_dir: Path, lang: str, message: str
) -> None:
    assert run_kiosk("district", "set", "chilanzar").returncode == 0
    refused = run_kiosk("district", "set", "Atlantis", "--lang", lang)
    assert refused.returncode == 2
    assert refused.stderr.strip() == message
    assert refused.stdout == ""
    assert setting(data_dir, "district") == "chilanzar"  # nothing changed
    assert len(district_entries(data_dir)) == 1


def test_a_name_of_several_districts_is_refused_with_their_codes(run_kiosk, data_dir: Path) -> None:
    refused = run_kiosk("district", "set", "Buxoro", "--lang", "ru")
    assert refused.returncode == 2
    assert "bukhara_city" in refused.stderr and "bukhara_district" in refused.stderr
    assert "Укажите код" in refused.stderr
    assert setting(data_dir, "district") is None and district_entries(data_dir) == []


def test_setting_a_district_empties_the_kept_seasons_and_petitions(
    run_kiosk, data_dir: Path
) -> None:
    from sync.participation import load_petitions, load_seasons

    kept_season = [{"season_id": "s1", "district": "demo", "initiatives": []}]
    with Store.open(data_dir) as store:
        store.set_setting(district.SEASONS_CACHE, json.dumps(kept_season))
        store.set_setting(district.PETITIONS_CACHE, json.dumps([{"petition_id": "p1"}]))
    assert load_seasons(data_dir, online=False) == (kept_season, False)
    assert run_kiosk("district", "set", "yunusabad").returncode == 0
    assert setting(data_dir, district.SEASONS_CACHE) is None
    assert setting(data_dir, district.PETITIONS_CACHE) is None
    # Offline, the kiosk now shows nothing of the old district's.
    assert load_seasons(data_dir, online=False) == ([], False)
    assert load_petitions(data_dir, online=False) == ([], False)


def test_a_refused_district_keeps_the_kept_copies(run_kiosk, data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        store.set_setting(district.SEASONS_CACHE, "[]")
    assert run_kiosk("district", "set", "nowhere").returncode == 2
    assert setting(data_dir, district.SEASONS_CACHE) == "[]"


def test_list_names_the_districts_in_the_operators_language(run_kiosk) -> None:
    everything = run_kiosk("district", "list", "--json")
    assert everything.returncode == 0, everything.stderr
    rows = json.loads(everything.stdout)
    assert len(rows) == len(district.districts()) == 207
    listed = run_kiosk("district", "list", "--region", "tashkent_city", "--lang", "ru")
    lines = listed.stdout.splitlines()
    assert len(lines) == 12
    assert lines[1].split() == ["chilanzar", "Чиланзарский", "район"]
    uz = run_kiosk("district", "list", "--region", "Toshkent shahri", "--lang", "uz_Cyrl")
    assert uz.stdout.splitlines()[1].split() == ["chilanzar", "Чилонзор", "тумани"]
    kaa = run_kiosk("district", "list", "--region", "KARAKALPAKSTAN", "--lang", "kaa")
    assert kaa.stdout.splitlines()[0].split() == ["nukus_city", "Nukus", "shahri"]
    unknown = run_kiosk("district", "list", "--region", "Mars", "--lang", "ru")
    assert unknown.returncode == 2
    assert "Неизвестный регион: «Mars»" in unknown.stderr


def test_every_district_has_its_three_names() -> None:
    for row in district.districts():
        assert set(row.labels) == {"uz_Latn", "uz_Cyrl", "ru"}, row.code
        assert row.name("kaa") == row.name("uz_Latn") == row.latin
        assert row.region in {region.code for region in district.regions()}, row.code

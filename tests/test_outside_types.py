"""Question types of outside forms (issue 17): metadata the kiosk fills, time, dateTime,
range, rank, hidden, barcode; and the types a kiosk refuses, each with a reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

from kiosk.catalog import load_form_file
from kiosk.engine import FormSession
from kiosk.engine_values import BadValue, parse_datetime, parse_range, parse_time
from kiosk.xlsform_check import check_file
from kiosk.xlsform_types import classify

FORMS = Path(__file__).parent / "forms"
NOW = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def session(
    lang: str = "en", device_id: str | None = "dev-1", form_file: str = "outside_types.md"
) -> FormSession:
    form = load_form_file(FORMS / form_file)
    return FormSession(form, lang=lang, device_id=device_id, clock=lambda: NOW, today=NOW.date())


def test_every_type_pyxform_knows_is_classified() -> None:
    # An outside form never meets "unknown type": each runs, is filled, ignored or refused.
    unknown = [name for name in QUESTION_TYPE_DICT if not classify(name).known]
    assert unknown == []


@pytest.mark.parametrize(
    ("cell", "engine"),
    [
        ("barcode", "text"),
        ("hidden", "calculate"),
        ("time", "time"),
        ("dateTime", "dateTime"),
        ("range", "range"),
        ("rank fruit", "rank"),
        ("select one from yes_no", "select_one"),
        ("select all that apply from list or specify other", "select_multiple"),
        ("Select_One  colors", "select_one"),
        ("start", "calculate"),
        ("get device id", "calculate"),
    ],
)
def test_types_that_run(cell: str, engine: str) -> None:
    assert classify(cell).engine == engine


@pytest.mark.parametrize(
    "cell",
    [
        "geopoint",
        "geotrace",
        "geoshape",
        "image",
        "audio",
        "video",
        "file",
        "select_one_external places",
        "select_one_from_file places.geojson",
        "include other_form",
    ],
)
def test_types_a_kiosk_refuses_name_the_feature_and_an_alternative(cell: str) -> None:
    info = classify(cell)
    assert info.engine is None and info.refusal is not None
    assert info.refusal.feature and info.refusal.instead


@pytest.mark.parametrize(
    "cell", ["audit", "start-geopoint", "background-geopoint", "background-audio"]
)
def test_background_metadata_is_ignored_with_a_warning(cell: str, tmp_path: Path) -> None:
    assert classify(cell).ignored
    name = "audit" if cell == "audit" else "bg"  # as pyxform wants them
    trigger = "${a}" if cell == "background-geopoint" else ""
    path = tmp_path / "bg.md"
    path.write_text(
        "| survey |\n| | type | name | label | trigger |\n"
        f"| | text | a | A | |\n| | {cell} | {name} | | {trigger} |\n",
        encoding="utf-8",
    )
    issues = check_file(path)
    assert [i for i in issues if not i.warning] == []
    [issue] = [i for i in issues if i.column == "type"]
    assert issue.warning and issue.row == 3
    form = load_form_file(path)
    assert form.get(name) is None and form.get("a") is not None


def test_signature_is_an_image_with_its_appearance() -> None:
    refusal = classify("image", "signature").refusal
    assert refusal is not None and "signature" in refusal.feature


def test_metadata_is_filled_by_the_kiosk_and_holds_no_personal_data() -> None:
    s = session()
    payload = s.payload()
    assert payload["started"] == "2026-12-01T09:30:00+00:00"
    assert payload["ended"] == "2026-12-01T09:30:00+00:00"
    assert payload["day"] == "2026-12-01"
    assert str(payload["device"]).startswith("kiosk-")
    assert "dev-1" not in str(payload["device"])  # a pseudonym, not the id
    assert "user" not in payload and "phone" not in payload  # never a person's data
    assert "audit" not in payload  # ignored: the kiosk keeps its own audit log
    assert payload["source"] == "kiosk"  # a hidden field holds its default


def test_device_pseudonym_differs_between_forms_and_is_stable(tmp_path: Path) -> None:
    other = (FORMS / "outside_types.md").read_text(encoding="utf-8")
    (tmp_path / "other.md").write_text(
        other.replace("| outside_types |", "| other_form |"), encoding="utf-8"
    )
    a = session().payload()["device"]
    assert session().payload()["device"] == a
    b = FormSession(load_form_file(tmp_path / "other.md"), lang="en", device_id="dev-1")
    assert b.payload()["device"] != a
    assert "device" not in session(device_id=None).payload()


def test_start_survives_a_draft_and_end_is_when_the_payload_is_made() -> None:
    s = session()
    state = s.draft_state()
    later = NOW + dt.timedelta(hours=1)
    form = load_form_file(FORMS / "outside_types.md")
    resumed = FormSession.from_draft(form, state, clock=lambda: later)
    payload = resumed.payload()
    assert payload["started"] == "2026-12-01T09:30:00+00:00"
    assert payload["ended"] == "2026-12-01T10:30:00+00:00"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("9:05", "09:05:00"), ("09.05", "09:05:00"), ("23:59:59", "23:59:59"), ("", None)],
)
def test_time_input(raw: str, value: str | None) -> None:
    assert parse_time(raw) == value


@pytest.mark.parametrize("raw", ["24:00", "9:60", "nine", "9", "12:3"])
def test_time_input_refused(raw: str) -> None:
    with pytest.raises(BadValue):
        parse_time(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("05.03.2024 9:05", "2024-03-05T09:05:00"),
        ("2024-03-05T09:05:00.000+05:00", "2024-03-05T09:05:00"),
        ("2024-03-05 09:05", "2024-03-05T09:05:00"),
    ],
)
def test_datetime_input(raw: str, value: str) -> None:
    assert parse_datetime(raw) == value


@pytest.mark.parametrize(
    "raw", ["05.03.2024", "31.02.2024 10:00", "today 10:00", "2024-03-05T25:00"]
)
def test_datetime_input_refused(raw: str) -> None:
    with pytest.raises(BadValue):
        parse_datetime(raw)


def test_time_and_datetime_errors_are_translated() -> None:
    s = session("ru")
    [error] = s.set("opens", "25:00")
    assert error.code == "type" and "ЧЧ:ММ" in error.message
    assert s.set("opens", "8:30") == []
    assert s.value("opens") == "08:30:00"
    [error] = s.set("visit", "05.03.2024")
    assert error.code == "type" and "Визит" in error.message
    assert s.set("visit", "05.03.2024 14:00") == []


def test_range_takes_numbers_on_its_scale() -> None:
    s = session("ru")
    assert parse_range("3") == 3 and parse_range("2,5") == 2.5
    [error] = s.set("rooms", "11")
    assert error.code == "range" and "1" in error.message and "9" in error.message
    [error] = s.set("rooms", "4")  # 1, 3, 5, 7, 9
    assert error.code == "range" and "2" in error.message
    assert s.set("rooms", "5") == []
    assert s.value("rooms") == 5


def test_rank_needs_every_option_in_order() -> None:
    s = session()
    [error] = s.set("best", ["pear"])
    assert error.code == "choice"
    [error] = s.set("best", ["pear", "apple", "kiwi"])
    assert error.code == "choice"
    assert s.set("best", ["pear", "plum", "apple"]) == []
    assert s.value("best") == ["pear", "plum", "apple"]
    item = next(i for i in s.review() if i.ref == "best")
    assert item.display == "Pear, Plum, Apple"


def test_barcode_is_typed_text() -> None:
    s = session()
    assert s.set("code", "4780000000015") == []
    assert s.value("code") == "4780000000015"


def test_refused_type_is_not_loaded_and_check_says_why(tmp_path: Path) -> None:
    text = (FORMS / "outside_types.md").read_text(encoding="utf-8")
    path = tmp_path / "gps.md"
    path.write_text(text.replace("| barcode | code |", "| geopoint | code |"), encoding="utf-8")
    [issue] = [i for i in check_file(path) if not i.warning]
    assert (issue.sheet, issue.row, issue.column, issue.kind) == ("survey", 10, "type", "kiosk")
    with pytest.raises(ValueError, match="geopoint"):
        load_form_file(path)

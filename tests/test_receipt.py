"""Receipt content and the QR code of a tracking code: it must decode (zbarimg)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.receipt import (
    QUIET_ZONE,
    Receipt,
    build_receipt,
    half_block_lines,
    matrix_to_pgm,
    qr_matrix,
    status_link,
)
from tests.zbar import decode, needs_zbar


def test_matrix_has_a_light_quiet_zone_all_round() -> None:
    matrix = qr_matrix("K7M4QXPR")
    size = len(matrix)
    assert all(len(row) == size for row in matrix)
    for i in range(QUIET_ZONE):
        assert not any(matrix[i]) and not any(matrix[size - 1 - i])
        assert not any(row[i] for row in matrix) and not any(row[size - 1 - i] for row in matrix)
    # The finder pattern's dark corner sits right inside the quiet zone.
    assert matrix[QUIET_ZONE][QUIET_ZONE]


def test_half_blocks_pack_two_rows_per_line() -> None:
    matrix = [[True, False, True], [True, True, False], [False, True, False]]
    assert half_block_lines(matrix) == ["█▄▀", " ▀ "]


def test_half_blocks_of_a_real_code_keep_every_module() -> None:
    matrix = qr_matrix("ABC-2345-6")
    lines = half_block_lines(matrix)
    assert len(lines) == (len(matrix) + 1) // 2
    assert {len(line) for line in lines} == {len(matrix)}
    top = {"█", "▀"}
    bottom = {"█", "▄"}
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            assert (lines[y // 2][x] in (top if y % 2 == 0 else bottom)) == dark


def test_empty_text_is_refused() -> None:
    with pytest.raises(ValueError):
        qr_matrix("")


@needs_zbar
@pytest.mark.parametrize("code", ["K7M4QXPR", "ABC23456789XYZ", "2345-6789-ABCD"])
def test_matrix_decodes_to_the_code(tmp_path: Path, code: str) -> None:
    image = tmp_path / "qr.pgm"
    image.write_bytes(matrix_to_pgm(qr_matrix(code)))
    assert decode(image) == [code]


@needs_zbar
def test_half_block_text_rendered_as_pixels_decodes(tmp_path: Path) -> None:
    """Rebuild pixels from the characters (as a terminal draws them) and decode."""
    code = "K7M4QXPR"
    lines = half_block_lines(qr_matrix(code))
    rows: list[list[bool]] = []
    for line in lines:
        rows.append([ch in "█▀" for ch in line])
        rows.append([ch in "█▄" for ch in line])
    image = tmp_path / "text.pgm"
    image.write_bytes(matrix_to_pgm(rows, scale=6))
    assert decode(image) == [code]


@dataclass
class _Form:
    def title(self, lang: str) -> str:
        return {"ru": "Справка"}.get(lang, "Maʼlumotnoma")

    def documents(self, lang: str) -> list[str]:
        return ["Pasport", "Foto 3x4"] if lang != "ru" else ["Паспорт", "Фото 3x4"]


@dataclass
class _Submission:
    tracking_code: str = "K7M4QXPR"
    created_at: str = "2026-03-21T09:30:00+00:00"


def test_build_receipt_takes_the_submission_language() -> None:
    receipt = build_receipt(_Form(), _Submission(), "ru")
    assert receipt == Receipt(
        "K7M4QXPR", "Справка", "2026-03-21T09:30:00+00:00", ["Паспорт", "Фото 3x4"], "ru"
    )
    assert receipt.qr_lines == half_block_lines(qr_matrix("K7M4QXPR"))


def _decode_lines(tmp_path: Path, receipt: Receipt) -> list[str]:
    """Pixels rebuilt from the receipt's half-block lines (as drawn), read by zbarimg."""
    rows: list[list[bool]] = []
    for line in receipt.qr_lines:
        rows.append([ch in "█▀" for ch in line])
        rows.append([ch in "█▄" for ch in line])
    image = tmp_path / "receipt.pgm"
    image.write_bytes(matrix_to_pgm(rows, scale=6))
    return decode(image)


@needs_zbar
def test_qr_holds_the_status_link_where_the_public_address_is_known(tmp_path: Path) -> None:
    code = "K7MB3AZQXF"
    linked = Receipt(code, "Maʼlumotnoma", "2026-03-21", public_url="https://my.example.uz/portal/")
    assert linked.qr_text == "https://my.example.uz/portal/s/K7MB3AZQXF"
    assert _decode_lines(tmp_path, linked) == ["https://my.example.uz/portal/s/K7MB3AZQXF"]


@needs_zbar
def test_qr_holds_the_bare_code_without_a_public_address(tmp_path: Path) -> None:
    bare = Receipt("K7MB3AZQXF", "Maʼlumotnoma", "2026-03-21")  # offline install, the demo
    assert bare.qr_text == "K7MB3AZQXF"
    assert _decode_lines(tmp_path, bare) == ["K7MB3AZQXF"]


def test_status_link() -> None:
    assert status_link("K7MB3AZQXF", None) == "K7MB3AZQXF"
    assert status_link("K7MB3AZQXF", "") == "K7MB3AZQXF"
    assert status_link("K7MB3AZQXF", "https://a.uz") == "https://a.uz/s/K7MB3AZQXF"

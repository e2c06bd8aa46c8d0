"""The receipt's QR code, as drawn in the terminal, decodes to the tracking code, or to
the status page's link where the portal's public address is configured; the code is
printed under it either way.

The screen is exported as an SVG screenshot (what Textual draws, cell by cell),
rendered to PNG with cairosvg and read with zbarimg, as a phone camera would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button

from kiosk import tracking
from kiosk.receipt import Receipt
from screens.receipt import ReceiptScreen
from screens.widgets.qr import QRCode
from tests.ui.driver import ready
from tests.zbar import decode, needs_zbar

cairosvg = pytest.importorskip("cairosvg", reason="cairosvg renders the SVG screenshot")
pytestmark = needs_zbar


PUBLIC = "https://mahalla.example.uz"


@pytest.mark.parametrize("public_url", [None, PUBLIC], ids=["bare", "link"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24), (60, 20)], ids=["120x40", "80x24", "60x20"])
@pytest.mark.parametrize("contrast", [False, True], ids=["default", "contrast"])
async def test_qr_on_screen_decodes(
    make_app,
    tmp_path: Path,
    speech,
    contrast: bool,
    size: tuple[int, int],
    public_url: str | None,
) -> None:
    code = tracking.new_code("K7M")
    receipt = Receipt(
        code, "Maʼlumotnoma", "2026-03-21T09:30:00+00:00", ["Pasport"], "uz_Latn", public_url
    )
    app = make_app(high_contrast=contrast)
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await app.push_screen(ReceiptScreen(receipt))
        await pilot.pause()
        qr = app.screen.query_one(QRCode)
        # The whole code and its quiet zone are on screen, not clipped.
        assert app.screen.region.contains_region(qr.region)
        # ... and no button lies over any of it.
        for button in app.screen.query(Button):
            assert not button.region.overlaps(qr.region), button
        if size[1] >= 24:  # the code under the QR, either way (beside it when short)
            printed = app.screen.query_one("#receipt-qr-code")
            assert str(printed.render()) == tracking.format_code(code)
            assert printed.region.y >= qr.region.bottom
            assert app.screen.region.contains_region(printed.region)
        svg = app.export_screenshot()
        # The code is spoken symbol by symbol.
        from kiosk.speech.prepare import code_prompt

        assert any(code_prompt(code, "uz_Latn") in text for text in speech.private)
    png = tmp_path / "receipt.png"
    cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(png), scale=2)
    # The link's QR (17 rows with the narrow quiet zone) fits whole only on a tall
    # screen; below that the bare code's is shown, never a QR cut off by the buttons.
    tall = size[1] >= 40
    expected = f"{PUBLIC}/s/{code}" if public_url and tall else code
    assert decode(png) == [expected]

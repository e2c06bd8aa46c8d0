"""A QR code drawn with half-block characters, dark ink on a light ground.

The colours are fixed (not taken from the theme): phone scanners need dark modules
on a light background with a quiet zone, whatever the kiosk's theme is.
Cells whose two modules are alike are drawn as a coloured space rather than a glyph:
terminals and SVG screenshots fill a cell's background exactly, while a block glyph
may leave a hairline between rows that breaks decoding.
"""

from __future__ import annotations

from textual.content import Content, Span
from textual.widgets import Static

DARK = "#000000"
LIGHT = "#ffffff"


def qr_content(text: str, border: int | None = None) -> Content:
    """The QR code of ``text`` as styled text, two module rows per line; ``border``:
    the quiet zone in modules (None: the receipt's own, kiosk.receipt.QUIET_ZONE)."""
    # Here, not at the top: the app imports every screen at start-up, and qrcode is
    # needed only once a receipt is shown.
    from kiosk.receipt import QUIET_ZONE, half_block_lines, qr_matrix

    lines = half_block_lines(qr_matrix(text, QUIET_ZONE if border is None else border))
    plain: list[str] = []
    spans: list[Span] = []
    offset = 0
    for line in lines:
        for ch in line:
            if ch == "█":
                plain.append(" ")
                spans.append(Span(offset, offset + 1, f"on {DARK}"))
            else:
                plain.append(ch)
                spans.append(Span(offset, offset + 1, f"{DARK} on {LIGHT}"))
            offset += 1
        plain.append("\n")
        offset += 1
    return Content("".join(plain).rstrip("\n"), spans)


def qr_rows(text: str, border: int | None = None) -> int:
    """How many terminal rows the QR code of ``text`` takes (two module rows a line)."""
    from kiosk.receipt import QUIET_ZONE, qr_matrix

    return (len(qr_matrix(text, QUIET_ZONE if border is None else border)) + 1) // 2


class QRCode(Static):
    """The QR code of ``text``; its size follows the code, never the container."""

    DEFAULT_CSS = """
    QRCode {
        width: auto;
        height: auto;
        color: #000000;
        background: #ffffff;
        text-style: none;
    }
    """

    def __init__(self, text: str, *, id: str | None = None, classes: str | None = None):
        self.text = text
        self.border: int | None = None
        super().__init__(qr_content(text), id=id, classes=classes, markup=False)

    def show(self, text: str, border: int | None = None) -> None:
        """Draw the QR code of ``text`` with a quiet zone of ``border`` modules (None: the
        standard one; a scanner reads two where rows are few); nothing redrawn if the
        same."""
        if (text, border) != (self.text, self.border):
            self.text, self.border = text, border
            self.update(qr_content(text, border))

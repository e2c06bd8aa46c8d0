"""What a receipt says, and the QR code of its tracking code (no UI here).

Where the kiosk knows the portal's public address (`KioskConfig.portal_public_url`),
the QR holds the status page's link, ``<address>/s/<code>`` (docs/status-page.md), so a
phone's camera opens it; else (offline installs, the demo's loopback portal) the bare
code. Either way the code is printed under the QR.

The QR matrix keeps a quiet zone (4 modules, as ISO/IEC 18004 asks) so that a phone
can find the code on screen. ``half_block_lines`` packs two module rows into one text
row with the upper/lower half-block characters: a terminal cell is about twice as tall
as it is wide, so the code comes out square and fits an 80x24 screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import qrcode
from qrcode.constants import ERROR_CORRECT_M

if TYPE_CHECKING:
    from kiosk.form import Form
    from kiosk.store import Submission

QUIET_ZONE = 4

# Index: (upper module dark, lower module dark). Drawn as foreground = dark ink on a
# light background, so "█" is two dark modules and " " two light ones.
_HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_matrix(text: str, border: int = QUIET_ZONE) -> list[list[bool]]:
    """The QR modules of ``text`` (True = dark), quiet zone included."""
    if not text:
        raise ValueError("cannot encode an empty text as a QR code")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def half_block_lines(matrix: Sequence[Sequence[bool]]) -> list[str]:
    """Two module rows per text row; an odd last row is padded with light modules."""
    lines = []
    width = len(matrix[0]) if matrix else 0
    for top in range(0, len(matrix), 2):
        upper = matrix[top]
        lower = matrix[top + 1] if top + 1 < len(matrix) else [False] * width
        lines.append(
            "".join(_HALF_BLOCKS[(bool(u), bool(d))] for u, d in zip(upper, lower, strict=True))
        )
    return lines


def matrix_to_pgm(matrix: Sequence[Sequence[bool]], scale: int = 8) -> bytes:
    """A binary PGM image of the matrix (for decoders such as zbarimg and for printing)."""
    width = (len(matrix[0]) if matrix else 0) * scale
    height = len(matrix) * scale
    rows = bytearray()
    for row in matrix:
        line = bytes(0 if dark else 255 for dark in row for _ in range(scale))
        rows += line * scale
    return b"P5 %d %d 255\n" % (width, height) + bytes(rows)


STATUS_PATH = "/s/"  # the portal's citizen status page (sync.portal.status_page)


def status_link(tracking_code: str, public_url: str | None) -> str:
    """What the receipt's QR holds: the status page's address, or the bare code."""
    if not public_url:
        return tracking_code
    return public_url.rstrip("/") + STATUS_PATH + tracking_code


@dataclass(frozen=True)
class Receipt:
    """Everything the receipt screen shows and speaks."""

    tracking_code: str
    form_title: str
    created_at: datetime | str
    documents: list[str] = field(default_factory=list)
    lang: str = "uz_Latn"
    # The portal's public https address (validated by kiosk.config); None: bare code.
    public_url: str | None = None

    @property
    def qr_text(self) -> str:
        """What the QR holds (`status_link`)."""
        return status_link(self.tracking_code, self.public_url)

    @property
    def qr_lines(self) -> list[str]:
        return half_block_lines(qr_matrix(self.qr_text))


def build_receipt(
    form: Form, submission: Submission, lang: str, public_url: str | None = None
) -> Receipt:
    """A receipt from a ``kiosk.form.Form`` and a ``kiosk.store.Submission``."""
    return Receipt(
        tracking_code=submission.tracking_code,
        form_title=form.title(lang),
        created_at=submission.created_at,
        documents=list(form.documents(lang)),
        lang=lang,
        public_url=public_url,
    )

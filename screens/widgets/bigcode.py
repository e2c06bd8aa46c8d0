"""A tracking code in large type: a 3x5 pixel font drawn with half blocks (3 rows).

Terminals have one font size, so "large" means drawing each symbol from blocks. The
font covers the tracking-code alphabet (no 0/O, 1/I/L) and the dash; M, N, Q and W
are wider so that they stay distinct. Beneath, the plain code with spaces between
the symbols (easier to copy by eye); where the large code does not fit the width,
only that plain line is drawn. The widget is the one place a screen shows the code,
so a narrow terminal never shows the plain code twice.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from kiosk import tracking

# "#" = ink. Five pixel rows per glyph; widths vary (3 to 5).
FONT: dict[str, tuple[str, ...]] = {
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "A": (".#.", "#.#", "###", "#.#", "#.#"),
    "B": ("##.", "#.#", "##.", "#.#", "##."),
    "C": (".##", "#..", "#..", "#..", ".##"),
    "D": ("##.", "#.#", "#.#", "#.#", "##."),
    "E": ("###", "#..", "###", "#..", "###"),
    "F": ("###", "#..", "###", "#..", "#.."),
    "G": (".##", "#..", "#.#", "#.#", ".##"),
    "H": ("#.#", "#.#", "###", "#.#", "#.#"),
    "J": ("..#", "..#", "..#", "#.#", ".#."),
    "K": ("#.#", "#.#", "##.", "#.#", "#.#"),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),
    "N": ("#..#", "##.#", "#.##", "#..#", "#..#"),
    "P": ("##.", "#.#", "##.", "#..", "#.."),
    "Q": (".##.", "#..#", "#..#", "#.##", ".###"),
    "R": ("##.", "#.#", "##.", "#.#", "#.#"),
    "S": (".##", "#..", ".#.", "..#", "##."),
    "T": ("###", ".#.", ".#.", ".#.", ".#."),
    "U": ("#.#", "#.#", "#.#", "#.#", "###"),
    "V": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "Y": ("#.#", "#.#", ".#.", ".#.", ".#."),
    "Z": ("###", "..#", ".#.", "#..", "###"),
    "-": ("..", "..", "##", "..", ".."),
}
_CELLS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def big_lines(text: str) -> list[str]:
    """Three text rows drawing ``text`` (symbols outside the font are skipped)."""
    pixels = ["", "", "", "", "", ""]  # five rows of ink and a blank sixth
    glyphs = [FONT[ch] for ch in text.upper() if ch in FONT]
    for n, glyph in enumerate(glyphs):
        gap = "." if n else ""
        for row in range(5):
            pixels[row] += gap + glyph[row]
        pixels[5] += gap + "." * len(glyph[0])
    return [
        "".join(_CELLS[(a == "#", b == "#")] for a, b in zip(top, bottom, strict=True))
        for top, bottom in zip(pixels[0::2], pixels[1::2], strict=True)
    ]


class BigCode(Widget):
    """The code drawn large above the spaced plain code, or only the latter when the
    width is too small (four rows, or one)."""

    DEFAULT_CSS = """
    BigCode {
        height: auto;
        width: 1fr;
        text-style: bold;
    }
    """

    def __init__(self, code: str, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.code = tracking.format_code(code)
        self.lines = big_lines(self.code)
        self.spaced = " ".join(self.code)

    def fits(self, width: int) -> bool:
        """Whether the large code fits ``width`` columns."""
        return len(self.lines[0]) <= width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines) + 1 if self.fits(width) else 1

    def render(self) -> Content:
        if self.size.width and not self.fits(self.size.width):
            return Content(self.spaced)
        return Content("\n".join([*self.lines, self.spaced]))
